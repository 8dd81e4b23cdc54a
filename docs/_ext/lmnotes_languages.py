"""What each language shows: its title, links to the other languages, what is not translated.

- ``html_title`` in the build's language, from the extensions' catalog (lmnotes.po).
- ``lmnotes_languages`` in every page's context: links to the same page in each language,
  for the local layout ``_build/html/<lang>/<page>.html`` and Read the Docs'
  ``/<lang>/<version>/<page>.html``; furo's navigation toggles named in the page's language.
- API docstrings are left out of the catalogs: the API reference stays in English.
- The learner's original notes (containers of class ``lmnotes-original``) and their English
  translation (``lmnotes-translation``) are left out of the catalogs; the translation is
  shown in the English build only.
"""

from __future__ import annotations

import html
import os
import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform


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


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("lmnotes_languages", {}, "html", types=frozenset({dict}))
    # After lmnotes_catalog has registered the catalog (priority 500).
    app.setup_extension("lmnotes_catalog")
    app.connect("config-inited", _set_title, priority=600)
    app.connect("html-page-context", _language_links)
    app.connect("html-page-context", _translate_navigation, priority=600)
    app.add_transform(KeepDocstringsInEnglish)
    app.add_transform(OriginalNotes)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
