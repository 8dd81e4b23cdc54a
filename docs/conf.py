"""Sphinx configuration for lmnotes (English source, French translation)."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))  # the site's own extensions

# -- Project -----------------------------------------------------------------

project = "lmnotes"
author = "The lmnotes authors"
copyright = "2026, The lmnotes authors"
release = version = importlib.metadata.version("lmnotes")

lmnotes_languages = {"en": "English", "fr": "Français"}

# -- General -----------------------------------------------------------------

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",  # every lmnotes object one click from its source
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    "sphinx_design",
    "sphinx.ext.extlinks",
    "sphinxcontrib.bibtex",
    "lmnotes_bibliography",
    "lmnotes_cite",
    "lmnotes_site",
    "lmnotes_languages",
    "lmnotes_viewcode",
    "lmnotes_mathjax",
    "lmnotes_execute",
    "lmnotes_outputs",
    "lmnotes_glossary",
    "lmnotes_compat",
    "lmnotes_figures",
    "lmnotes_notebooks",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
exclude_patterns = ["_build", "jupyter_execute", "locales", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
nitpicky = True
# Types from other projects: no intersphinx, so that the build needs no network.
nitpick_ignore_regex = [
    # Private bases (lmnotes._tables.Table) are not documented.
    (r"py:class", r"lmnotes\._.*"),
    # NumPy-style docstrings describe types in words and shapes ("(batch, 1, T, S) bool"):
    # napoleon turns them into class references; only lmnotes' own must resolve.
    (r"py:class", r"(?!lmnotes\.).*"),
    # Other projects' objects: no intersphinx, so that the build needs no network.
    (
        r"py:.*",
        r"(torch|transformers|numpy|np|matplotlib|tokenizers|pathlib|collections|importlib"
        r"|huggingface_hub|dataclasses|typing|IPython)(\..*)?",
    ),
    # Python's builtins.
    (
        r"py:.*",
        r"(getattr|setattr|hasattr|isinstance|len|int|float|str|bool|list|dict|tuple|"
        r"print|range|type|object|round|sum|max|min|sorted)",
    ),
]
bibtex_bibfiles = ["references.bib"]
# pybtex's "unsrt", its names joined in the page's language (docs/_ext/lmnotes_bibliography.py).
bibtex_default_style = "lmnotes"
bibtex_reference_style = "lmnotes_author_year"  # author-year, "; " between sources (lmnotes_cite)

myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "substitution"]
myst_heading_anchors = 3

# -- MyST-NB: pages execute lmnotes code at build time ---------------------------
# nb_execution_cache_path is keyed on the lmnotes sources by _ext/lmnotes_site.py.

lmnotes_package_dir = str(DOCS.parent / "lmnotes")
nb_execution_mode = os.environ.get("LMNOTES_NB_EXECUTION_MODE", "cache")
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
# In English; other languages take it from the extensions' catalog (lmnotes.po), as
# docs/_ext/lmnotes_languages.py does when the build starts.
html_title = "lmnotes: training batches and attention masks, executed"
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

# Sphinx reads these names from this module's globals, hence the F401 noqa.
from linkcheck_settings import (  # noqa: E402, F401
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

#: {explorer}`text <JSON>` on a note page: a link that opens the batch explorer (a page
#: beside the notes) with that configuration (docs/_static/explorer.js, applyPreset).
extlinks = {"explorer": ("batch-explorer.html#config=%s", None)}
