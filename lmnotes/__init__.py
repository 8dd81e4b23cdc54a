"""lmnotes: executable notes on language-model training batches and attention masks.

One module, one concept; the pages import what they explain from the module of that name
(``from lmnotes.masks import causal_mask``):

- :mod:`lmnotes.assets`: real tokenizers and a real small causal LM, offline, checked by SHA-256;
- :mod:`lmnotes.mlm`: masked-LM masking (the 80/10/10 rule), identical to the library's collator;
- :mod:`lmnotes.whole_word`: whole-word masking, words read from the tokens' offsets;
- :mod:`lmnotes.clm`: causal-LM labels, the shift inside the loss, the pad = eos pitfall;
- :mod:`lmnotes.seq2seq`: encoder-decoder labels, the shift on the decoder's input side;
- :mod:`lmnotes.instruct`: instruction tuning, labels on the answer only (prompt masking);
- :mod:`lmnotes.loss_normalisation`: the mean per token, gradient accumulation and
  ``num_items_in_batch``;
- :mod:`lmnotes.masks`: causal, padding and cross-attention masks, boolean and additive;
  position ids read from a padding mask;
- :mod:`lmnotes.attention`: reference scaled dot-product attention, self and cross;
- :mod:`lmnotes.generation`: teacher forcing against generation one token at a time;
- :mod:`lmnotes.batched_generation`: generating a left-padded batch, the position ids it needs;
- :mod:`lmnotes.packing`: padding waste and padding-free (packed) batches;
- :mod:`lmnotes.probes`: executable evidence (causality, padding invariance, cross-attention);
- :mod:`lmnotes.inspection`: the masks and attention inputs transformers builds, captured;
- :mod:`lmnotes.tiny`: tiny random models and toy tokenizers for readable examples;
- :mod:`lmnotes.machine`: measuring this machine (throughput, CPU description);
- :mod:`lmnotes.display`: token tables and mask figures;
- :mod:`lmnotes.explorer`: the data the in-browser batch explorer needs (real tokenizers);
- :mod:`lmnotes.compat`: one lmnotes for every supported transformers release;
- :mod:`lmnotes.messages`: the words of an output, marked so the site shows them in its language.

Modules whose name starts with ``_`` hold private helpers shared by the others.
``import lmnotes`` loads neither torch nor transformers.
"""

from lmnotes import messages as _messages

__version__ = "0.1.0"

# In a docs build's kernel (LMNOTES_MESSAGES=1), the words the cells print become messages
# from the first import of lmnotes on; anywhere else this does nothing.
_messages.register_in_docs_kernel()
del _messages
