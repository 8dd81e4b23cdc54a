"""lmnotes: executable notes on language-model training batches and attention masks.

One concept per module; the pages of the knowledge base import what they explain
from the module of that name:

- :mod:`lmnotes.assets`: real tokenizers and a real small causal LM, offline, checked by SHA-256;
- :mod:`lmnotes.mlm`: masked-LM masking (the 80/10/10 rule), bit-identical to the library's collator;
- :mod:`lmnotes.clm`: causal-LM labels, the shift inside the loss, the pad = eos pitfall;
- :mod:`lmnotes.masks`: causal, padding and cross-attention masks, boolean and additive;
- :mod:`lmnotes.attention`: reference scaled dot-product attention;
- :mod:`lmnotes.probes`: executable evidence (causality, padding invariance, cross-attention);
- :mod:`lmnotes.packing`: padding waste and padding-free (packed) batches;
- :mod:`lmnotes.display`: token tables and mask figures;
- :mod:`lmnotes.explorer`: the data of the in-browser batch explorer.

Every name below is also importable from the package itself (``from lmnotes import
mask_tokens``); modules load on first use, so ``import lmnotes`` stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS = {
    "KNOWN_CAUSAL_LMS": "assets",
    "KNOWN_TOKENIZERS": "assets",
    "AssetChecksumError": "assets",
    "AssetUnavailableError": "assets",
    "AssetSource": "assets",
    "MissingAssetPackageError": "assets",
    "asset_sources": "assets",
    "cache_dir": "assets",
    "clear_cache": "assets",
    "load_causal_lm": "assets",
    "load_tokenizer": "assets",
    "tokenizer_source": "assets",
    "MASK_OUTCOMES": "mlm",
    "MaskingStats": "mlm",
    "count_chosen": "mlm",
    "mask_outcomes": "mlm",
    "mask_tokens": "mlm",
    "masked_token_losses": "mlm",
    "measure_collator": "mlm",
    "measure_masking": "mlm",
    "random_token_batch": "mlm",
    "EosLabelCount": "clm",
    "causal_lm_labels": "clm",
    "hidden_eos_labels": "clm",
    "next_token_losses": "clm",
    "shifted_loss": "clm",
    "NextTokenTable": "display",
    "TokenTable": "display",
    "plot_label_shift": "display",
    "plot_mask": "display",
    "plot_masks": "display",
    "plot_mlm_masks": "display",
    "next_token_table": "display",
    "token_table": "display",
    "causal_mask": "masks",
    "padding_mask": "masks",
    "causal_padding_mask": "masks",
    "cross_attention_mask": "masks",
    "to_additive": "masks",
    "scaled_dot_product_attention": "attention",
    "ScalingRow": "attention",
    "scaling_effect": "attention",
    "TINY_VOCAB_SIZE": "probes",
    "TINY_INIT_STD": "probes",
    "tiny_gpt2": "probes",
    "tiny_bert": "probes",
    "tiny_bart": "probes",
    "tiny_llama": "probes",
    "position_ids_from_attention_mask": "probes",
    "CausalityResult": "probes",
    "future_token_effect": "probes",
    "causality_probe": "probes",
    "PaddingResult": "probes",
    "padding_probe": "probes",
    "PaddingLossResult": "probes",
    "padding_loss_probe": "probes",
    "CrossAttentionResult": "probes",
    "cross_attention_probe": "probes",
    "capture_attention_mask": "probes",
    "transformers_causal_mask": "probes",
    "transformers_cross_attention_mask": "probes",
    "CrossAttentionTensors": "probes",
    "cross_attention_tensors": "probes",
    "synthetic_lengths": "packing",
    "PaddingWaste": "packing",
    "padding_waste": "packing",
    "padded_batch": "packing",
    "packed_batch": "packing",
    "packed_causal_mask": "packing",
    "PackedLossResult": "packing",
    "packed_vs_padded_loss": "packing",
    "Throughput": "packing",
    "measure_throughput": "packing",
    "machine_description": "packing",
    "AttentionCost": "packing",
    "attention_cost": "packing",
    "GenerationComparison": "generation",
    "GreedyRun": "generation",
    "TopPredictionTable": "generation",
    "greedy_generate": "generation",
    "teacher_forcing_vs_generation": "generation",
    "top_prediction_table": "generation",
    "SEED_ZERO_HONOURED": "compat",
    "TRANSFORMERS_VERSION": "compat",
    "as_boolean_mask": "compat",
    "bert_tokenizer": "compat",
    "cache_argument": "compat",
    "create_causal_mask": "compat",
    "EXPLORER_EXAMPLES": "explorer",
    "explorer_data": "explorer",
    "explorer_html": "explorer",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    """Import the defining module on first access (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lmnotes' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lmnotes.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
