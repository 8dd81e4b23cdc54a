"""Each note page to take home: its executed notebook and its MyST source, beside the page.

For each note page (``notes/...``) that has code cells, the HTML build writes next to the
page its notebook, ``<page>.ipynb`` (the page's cells with the outputs of the execution
cache, read as MyST-NB reads them; its markdown and the messages of its outputs in the page's
language), and its MyST
source, ``<page>.md``; a line under the page's title links to both and to the how-to
section that runs them.

In French, each block of prose of a markdown cell (a paragraph, a heading, a list item, a
table cell, a directive's title) is replaced by its message in the page's catalog,
``locales/fr/LC_MESSAGES/<page>.po``, the one the French page is built from; code blocks,
doctests, math, labels, directive options and the quotes of the learner's notes (block
quotes, already in French) stay as written. A block that has no
translation is a warning (type ``lmnotes.notebook``): the strict build fails rather than
hand a French reader English prose. The source stays the English MyST file: the French is in
the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lmnotes_outputs
from docutils import nodes
from lmnotes_catalog import _
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: The pages that offer their notebook.
PAGES = re.compile(r"notes/.+")
#: The how-to section that says how to run a notebook at home.
HOW_TO, HOW_TO_ANCHOR = "how-to/offline", "offline-run-a-page"

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^(?P<marks>#{1,6}\s+)(?P<text>.+?)\s*$")
_ITEM = re.compile(r"^(?P<marker>\s*(?:[-*+]|\d+[.)])\s+)(?P<text>.*)$")
_OPTION = re.compile(r"^\s*:[\w-]+:")
_TARGET = re.compile(r"^\s*\([\w-]+\)=\s*$")
_DIRECTIVE = re.compile(r"^\{(?P<name>[\w:-]+)\}\s*(?P<argument>.*)$")
#: Directives whose body is prose (the others, doctest, bibliography, ..., are copied).
_PROSE_BODY = frozenset({"admonition", "dropdown", "note", "warning", "tip", "important"})
#: Directives whose argument is prose.
_PROSE_ARGUMENT = frozenset({"admonition", "dropdown"})


def _has_words(text: str) -> bool:
    return bool(re.search(r"[A-Za-z]{2}", re.sub(r"`[^`]*`|\{[^}]*\}", "", text)))


def translate_markdown(text: str, lookup: Callable[[str], str | None]) -> tuple[str, list[str]]:
    """``text`` (the MyST markdown of one cell) with each block of prose replaced by
    ``lookup(message)``; and the messages ``lookup`` had no answer for.

    A paragraph's message is its lines joined by spaces, as Sphinx's gettext builder makes it.

    Examples
    --------
    >>> from lmnotes_notebooks import translate_markdown
    >>> fr = {"Title": "Titre", "One line and another.": "Une ligne et une autre."}
    >>> translate_markdown("# Title\\n\\nOne line\\nand another.\\n\\n```\\nx = 1\\n```", fr.get)
    ('# Titre\\n\\nUne ligne et une autre.\\n\\n```\\nx = 1\\n```', [])
    >>> translate_markdown("- A new item", fr.get)
    ('- A new item', ['A new item'])
    """
    lines = text.split("\n")
    out: list[str] = []
    missing: list[str] = []
    block: list[str] = []
    prefix = ""

    def message(source: str) -> str:
        found = lookup(source)
        if found:
            return found
        if _has_words(source):
            missing.append(source)
        return source

    def flush() -> None:
        nonlocal block, prefix
        if block:
            source = " ".join(line.strip() for line in block)
            out.append(prefix + message(source))
        block, prefix = [], ""

    fences: list[tuple[str, bool]] = []  # open fences: (fence, body is prose)
    for line in lines:
        fence = _FENCE.match(line)
        if fences and not fences[-1][1]:  # inside a block copied as it is
            out.append(line)
            if fence and fence["fence"] == fences[-1][0] and not fence["info"].strip():
                fences.pop()
            continue
        if fence:
            flush()
            if fences and fence["fence"] == fences[-1][0] and not fence["info"].strip():
                fences.pop()
                out.append(line)
                continue
            directive = _DIRECTIVE.match(fence["info"].strip())
            name = directive["name"] if directive else ""
            argument = directive["argument"].strip() if directive else ""
            if name in _PROSE_ARGUMENT and argument:
                line = line[: len(line) - len(argument)] + message(argument)
            fences.append((fence["fence"], name in _PROSE_BODY))
            out.append(line)
            continue
        if not line.strip():
            flush()
            out.append(line)
            continue
        if (
            _OPTION.match(line)
            or _TARGET.match(line)
            or line.strip().startswith(("$$", ">"))  # math; the learner's notes, verbatim
        ):
            flush()
            out.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            out.append(heading["marks"] + message(heading["text"]))
            continue
        if line.lstrip().startswith("|"):
            flush()
            cells = line.strip().strip("|").split("|")
            if all(set(cell.strip()) <= set("-: ") for cell in cells):
                out.append(line)
            else:
                out.append("| " + " | ".join(message(c.strip()) for c in cells) + " |")
            continue
        item = _ITEM.match(line)
        if item:
            flush()
            prefix, block = item["marker"], [item["text"]]
            continue
        block.append(line)
    flush()
    return "\n".join(out), missing


def _catalog(app: Sphinx, docname: str) -> dict[str, str]:
    import polib

    path = Path(app.confdir) / "locales" / app.config.language / "LC_MESSAGES" / f"{docname}.po"
    if not path.is_file():
        return {}
    po = polib.pofile(str(path))
    return {e.msgid: e.msgstr for e in po.translated_entries() if "fuzzy" not in e.flags}


def _is_notebook(app: Sphinx, docname: str) -> bool:
    """Whether a note page is a notebook (MyST-NB executes it: it has code cells)."""
    source = Path(app.srcdir) / f"{docname}.md"
    return (
        bool(PAGES.fullmatch(docname))
        and source.is_file()
        and "```{code-cell}" in source.read_text("utf-8")
    )


def executed_notebook(app: Sphinx, docname: str) -> Any:
    """The page's notebook with the outputs of the execution cache, as MyST-NB reads it (the
    build's own cache: the French build executes nothing)."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    source = Path(app.srcdir) / f"{docname}.md"
    text = source.read_text("utf-8")
    config = app.env.mystnb_config
    notebook = create_nb_reader(str(source), app.env.myst_config, config, text).read(text)
    notebook.metadata["kernelspec"]["name"] = "python3"  # nb_kernel_rgx_aliases
    _, merged = get_cache(config.execution_cache_path).merge_match_into_notebook(notebook)
    return merged


def _links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Put the links to the page's notebook, its source and the how-to under its title."""
    if app.builder.format != "html" or not _is_notebook(app, docname):
        return
    name = docname.rsplit("/", 1)[-1]
    how_to = app.builder.get_relative_uri(docname, HOW_TO) + f"#{HOW_TO_ANCHOR}"
    line = nodes.paragraph(classes=["lmnotes-take-home"])
    line += nodes.Text(_("Take this page home:") + " ")
    line += nodes.reference("", _("notebook (.ipynb)"), refuri=f"{name}.ipynb")
    line += nodes.Text(" · ")
    line += nodes.reference("", _("MyST source (.md)"), refuri=f"{name}.md")
    line += nodes.Text(" · ")
    line += nodes.reference("", _("how to run it"), refuri=how_to, internal=True)
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        return
    section.insert(1, line)


def _render_outputs(notebook: Any, catalog: Any) -> None:
    """The marked messages of the outputs in the catalog's language (lmnotes_outputs)."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if isinstance(output.get("text"), str):
                output["text"] = catalog.render(output["text"])
            for mime, value in output.get("data", {}).items():
                if isinstance(value, str) and lmnotes_outputs.has_marks(value):
                    escaped = mime in ("text/html", "image/svg+xml")
                    output["data"][mime] = catalog.render(value, html_escaped=escaped)


def _write(app: Sphinx, exception: Exception | None) -> None:
    """Write ``<page>.ipynb`` (prose in the page's language) and ``<page>.md`` beside each
    note page this build wrote (its HTML is newer than its notebook, or it has none): a
    rebuild that writes one page writes one notebook."""
    import nbformat

    if exception is not None or app.builder.format != "html":
        return
    language = app.config.language or "en"
    for docname in sorted(d for d in app.env.found_docs if _is_notebook(app, d)):
        html, out = Path(app.outdir) / f"{docname}.html", Path(app.outdir) / f"{docname}.ipynb"
        if out.is_file() and html.is_file() and out.stat().st_mtime_ns >= html.stat().st_mtime_ns:
            continue
        notebook = executed_notebook(app, docname)
        if language != "en":
            lookup = _catalog(app, docname).get
            for cell in notebook.cells:
                if cell.cell_type != "markdown":
                    continue
                cell.source, missing = translate_markdown(cell.source, lookup)
                for source in missing:
                    logger.warning(
                        "notebook: no %s translation of %r",
                        language,
                        source[:80],
                        location=docname,
                        type="lmnotes",
                        subtype="notebook",
                    )
        _render_outputs(notebook, lmnotes_outputs.catalog_for(app))
        notebook.metadata.pop("mystnb", None)
        notebook.metadata["language_info"] = {"name": "python"}
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out)
        source = Path(app.srcdir) / f"{docname}.md"
        (Path(app.outdir) / f"{docname}.md").write_bytes(source.read_bytes())


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("lmnotes_catalog")
    app.connect("doctree-resolved", _links)
    app.connect("build-finished", _write)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
