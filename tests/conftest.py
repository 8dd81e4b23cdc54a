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
