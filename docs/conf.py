"""Sphinx configuration for lmnotes (English source, French translation)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))  # lmnotes_cite, linkcheck_settings

import lmnotes  # noqa: E402  (the package the pages execute)
from docutils import nodes  # noqa: E402
from sphinx.transforms import SphinxTransform  # noqa: E402

# -- Project -----------------------------------------------------------------

project = "lmnotes"
author = "The lmnotes authors"
copyright = "2026, The lmnotes authors"
release = version = lmnotes.__version__

#: Per-language strings that gettext cannot translate (project, html_title).
TITLES = {
    "en": "lmnotes: training batches and attention masks, executed",
    "fr": "lmnotes : lots d'entraînement et masques d'attention, exécutés",
}
LANGUAGES = {"en": "English", "fr": "Français"}

# -- General -----------------------------------------------------------------

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    "sphinxcontrib.bibtex",
    "lmnotes_cite",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
exclude_patterns = ["_build", "jupyter_execute", "locales", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
nitpicky = True
# Types from other projects: no intersphinx, so that the build needs no network.
nitpick_ignore_regex = [
    # NumPy-style docstrings describe types in words and shapes ("(batch, 1, T, S) bool"):
    # napoleon turns them into class references; only lmnotes' own must resolve.
    (r"py:class", r"(?!lmnotes\.).*"),
    # Other projects' objects: no intersphinx, so that the build needs no network.
    (r"py:.*", r"(torch|transformers|numpy|np|matplotlib|tokenizers|pathlib|collections|importlib"
     r"|huggingface_hub|dataclasses|typing|IPython)(\..*)?"),
    # Python's builtins.
    (r"py:.*", r"(getattr|setattr|hasattr|isinstance|len|int|float|str|bool|list|dict|tuple|"
     r"print|range|type|object|round|sum|max|min|sorted)"),
]
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "unsrt"
bibtex_reference_style = "author_year"

myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "substitution"]
myst_heading_anchors = 3

# -- MyST-NB: pages execute lmnotes code at build time ---------------------------


def _execution_key() -> str:
    """Hash of the lmnotes sources and the versions of the libraries they call.

    jupyter-cache keys a page on its code cells only; keying the cache folder
    on this hash re-executes every page when lmnotes or a library changes,
    while a prose edit (or the French build) reuses the outputs.
    """
    digest = hashlib.sha256()
    for path in sorted((ROOT / "lmnotes").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    for dist in ("torch", "transformers", "tokenizers", "numpy", "matplotlib"):
        digest.update(f"{dist}=={importlib.metadata.version(dist)}".encode())
    return digest.hexdigest()[:16]


def _execution_cache() -> str:
    """The cache folder for this key; caches of older keys are removed (they can never be hit again)."""
    if os.environ.get("LMNOTES_NB_CACHE"):
        return os.environ["LMNOTES_NB_CACHE"]
    root = DOCS / "_build" / ".jupyter_cache"
    key = _execution_key()
    if root.is_dir():
        for stale in root.iterdir():
            if stale.is_dir() and stale.name != key:
                shutil.rmtree(stale, ignore_errors=True)
    return str(root / key)


nb_execution_mode = os.environ.get("LMNOTES_NB_EXECUTION_MODE", "cache")
nb_execution_cache_path = _execution_cache()
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_output_stderr = "remove"
nb_merge_streams = True
nb_kernel_rgx_aliases = {".*": "python3"}

# -- Autodoc -----------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_param = False
napoleon_use_rtype = False
napoleon_use_ivar = True

# Docstring examples run under pytest --doctest-modules; the doctest builder
# checks the {doctest} blocks of the pages only.
doctest_test_doctest_blocks = ""
doctest_global_setup = "import torch\ntorch.manual_seed(0)"

# -- Internationalisation ----------------------------------------------------

language = "en"
locale_dirs = ["locales/"]
gettext_compact = False  # one catalog per page
gettext_uuid = False
gettext_location = False
gettext_allow_fuzzy_translations = False

# -- HTML --------------------------------------------------------------------

html_theme = "furo"
html_title = TITLES["en"]
html_static_path = ["_static"]
html_css_files = ["lmnotes.css"]
# Scrollable blocks reachable with the keyboard (issue 14: accessibility).
html_js_files = [("lmnotes-a11y.js", {"defer": "defer"})]
html_favicon = "_static/lmnotes-icon.svg"
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
html_sidebars = {
    "**": [
        "sidebar/brand.html",
        "sidebar/lang-switch.html",
        "sidebar/search.html",
        "sidebar/scroll-start.html",
        "sidebar/navigation.html",
        "sidebar/scroll-end.html",
    ]
}
copybutton_exclude = ".linenos, .gp, .go"

# MathJax is served from the site itself (copied from the django-static-mathjax
# wheel at the end of the build), so that no page asks another host for anything.
mathjax_path = "mathjax/tex-chtml.js"

# -- Linkcheck ---------------------------------------------------------------
# Timeouts, retries, rate limits, request headers and the hosts that refuse
# automated clients (each with its reason) are in _ext/linkcheck_settings.py,
# so that tests/test_links.py checks this exact configuration offline.

from linkcheck_settings import (  # noqa: E402
    linkcheck_allowed_redirects,
    linkcheck_anchors,
    linkcheck_anchors_ignore_for_url,
    linkcheck_ignore,
    linkcheck_rate_limit_timeout,
    linkcheck_report_timeouts_as_broken,
    linkcheck_request_headers,
    linkcheck_retries,
    linkcheck_timeout,
    linkcheck_workers,
)


# -- Per-language settings and the language switcher ---------------------------


def _on_config_inited(app, config) -> None:
    lang = config.language if config.language in TITLES else "en"
    config.html_title = TITLES[lang]
    config.html_short_title = "lmnotes"


def _on_html_page_context(app, pagename, templatename, context, doctree) -> None:
    """Give every page links to the same page in each language.

    Local layout: ``_build/html/<lang>/<page>.html``.  Hosted layout (Read the
    Docs): ``/<lang>/<version>/<page>.html``.  Links are relative, so both work
    from a file server and from ``file://``.
    """
    current = app.config.language
    depth = pagename.count("/")
    rtd_version = os.environ.get("READTHEDOCS_VERSION") if os.environ.get("READTHEDOCS") else None
    links = []
    for code, label in LANGUAGES.items():
        if rtd_version:
            url = "../" * (depth + 2) + f"{code}/{rtd_version}/{pagename}.html"
        else:
            url = "../" * (depth + 1) + f"{code}/{pagename}.html"
        links.append({"code": code, "label": label, "url": url, "current": code == current})
    context["lmnotes_languages"] = links


class _KeepDocstringsInEnglish(SphinxTransform):
    """Leave autodoc docstrings out of the catalogs: the API reference stays in English.

    Docstrings are code documentation, checked by ``pytest --doctest-modules``;
    translating them would put every docstring edit behind a catalog update.
    Runs before Sphinx's ``Locale`` transform (priority 20).
    """

    default_priority = 10

    def apply(self, **kwargs) -> None:
        for node in self.document.findall(nodes.TextElement):
            if ":docstring of " in (node.source or ""):
                node["translatable"] = False


def _copy_mathjax(app, exception) -> None:
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


def setup(app):
    app.connect("build-finished", _copy_mathjax)
    app.add_transform(_KeepDocstringsInEnglish)
    app.connect("config-inited", _on_config_inited)
    app.connect("html-page-context", _on_html_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
