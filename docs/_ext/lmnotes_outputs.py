"""Cell outputs in the page's language: their messages are rendered through a catalog.

Outputs are computed once, by the execute step (or the English build); the French build
executes no cell (MyST-NB reuses the execution cache). An output says itself which of its
parts are words: in a docs build's kernel, lmnotes marks them as messages
(:mod:`lmnotes.messages`: the literal strings a cell passes to ``print``, the column titles
of lmnotes' tables, the texts of its figures that are not tokens). This extension renders
the marks of every page, in every language:

- English: the English text, exactly what Python printed without marks;
- French: each message through ``docs/locales/<lang>/LC_MESSAGES/outputs.po`` (its fields
  filled with the values the cell computed, never translated), numbers marked by a figure
  or a table in French form. What is not a message (values, reprs, identifiers, dict keys,
  package names, tokens, library messages) is never touched.

A message missing from the catalog (or fuzzy, or empty) is a warning of type
``lmnotes.output``, which fails the strict build. The gettext build (``nox -s gettext``)
writes every message it meets to ``_build/gettext/outputs.pot``; ``sphinx-intl update``
merges it into ``outputs.po`` like the catalogs of the pages.

The French build also writes glued numbers (``{glue:text}``) and the decimals of math in
French form (:func:`lmnotes.messages.french_number`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from docutils import nodes

from lmnotes.messages import MARKS, NUMBER, french_number, render


def has_marks(text: str) -> bool:
    """Whether ``text`` holds a marked message, number or table."""
    return any(ch in MARKS for ch in text)


class Catalog:
    """The messages of outputs (msgid → msgstr) for one language, and what a build met.

    ``translations`` maps a msgid to its msgstr (fuzzy and empty entries are left out by
    :func:`load_catalog`); ``None`` renders English. ``seen`` collects every msgid met,
    ``missing`` those without a translation.
    """

    def __init__(self, translations: dict[str, str] | None = None, *, translate: bool = True):
        self.translations = dict(translations or {})
        self.translate = translate
        self.seen: set[str] = set()
        self.missing: set[str] = set()

    def render(self, text: str, *, html_escaped: bool = False) -> str:
        """``text`` with its marks rendered in the catalog's language (or in English)."""
        return render(
            text,
            self.translations.get if self.translate else None,
            html_escaped=html_escaped,
            seen=self.seen,
            missing=self.missing,
        )


def load_catalog(path: Path) -> dict[str, str]:
    """The translated, non-fuzzy entries of a .po file (empty if the file does not exist)."""
    import polib

    if not path.exists():
        return {}
    po = polib.pofile(str(path))
    return {e.msgid: e.msgstr for e in po if e.msgstr and "fuzzy" not in e.flags and not e.obsolete}


def render_doctree(
    doctree: nodes.document, catalog: Catalog, warn: Callable[[str, nodes.Node], None] | None = None
) -> int:
    """Render the marks of one page (outputs, glued outputs, alt texts); return the nodes changed.

    In French, glued numbers and the decimals of math also take the French form.
    """
    before = set(catalog.missing)
    count = 0
    for node in list(doctree.findall(nodes.literal_block)):
        text = node.astext()
        if has_marks(text):
            new = catalog.render(text)
            node.children = [nodes.Text(new)]
            node.rawsource = new
            count += 1
    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if has_marks(text):
            html_escaped = "html" in node.get("format", "").split()
            node.children = [nodes.Text(catalog.render(text, html_escaped=html_escaped))]
            count += 1
    for node in list(doctree.findall(nodes.Text)):
        if has_marks(node) and node.parent is not None:
            node.parent.replace(node, nodes.Text(catalog.render(str(node))))
            count += 1
    for node in doctree.findall(nodes.image):
        if has_marks(node.get("alt", "")):
            node["alt"] = catalog.render(node["alt"])
            count += 1
    if catalog.translate:
        for node in list(doctree.findall(nodes.inline)):
            if "pasted-text" in node.get("classes", []):
                text = node.astext()
                if NUMBER.fullmatch(text):  # a glued number (not a text with versions in it)
                    node.children = [nodes.Text(french_number(text))]
        for node in list(doctree.findall(lambda n: isinstance(n, (nodes.math, nodes.math_block)))):
            text = node.astext()
            new = re.sub(r"(?<=\d)\.(?=\d)", "{,}", text)
            if new != text:
                node.children = [nodes.Text(new)]
    if warn is not None:
        for msgid in sorted(catalog.missing - before):
            warn(f"output message with no translation in outputs.po: {msgid!r}", doctree)
    return count


def _catalog_path(app: Any) -> Path:
    return Path(app.srcdir) / "locales" / app.config.language / "LC_MESSAGES" / "outputs.po"


@functools.lru_cache(maxsize=4)
def _cached_catalog(path: str, mtime_ns: int) -> dict[str, str]:
    """The catalog at ``path``, read again when it changes (a preview keeps the process)."""
    return load_catalog(Path(path))


def catalog_for(app: Any) -> Catalog:
    """The catalog of the build's language (English: a catalog that renders English)."""
    language = app.config.language or "en"
    if language == "en":
        return Catalog(translate=False)
    path = _catalog_path(app)
    return Catalog(_cached_catalog(str(path), path.stat().st_mtime_ns if path.exists() else 0))


def _doctree_resolved(app: Any, doctree: nodes.document, docname: str) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    if app.builder.name == "gettext":
        # The messages the gettext build meets, kept in the environment for build-finished.
        render_doctree(doctree, app.env.lmnotes_output_messages)
        return
    render_doctree(
        doctree,
        catalog_for(app),
        lambda message, node: logger.warning(
            message, location=docname, type="lmnotes", subtype="output"
        ),
    )


def write_pot(messages: Iterable[str], path: Path) -> None:
    """Write ``messages`` as a .pot file (sorted, one entry each)."""
    import polib

    pot = polib.POFile(wrapwidth=79)
    pot.metadata = {
        "Project-Id-Version": "lmnotes",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    for msgid in sorted(set(messages)):
        pot.append(polib.POEntry(msgid=msgid, msgstr="", flags=["python-brace-format"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    pot.save(str(path))


def _fresh_messages(app: Any) -> None:
    """Start each gettext build with no message: every page is written again, and the
    template holds what this build met, not what an earlier one did."""
    if app.builder.name == "gettext":
        app.env.lmnotes_output_messages = Catalog(translate=False)


def _build_finished(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.name != "gettext":
        return
    catalog = getattr(app.env, "lmnotes_output_messages", None)
    if catalog is not None:
        write_pot(catalog.seen, Path(app.outdir) / "outputs.pot")


#: MyST-NB's HTML choice of output formats, for the gettext builder too: the messages
#: are collected from the outputs the HTML pages show (inline SVG, HTML tables).
HTML_MIME_PRIORITY = (
    "application/vnd.jupyter.widget-view+json",
    "application/javascript",
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/gif",
    "image/jpeg",
    "text/markdown",
    "text/latex",
    "text/plain",
)


def _gettext_sees_html_outputs(app: Any, config: Any) -> None:
    overrides = list(config.nb_mime_priority_overrides or [])
    overrides += [("gettext", mime, 10 * (k + 1)) for k, mime in enumerate(HTML_MIME_PRIORITY)]
    config.nb_mime_priority_overrides = overrides


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _gettext_sees_html_outputs)
    app.connect("builder-inited", _fresh_messages)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("build-finished", _build_finished)
    app.add_css_file("lmnotes-figures.css")
    # The gettext builder, which collects into the environment, never writes in parallel.
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
