"""Figures and result tables of the note pages: numbered, anchored, citable.

On a note page (``notes/...``), each figure a cell draws (an inline SVG of role ``img``)
and each result table it prints (an HTML table of class ``lmnotes-...``) gets, in the
order of the page:

- a number of its kind, from 1 on each page: Figure 1, Figure 2, ...; Table 1, ...;
- an anchor on the figure itself, ``figure-1``, ``table-2``: the same in every build and
  in both languages, since the outputs are computed once and come in the same order;
- below the cell, a caption with its label, a link to that anchor, and a "Cite"
  disclosure (``<details>``: no script, keyboard-operable) with its BibTeX and APA
  entries: the page's entry (:func:`lmnotes_cite.page_citation`) naming the figure,
  its URL the anchor in the versioned site.

The words (``Figure 3``, ``Table 3``, ``Cite figure 3``) come from the extensions' catalog
(:mod:`lmnotes_catalog`).
"""

from __future__ import annotations

import html
import re
from typing import Any

from docutils import nodes
from lmnotes_catalog import _
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: An output that is a figure: an inline SVG with role="img" (lmnotes.display's figures).
FIGURE = re.compile(r'<svg\b[^>]*\brole="img"')
#: An output that is a result table: lmnotes.display's HTML tables.
TABLE = re.compile(r'<table\b[^>]*\bclass="lmnotes-')
#: The pages whose figures and tables are numbered.
PAGES = re.compile(r"notes/.+")


def kind_of(html_text: str) -> str | None:
    """``"figure"``, ``"table"`` or ``None`` for the HTML of one output.

    Examples
    --------
    >>> from lmnotes_figures import kind_of
    >>> kind_of('<svg class="lmnotes-figure" role="img" aria-label="mask">')
    'figure'
    >>> kind_of('<table class="lmnotes-token-table"><tr><td>1</td></tr></table>')
    'table'
    >>> kind_of('<div>text</div>') is None
    True
    """
    if FIGURE.search(html_text):
        return "figure"
    if TABLE.search(html_text):
        return "table"
    return None


def labels(kind: str, number: int) -> tuple[str, str]:
    """(label, cite summary) of figure or table ``number`` in the build's language."""
    if kind == "figure":
        return _("Figure %(number)d") % {"number": number}, _("Cite figure %(number)d") % {
            "number": number
        }
    if kind == "table":
        return _("Table %(number)d") % {"number": number}, _("Cite table %(number)d") % {
            "number": number
        }
    raise ValueError(f"kind: {kind!r} is neither 'figure' nor 'table'")


def _has_class(node: nodes.Node, name: str) -> bool:
    return isinstance(node, nodes.Element) and name in node.get("classes", [])


def _output_of(node: nodes.Node) -> nodes.Element | None:
    """The ``cell_output`` container holding ``node``, if any."""
    while node is not None and not _has_class(node, "cell_output"):
        node = node.parent
    return node


#: The description of a figure: its ``aria-label`` up to the first colon.
_ARIA_LABEL = re.compile(r'<svg\b[^>]*\baria-label="([^"]*)"')


def description(html_text: str) -> str:
    """What a figure's caption says after its label: its ``aria-label`` up to the end of its
    first sentence or its first colon, outside quotation marks; or ``""``.

    Examples
    --------
    >>> from lmnotes_figures import description
    >>> description('<svg role="img" aria-label="Attention mask &#8220;causal&#8221;: 5 rows">')
    'Attention mask “causal”'
    >>> description('<svg role="img" aria-label="Masque « gauche\u00a0: causal »\u00a0: 5">')
    'Masque « gauche\xa0: causal »'
    >>> description('<svg role="img" aria-label="2 masks side by side. Mask “a”: 1.5">')
    '2 masks side by side'
    >>> description('<table class="lmnotes-token-table">')
    ''
    """
    match = _ARIA_LABEL.search(html_text)
    if not match:
        return ""
    label, depth = html.unescape(match.group(1)), 0
    for index, char in enumerate(label):
        if char in "\u201c\u00ab":
            depth += 1
        elif char in "\u201d\u00bb":
            depth = max(0, depth - 1)
        elif depth == 0 and (
            char == ":" or (char == "." and label[index + 1 : index + 2] in (" ", ""))
        ):
            return label[:index].strip()
    return label.strip()


_HEADER_CELL = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
_TAG = re.compile(r"<[^>]+>")


def columns(html_text: str) -> list[str]:
    """The header cells of a result table, as text, in order.

    Examples
    --------
    >>> from lmnotes_figures import columns
    >>> columns('<table class="lmnotes-token-table"><thead><tr><th scope="col">token</th>'
    ...         '<th>p(<code>next</code>)</th></tr></thead></table>')
    ['token', 'p(next)']
    """
    return [
        " ".join(html.unescape(_TAG.sub("", cell)).split())
        for cell in _HEADER_CELL.findall(html_text)
    ]


def number_figures(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Number, anchor and caption the figures and result tables of a note page.

    Runs when the page is resolved, after lmnotes_outputs has put the outputs in the page's
    language (so a figure's description is in it too), for HTML builders only (the gettext
    builder must not collect the captions as messages of the page).
    """
    from lmnotes_cite import page_citation

    if app.builder.format != "html" or not PAGES.fullmatch(docname):
        return
    counts = {"figure": 0, "table": 0}
    captions: dict[int, list[nodes.Node]] = {}
    outputs: dict[int, nodes.Element] = {}
    for raw in list(doctree.findall(nodes.raw)):
        output = _output_of(raw)
        if "html" not in raw.get("format", "").split() or output is None:
            continue
        kind = kind_of(raw.astext())
        if kind is None:
            continue
        counts[kind] += 1
        number = counts[kind]
        anchor = f"{kind}-{number}"
        if not raw.get("classes"):  # docutils writes ids only on a raw node with classes
            raw["classes"].append("output")
        raw["ids"].append(anchor)
        label, summary = labels(kind, number)
        entries = []
        for fmt in ("bibtex", "apa"):
            try:
                text, lexer = page_citation(
                    app.config, app.env, docname, fmt, part=label, anchor=anchor
                )
            except ValueError as err:
                logger.warning("figures: %s", err, location=docname, type="lmnotes", subtype="cite")
                return
            block = nodes.literal_block(text, text, language=lexer, translatable=False)
            block["classes"].append("lmnotes-citation")
            entries.append(block)
        caption = nodes.container(classes=["lmnotes-caption", f"lmnotes-caption-{kind}"])
        line = nodes.paragraph(
            "", "", nodes.reference("", "", nodes.strong(label, label), refid=anchor)
        )
        said = description(raw.astext())
        if kind == "table" and columns(raw.astext()):
            said = _("Columns: %(names)s") % {"names": ", ".join(columns(raw.astext()))}
        if said:
            line += nodes.Text(f". {said}")
        caption += line
        caption += nodes.raw(
            "",
            f'<details class="lmnotes-cite"><summary>{html.escape(summary)}</summary>',
            format="html",
        )
        caption.extend(entries)
        caption += nodes.raw("", "</details>", format="html")
        captions.setdefault(id(output), []).append(caption)
        outputs[id(output)] = output
    # Captions go after the output, outside it: what is inside an output is the output.
    for key, output in outputs.items():
        parent = output.parent
        index = parent.index(output)
        for offset, caption in enumerate(captions[key], 1):
            parent.insert(index + offset, caption)


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("lmnotes_catalog")
    # After lmnotes_outputs (priority 500) has translated the outputs.
    app.connect("doctree-resolved", number_figures, priority=600)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
