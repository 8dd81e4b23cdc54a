"""MathJax served by the site itself: no page asks another host for anything.

MathJax's tex-chtml component and its fonts are copied from the ``django-static-mathjax``
wheel into ``_static/mathjax/`` when an HTML build ends.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy MathJax's tex-chtml component and its fonts into ``_static/mathjax/``."""
    if exception is not None or app.builder.format != "html":
        return
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax files missing: install the docs group (django-static-mathjax)")
    es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(es5 / "tex-chtml.js", target / "tex-chtml.js")
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    shutil.copytree(es5 / fonts, target / fonts, dirs_exist_ok=True)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", _copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
