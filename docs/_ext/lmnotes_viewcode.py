"""viewcode for lmnotes without importing it: every object a page uses is one click from its
source, and a build with nothing to do rewrites no source page.

viewcode imports a module to find its source, and importing lmnotes imports torch and
transformers: seconds on every build. The sources are read from ``lmnotes_package_dir``
(docs/conf.py) instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def lmnotes_file(app: Sphinx, modname: str) -> Path | None:
    """The file of an lmnotes module, found without importing it (None for other modules)."""
    if modname != "lmnotes" and not modname.startswith("lmnotes."):
        return None
    package = Path(app.config.lmnotes_package_dir)
    relative = Path(*modname.split(".")[1:])
    for path in (package / relative / "__init__.py", (package / relative).with_suffix(".py")):
        if path.is_file():
            return path
    return None  # not under lmnotes_package_dir: viewcode imports it as usual


def lmnotes_source(app: Sphinx, modname: str) -> tuple[str, dict] | None:
    """The source and tags of an lmnotes module for viewcode, read without importing it.

    viewcode imports a module to find its source (``ModuleAnalyzer.get_module_source``),
    and importing lmnotes imports torch and transformers: seconds on every build, even a
    build with nothing to do. See also :func:`_viewcode_without_imports`.
    """
    path = lmnotes_file(app, modname)
    if path is None:
        return None
    from sphinx.pycode import ModuleAnalyzer

    analyzer = ModuleAnalyzer.for_file(str(path), modname)
    analyzer.find_tags()
    return analyzer.code, analyzer.tags


def _viewcode_without_imports(app: Sphinx) -> None:
    """Let viewcode find the file of an lmnotes module without importing it.

    viewcode rewrites a module page only when the module's file is newer than the page, and
    finds that file by importing the module, unless a ``viewcode-find-source`` handler
    answers, in which case it rewrites every page on every build (about a second of
    highlighting here). Its ``get_module_filename`` is wrapped so that lmnotes modules are
    found from ``lmnotes_package_dir``; other modules go through viewcode as before.
    tests/test_build_speed.py checks that a build with nothing to do rewrites no module page.
    """
    from sphinx.ext import viewcode

    original = viewcode.get_module_filename
    if getattr(original, "lmnotes", False):
        return

    def get_module_filename(app: Sphinx, modname: str) -> Any:
        path = lmnotes_file(app, modname)
        return original(app, modname) if path is None else path

    get_module_filename.lmnotes = True  # type: ignore[attr-defined]
    viewcode.get_module_filename = get_module_filename


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.viewcode")
    app.setup_extension("lmnotes_site")  # lmnotes_package_dir
    app.connect("viewcode-find-source", lmnotes_source)
    app.connect("builder-inited", _viewcode_without_imports)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
