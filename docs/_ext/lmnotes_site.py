"""The site's own behaviour: execution cache key, per-language titles, language links, MathJax.

- ``nb_execution_cache_path``: jupyter-cache keys a page on its code cells only, so the
  cache folder is keyed on a hash of the ``lmnotes`` sources, of the executor
  (lmnotes_execute.py) and of the versions of the libraries they call; a change there
  re-executes every page, a prose edit (or the French build) reuses the outputs. Folders
  of older keys are removed when the build starts.
- ``html_title`` per language (gettext does not translate it).
- ``lmnotes_languages`` in every page's context: links to the same page in each language,
  for the local layout ``_build/html/<lang>/<page>.html`` and Read the Docs'
  ``/<lang>/<version>/<page>.html``.
- API docstrings are left out of the catalogs: the API reference stays in English.
- The learner's original notes (containers of class ``lmnotes-original``) and their English
  translation (``lmnotes-translation``) are left out of the catalogs; the translation is
  shown in the English build only.
- MathJax is copied from the ``django-static-mathjax`` wheel into ``_static/mathjax/``, so
  that no page asks another host for anything.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import importlib.util
import os
import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform

#: Libraries whose version is part of the execution cache key.
KEYED_DISTRIBUTIONS = ("torch", "transformers", "tokenizers", "numpy", "matplotlib")


#: The executor of the pages (docs/_ext/lmnotes_execute.py) is part of the key too.
EXECUTOR = Path(__file__).with_name("lmnotes_execute.py")


def execution_key(package_dir: Path) -> str:
    """Hash of the package's ``.py`` sources (paths and bytes), the executor and the versions."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir.parent).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(EXECUTOR.read_bytes())
    for dist in KEYED_DISTRIBUTIONS:
        digest.update(f"{dist}=={importlib.metadata.version(dist)}".encode())
    return digest.hexdigest()[:16]


def _set_execution_cache(app: Sphinx, config: Any) -> None:
    """Point MyST-NB at ``_build/.jupyter_cache/<key>`` or ``LMNOTES_NB_CACHE``; prune."""
    if os.environ.get("LMNOTES_NB_CACHE"):
        config.nb_execution_cache_path = os.environ["LMNOTES_NB_CACHE"]
        return
    root = Path(app.confdir) / "_build" / ".jupyter_cache"
    key = execution_key(Path(config.lmnotes_package_dir))
    if root.is_dir():
        for stale in root.iterdir():
            if stale.is_dir() and stale.name != key:
                shutil.rmtree(stale, ignore_errors=True)
    config.nb_execution_cache_path = str(root / key)


def _set_title(app: Sphinx, config: Any) -> None:
    """The site's title in the build's language, from the extensions' catalog (no page holds
    it: gettext's catalogs of the pages never see it)."""
    from lmnotes_catalog import _

    config.html_title = str(_(config.html_title))
    config.html_short_title = config.project


#: furo names each expandable entry of the navigation in Python (furo/navigation.py), in
#: English: the words come through Sphinx's catalog (locales/<lang>/LC_MESSAGES/sphinx.po).
_TOGGLE = re.compile(r'aria-label="Toggle navigation of ([^"]*)"')


def _translate_navigation(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """The navigation tree furo put in the page's context, its toggles named in the page's
    language (after furo's own handler, which builds the tree)."""
    tree = context.get("furo_navigation_tree")
    words = app.translator.gettext("Toggle navigation of %(title)s")
    if not tree or "%(title)s" not in words or words == "Toggle navigation of %(title)s":
        return

    def name(match: re.Match[str]) -> str:
        return f'aria-label="{html.escape(words % {"title": html.unescape(match.group(1))})}"'

    context["furo_navigation_tree"] = _TOGGLE.sub(name, tree)


def _language_links(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Give every page links to the same page in each language (relative, so ``file://`` works)."""
    current = app.config.language
    depth = pagename.count("/")
    rtd_version = os.environ.get("READTHEDOCS_VERSION") if os.environ.get("READTHEDOCS") else None
    links = []
    for code, label in app.config.lmnotes_languages.items():
        if rtd_version:
            url = "../" * (depth + 2) + f"{code}/{rtd_version}/{pagename}.html"
        else:
            url = "../" * (depth + 1) + f"{code}/{pagename}.html"
        links.append({"code": code, "label": label, "url": url, "current": code == current})
    context["lmnotes_languages"] = links


class KeepDocstringsInEnglish(SphinxTransform):
    """Leave autodoc docstrings out of the catalogs: the API reference stays in English.

    Docstrings are code documentation, checked by ``pytest --doctest-modules``;
    translating them would put every docstring edit behind a catalog update.
    Runs before Sphinx's ``Locale`` transform (priority 20).
    """

    default_priority = 10

    def apply(self, **kwargs: Any) -> None:
        for node in self.document.findall(nodes.TextElement):
            if ":docstring of " in (node.source or ""):
                node["translatable"] = False


class OriginalNotes(SphinxTransform):
    """Keep the learner's French notes as they are and their English translation in English only.

    ``lmnotes-original`` containers hold the notes verbatim: the same text in every
    language. ``lmnotes-translation`` containers hold their English translation, shown in
    the English build and removed from the others. Neither is extracted into the catalogs
    (a French "translation" of either would only repeat the original), and smart quotes
    leave them alone (the notes keep their straight apostrophes in both languages). Runs
    before Sphinx's ``Locale`` transform (priority 20).
    """

    default_priority = 10

    def apply(self, **kwargs: Any) -> None:
        for container in list(self.document.findall(nodes.container)):
            classes = container["classes"]
            if "lmnotes-original" not in classes and "lmnotes-translation" not in classes:
                continue
            container["support_smartquotes"] = False  # the notes' own apostrophes and quotes
            for node in container.findall(nodes.TextElement):
                node["translatable"] = False
            if "lmnotes-translation" in classes and (self.config.language or "en") != "en":
                container.parent.remove(container)


def _lmnotes_file(app: Sphinx, modname: str) -> Path | None:
    """The file of an lmnotes module, found without importing it (None for other modules)."""
    if modname != "lmnotes" and not modname.startswith("lmnotes."):
        return None
    package = Path(app.config.lmnotes_package_dir)
    relative = Path(*modname.split(".")[1:])
    for path in (package / relative / "__init__.py", (package / relative).with_suffix(".py")):
        if path.is_file():
            return path
    return None  # not under lmnotes_package_dir: viewcode imports it as usual


def _lmnotes_source(app: Sphinx, modname: str) -> tuple[str, dict] | None:
    """The source and tags of an lmnotes module for viewcode, read without importing it.

    viewcode imports a module to find its source (``ModuleAnalyzer.get_module_source``),
    and importing lmnotes imports torch and transformers: seconds on every build, even a
    build with nothing to do. See also :func:`_viewcode_without_imports`.
    """
    path = _lmnotes_file(app, modname)
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
        path = _lmnotes_file(app, modname)
        return original(app, modname) if path is None else path

    get_module_filename.lmnotes = True  # type: ignore[attr-defined]
    viewcode.get_module_filename = get_module_filename


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
    app.add_config_value("lmnotes_languages", {}, "html", types=frozenset({dict}))
    app.add_config_value("lmnotes_package_dir", "", "env", types=frozenset({str}))
    app.connect("config-inited", _set_execution_cache)
    # After lmnotes_catalog has registered the catalog (priority 500).
    app.setup_extension("lmnotes_catalog")
    app.connect("config-inited", _set_title, priority=600)
    app.connect("html-page-context", _language_links)
    app.connect("html-page-context", _translate_navigation, priority=600)
    app.connect("build-finished", _copy_mathjax)
    app.connect("viewcode-find-source", _lmnotes_source)
    app.connect("builder-inited", _viewcode_without_imports)
    app.add_transform(KeepDocstringsInEnglish)
    app.add_transform(OriginalNotes)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
