"""Tiny models and tokenizers for readable examples: random GPT-2, BERT, BART, Llama; toy vocab.

Hidden size 32, 2 layers, 2 heads, a vocabulary of 100 ids (0-2 special, the rest
"words"), weights drawn under a fixed seed: the same numbers on every machine, in
milliseconds. :func:`bert_tokenizer` builds a WordPiece tokenizer from a handful of words.
The probes and the pages use them wherever a real model or vocabulary is not needed; the
real ones come from :mod:`lmnotes.assets`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from transformers import (
    BartConfig,
    BartForConditionalGeneration,
    BartModel,
    BertConfig,
    BertForMaskedLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
)

from lmnotes._checks import check_int

__all__ = [
    "TINY_VOCAB_SIZE",
    "TINY_FIRST_WORD_ID",
    "TINY_HIDDEN_SIZE",
    "TINY_INIT_STD",
    "tiny_gpt2",
    "tiny_bert",
    "tiny_bart",
    "tiny_bart_lm",
    "tiny_llama",
    "tiny_llama_config",
    "random_word_ids",
    "bert_tokenizer",
    "word_tokenizer",
]

#: Vocabulary size of the tiny random models; ids 0-2 are special (bos/pad/eos), 3-99 "words".
TINY_VOCAB_SIZE = 100
#: The first "word" id of the tiny models: ids below it are special.
TINY_FIRST_WORD_ID = 3
#: Hidden size of the tiny models.
TINY_HIDDEN_SIZE = 32
_HIDDEN = TINY_HIDDEN_SIZE
_LAYERS = 2
_HEADS = 2
_FFN = 64
_MAX_POSITIONS = 64
#: Standard deviation of the tiny models' initial weights: 0.1 rather than transformers' 0.02, so
#: that attention is far from uniform (as in a trained model) and the effects are easy to see.
TINY_INIT_STD = 0.1


#: Special ids of the tiny BART and Llama (those of the real BART): bos 0, pad 1, eos 2.
_SPECIAL_IDS = {"bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2}


def _config(config_class: type, attn_implementation: str, **fields: object):
    """``config_class`` with the tiny vocabulary and ``attn_implementation`` beside ``fields``."""
    return config_class(
        vocab_size=TINY_VOCAB_SIZE, attn_implementation=attn_implementation, **fields
    )


def _build(model_class: type, config, seed: int) -> PreTrainedModel:
    """``model_class(config)`` in eval mode, its weights drawn under ``seed``.

    The caller's RNG is left untouched.
    """
    check_int(seed, "seed")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_class(config)
    return model.eval()


def tiny_gpt2(seed: int = 0, attn_implementation: str = "eager") -> GPT2LMHeadModel:
    """A tiny randomly initialised GPT-2 (learned absolute positions, causal attention).

    Parameters
    ----------
    seed : int, default 0
        Seed of the weight initialisation.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend; "eager" receives an additive float mask, "sdpa" a boolean one.

    Returns
    -------
    model : GPT2LMHeadModel
        In eval mode; ``bos = eos = 0`` and no pad token, like the real GPT-2.

    Examples
    --------
    >>> from lmnotes.tiny import tiny_gpt2
    >>> model = tiny_gpt2()
    >>> model.config.n_embd, model.config.n_layer, model.config.vocab_size, model.training
    (32, 2, 100, False)
    """
    config = _config(
        GPT2Config,
        attn_implementation,
        n_positions=_MAX_POSITIONS,
        n_embd=_HIDDEN,
        n_layer=_LAYERS,
        n_head=_HEADS,
        n_inner=_FFN,
        initializer_range=TINY_INIT_STD,
        bos_token_id=0,
        eos_token_id=0,
    )
    model = _build(GPT2LMHeadModel, config, seed)
    # transformers infers the loss from the class name, which "GPT2LMHeadModel" does not match;
    # it falls back to this same loss with a warning, so name it explicitly.
    model.loss_type = "ForCausalLM"
    return model


def tiny_bert(seed: int = 0, attn_implementation: str = "eager") -> BertForMaskedLM:
    """A tiny randomly initialised BERT masked LM (bidirectional attention).

    Parameters
    ----------
    seed : int, default 0
        Seed of the weight initialisation.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend.

    Returns
    -------
    model : BertForMaskedLM
        In eval mode, ``pad_token_id = 1``.

    Examples
    --------
    >>> from lmnotes.tiny import tiny_bert
    >>> tiny_bert().config.is_decoder
    False
    """
    config = _config(
        BertConfig,
        attn_implementation,
        hidden_size=_HIDDEN,
        num_hidden_layers=_LAYERS,
        num_attention_heads=_HEADS,
        intermediate_size=_FFN,
        max_position_embeddings=_MAX_POSITIONS,
        pad_token_id=1,
        initializer_range=TINY_INIT_STD,
    )
    return _build(BertForMaskedLM, config, seed)


def tiny_bart(seed: int = 0, attn_implementation: str = "eager") -> BartModel:
    """A tiny randomly initialised BART encoder-decoder (the decoder cross-attends to the encoder).

    Parameters
    ----------
    seed : int, default 0
        Seed of the weight initialisation.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend.

    Returns
    -------
    model : BartModel
        In eval mode; ``bos = 0``, ``pad = 1``, ``eos = 2`` as in the real BART.

    Examples
    --------
    >>> from lmnotes.tiny import tiny_bart
    >>> model = tiny_bart()
    >>> model.config.is_encoder_decoder, model.config.pad_token_id
    (True, 1)
    """
    return _build(BartModel, _bart_config(attn_implementation), seed)


def tiny_bart_lm(seed: int = 0, attn_implementation: str = "eager") -> BartForConditionalGeneration:
    """:func:`tiny_bart` with its language-model head: it takes ``labels`` and returns a loss.

    Parameters
    ----------
    seed : int, default 0
        Seed of the weight initialisation.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend.

    Returns
    -------
    model : BartForConditionalGeneration
        In eval mode; ``bos = 0``, ``pad = 1``, ``eos = 2`` and ``decoder_start_token_id = 2``
        as in the real BART.

    Examples
    --------
    >>> from lmnotes.tiny import tiny_bart_lm
    >>> model = tiny_bart_lm()
    >>> model.config.decoder_start_token_id, model.config.vocab_size
    (2, 100)
    """
    return _build(BartForConditionalGeneration, _bart_config(attn_implementation), seed)


def _bart_config(attn_implementation: str) -> BartConfig:
    """The configuration of the tiny BART models."""
    return _config(
        BartConfig,
        attn_implementation,
        d_model=_HIDDEN,
        encoder_layers=_LAYERS,
        decoder_layers=_LAYERS,
        encoder_attention_heads=_HEADS,
        decoder_attention_heads=_HEADS,
        encoder_ffn_dim=_FFN,
        decoder_ffn_dim=_FFN,
        max_position_embeddings=_MAX_POSITIONS,
        **_SPECIAL_IDS,
        decoder_start_token_id=2,
        init_std=TINY_INIT_STD,
        forced_eos_token_id=None,
    )


def tiny_llama(seed: int = 0, attn_implementation: str = "eager") -> LlamaForCausalLM:
    """A tiny randomly initialised Llama (rotary positions, causal attention).

    Parameters
    ----------
    seed : int, default 0
        Seed of the weight initialisation.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend.

    Returns
    -------
    model : LlamaForCausalLM
        In eval mode; ``bos = 0``, ``pad = 1``, ``eos = 2``.

    Examples
    --------
    >>> from lmnotes.tiny import tiny_llama
    >>> tiny_llama().config.hidden_size
    32
    """
    return _build(LlamaForCausalLM, tiny_llama_config(attn_implementation), seed)


def tiny_llama_config(attn_implementation: str = "eager") -> LlamaConfig:
    """The configuration of :func:`tiny_llama`, without building the model.

    Parameters
    ----------
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend.

    Returns
    -------
    config : LlamaConfig

    Examples
    --------
    >>> from lmnotes.tiny import tiny_llama_config
    >>> config = tiny_llama_config("sdpa")
    >>> config.hidden_size, config.num_hidden_layers, config.pad_token_id
    (32, 2, 1)
    """
    return _config(
        LlamaConfig,
        attn_implementation,
        hidden_size=_HIDDEN,
        intermediate_size=_FFN,
        num_hidden_layers=_LAYERS,
        num_attention_heads=_HEADS,
        num_key_value_heads=_HEADS,
        max_position_embeddings=_MAX_POSITIONS,
        **_SPECIAL_IDS,
        initializer_range=TINY_INIT_STD,
    )


def random_word_ids(
    length: int, seed: int, *, vocab_size: int = TINY_VOCAB_SIZE, batch: int = 1
) -> torch.Tensor:
    """Random "word" ids (never a special id of the tiny models), drawn under ``seed``.

    Parameters
    ----------
    length : int
        Tokens per row (at least 1).
    seed : int
        Seed of a private generator: the caller's RNG is left untouched.
    vocab_size : int, default TINY_VOCAB_SIZE
        Ids are drawn from ``TINY_FIRST_WORD_ID .. vocab_size - 1``.
    batch : int, default 1
        Rows.

    Returns
    -------
    ids : (batch, length) int64

    Examples
    --------
    >>> from lmnotes.tiny import TINY_FIRST_WORD_ID, random_word_ids
    >>> ids = random_word_ids(5, seed=0, batch=2)
    >>> ids.shape, bool((ids >= TINY_FIRST_WORD_ID).all())
    (torch.Size([2, 5]), True)
    """
    length = check_int(length, "length", minimum=1)
    batch = check_int(batch, "batch", minimum=1)
    vocab_size = check_int(vocab_size, "vocab_size", minimum=TINY_FIRST_WORD_ID + 1)
    generator = torch.Generator().manual_seed(check_int(seed, "seed"))
    return torch.randint(TINY_FIRST_WORD_ID, vocab_size, (batch, length), generator=generator)


_BERT_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def bert_tokenizer(vocab: Sequence[str] | Mapping[str, int], *, lowercase: bool = True):
    """A BERT WordPiece tokenizer built from an in-memory vocabulary.

    ``BertTokenizer(vocab={...})`` accepts an in-memory vocabulary since transformers 5.0;
    4.x needs a vocabulary file. This builds the same fast tokenizer on 4.57 and 5.x: a
    ``tokenizers`` WordPiece model with BERT's normalizer, pre-tokenizer and
    ``[CLS] A [SEP]`` template, wrapped in ``transformers.BertTokenizerFast``
    (``BertTokenizer`` in 5.x). Useful for small,
    readable examples; real vocabularies come from :func:`lmnotes.assets.load_tokenizer`.

    Parameters
    ----------
    vocab : sequence of str, or mapping str -> int
        The tokens, in id order (a list), or each token's id (a mapping; ids must be
        ``0 .. len(vocab) - 1``). Must contain ``[PAD]``, ``[UNK]``, ``[CLS]``, ``[SEP]``
        and ``[MASK]``; continuation pieces start with ``##``.
    lowercase : bool, default True
        Lowercase the text before splitting it (as ``bert-base-uncased``).

    Returns
    -------
    tokenizer : transformers.BertTokenizerFast
        Fast tokenizer (offset mappings available, as whole-word masking needs).

    Raises
    ------
    TypeError
        If ``vocab`` is not a sequence or mapping of strings.
    ValueError
        If ``vocab`` is empty, repeats a token, lacks a BERT special token, or (mapping)
        its ids are not ``0 .. len(vocab) - 1``.

    Examples
    --------
    >>> from lmnotes.tiny import bert_tokenizer
    >>> tokenizer = bert_tokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat"])
    >>> tokenizer("The cat")["input_ids"]
    [2, 5, 6, 3]
    >>> tokenizer.mask_token_id, tokenizer.pad_token_id, len(tokenizer)
    (4, 0, 7)
    """
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import BertTokenizerFast

    if isinstance(vocab, Mapping):
        ids = dict(vocab)
    elif isinstance(vocab, Sequence) and not isinstance(vocab, (str, bytes)):
        ids = {token: i for i, token in enumerate(vocab)}
        if len(ids) != len(vocab):
            raise ValueError("vocab must not repeat a token")
    else:
        raise TypeError(
            "vocab must be a sequence of tokens or a mapping token -> id, "
            f"got {type(vocab).__name__}"
        )
    if not ids:
        raise ValueError("vocab must not be empty")
    if not all(isinstance(token, str) for token in ids):
        raise TypeError("vocab must hold str tokens")
    if sorted(ids.values()) != list(range(len(ids))):
        raise ValueError(f"vocab ids must be 0 .. {len(ids) - 1}, each once")
    missing = [token for token in _BERT_SPECIAL if token not in ids]
    if missing:
        raise ValueError(f"vocab must contain the BERT special tokens; missing {missing}")

    backend = Tokenizer(WordPiece(ids, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])],
    )
    backend.decoder = decoders.WordPiece()
    return BertTokenizerFast(tokenizer_object=backend, do_lower_case=lowercase)


def word_tokenizer():
    """A tokenizer for the tiny models: ``<s>``, ``<pad>``, ``</s>``, then the words ``w3 .. w99``.

    Id ``i`` is the word ``w{i}`` (ids 0-2 are the special tokens of the tiny BART and
    Llama), so a text reads as its ids. Texts are split on spaces and framed as
    ``<s> ... </s>``, as BART's tokenizer does.

    Returns
    -------
    tokenizer : transformers.PreTrainedTokenizerFast
        ``bos_token_id = 0``, ``pad_token_id = 1``, ``eos_token_id = 2``; padding on the right.

    Examples
    --------
    >>> from lmnotes.tiny import word_tokenizer
    >>> tokenizer = word_tokenizer()
    >>> tokenizer("w5 w17 w42")["input_ids"]
    [0, 5, 17, 42, 2]
    >>> tokenizer.pad_token_id, len(tokenizer), sorted(tokenizer("w5").keys())
    (1, 100, ['attention_mask', 'input_ids'])
    """
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    special = ["<s>", "<pad>", "</s>"]
    vocab = {token: i for i, token in enumerate(special)}
    vocab.update({f"w{i}": i for i in range(TINY_FIRST_WORD_ID, TINY_VOCAB_SIZE)})
    backend = Tokenizer(WordLevel(vocab, unk_token="<pad>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    backend.decoder = decoders.WordPiece(prefix="##")
    # No token_type_ids (transformers 4.x returns them by default; BART and Llama reject them).
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        pad_token="<pad>",
        eos_token="</s>",
        model_input_names=["input_ids", "attention_mask"],
    )
