"""The base of every result table of lmnotes, in plain text and HTML (private).

:class:`Table` gives a result class its ``__str__``, ``__repr__`` and ``_repr_html_``
(notebooks) from two things the subclass declares: its ``columns`` and their alignment,
and its rows as text cells. :func:`visible_token` shows the whitespace of a token.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import ClassVar

from lmnotes import messages

__all__: list[str] = []


#: A special token as tokenizers write it: ``<|endoftext|>``, ``<s>``, ``[MASK]``.
_SPECIAL = re.compile(r"<\|?[^\s<>]+\|?>|\[[A-Z_]+\]")


def marker_label(label: str) -> str:
    """A label with byte-level BPE's markers drawn as lmnotes draws whitespace everywhere.

    ``convert_ids_to_tokens`` of a byte-level BPE tokenizer (GPT-2, SmolLM2, CodeGen)
    writes a space as ``Ġ`` and a newline as ``Ċ``; the figures and tables of lmnotes show
    a space as ``␣`` and a newline as ``\\n`` (:func:`visible_token`), whatever the
    tokenizer. Other characters, spaces included, are left alone (``"4 (new)"`` stays).

    Examples
    --------
    >>> from lmnotes._tables import marker_label
    >>> marker_label("Ġhello"), marker_label("):Ċ"), marker_label("4 (new)")
    ('␣hello', '):\\\\n', '4 (new)')
    """
    return label.replace("\u0120", "\u2423").replace("\u010a", "\\n")


def is_special(token: str) -> bool:
    """Whether ``token`` is written like a special token (``<|endoftext|>``, ``<s>``, ``[SEP]``).

    Examples
    --------
    >>> from lmnotes._tables import is_special
    >>> is_special("<|endoftext|>"), is_special("[MASK]"), is_special("<"), is_special("Ġhello")
    (True, True, False, False)
    """
    return _SPECIAL.fullmatch(token) is not None


def visible_token(token: str, max_chars: int | None = None) -> str:
    """Spaces as ``␣``, newlines and tabs escaped; cut to ``max_chars`` with ``…`` if given.

    A byte-level BPE token string (``Ġhello``) shows like the decoded token
    (:func:`marker_label`). A special token (:func:`is_special`) is never cut: a
    reader must be able to read ``<|endoftext|>`` whole.

    Parameters
    ----------
    token : str
        A decoded token (``tokenizer.decode([id])``) or a token string.
    max_chars : int or None, default None
        Longest result for an ordinary token; ``None`` keeps the whole token.

    Returns
    -------
    str

    Examples
    --------
    >>> from lmnotes._tables import visible_token
    >>> visible_token(" hello"), visible_token("Ġhello"), visible_token("helloworld", 6)
    ('␣hello', '␣hello', 'hello…')
    >>> visible_token("<|endoftext|>", 6)
    '<|endoftext|>'
    """
    shown = marker_label(token.replace(" ", "\u2423").replace("\n", "\\n").replace("\t", "\\t"))
    if max_chars is None or len(shown) <= max_chars or is_special(token):
        return shown
    return shown[: max_chars - 1] + "\u2026"


def text_table(columns: Sequence[str], numeric: Sequence[bool], rows: Iterable) -> str:
    """Aligned plain text: a header, a rule, one line per row (numbers right-aligned).

    Parameters
    ----------
    columns : sequence of str
        Column titles.
    numeric : sequence of bool
        For each column, whether it is right-aligned (numbers) rather than left-aligned.
    rows : iterable of tuples
        The cells, turned into text with ``str``.

    Returns
    -------
    str
        The lines joined with newlines, trailing spaces stripped.

    Examples
    --------
    >>> from lmnotes._tables import text_table
    >>> print(text_table(("token", "id"), (False, True), [("the", 5), ("cat", 12)]))
    token  id
    -----  --
    the     5
    cat    12
    """
    cells = [tuple(columns), *[tuple(str(c) for c in row) for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]

    def line(row):
        parts = [
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(row, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *[line(r) for r in cells[1:]]])


class Table:
    """Base of the result tables: plain text for ``print``, HTML for notebooks.

    A subclass sets ``columns`` (titles), ``numeric`` (right-aligned columns) and ``code``
    (columns shown as ``<code>``: tokens), and implements :meth:`cells`, the rows as text.
    It may override :meth:`cell_class` to mark a cell (``"lmnotes-ignored"`` for an
    ignored label, ``"lmnotes-hit"`` for a correct prediction); a marked cell carries the
    class in HTML, never a colour alone.
    """

    columns: ClassVar[tuple[str, ...]] = ()
    numeric: ClassVar[tuple[bool, ...]] = ()
    code: ClassVar[tuple[bool, ...]] = ()

    def cells(self) -> list[tuple[str, ...]]:
        """The rows as text cells, one tuple per row (implemented by subclasses)."""
        raise NotImplementedError

    def cell_class(self, row: int, column: int) -> str | None:
        """CSS class of one HTML cell, or None; a subclass marks cells that way."""
        return None

    def to_text(self) -> str:
        """The table as aligned plain text (header, rule, one line per row)."""
        return messages.table(self.columns, self.numeric, self.cells())

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        """The table as HTML: tokens in ``<code>``, numbers right-aligned, marked cells classed."""
        code = self.code or (False,) * len(self.columns)
        head = "".join(
            f'<th scope="col">{html.escape(messages.words(c))}</th>' for c in self.columns
        )
        body = []
        for r, row in enumerate(self.cells()):
            tds = []
            for c, (cell, numeric, is_code) in enumerate(zip(row, self.numeric, code, strict=True)):
                classes = [
                    name
                    for name in ("lmnotes-num" if numeric else None, self.cell_class(r, c))
                    if name
                ]
                attr = f' class="{" ".join(classes)}"' if classes else ""
                if is_code and cell:
                    text = f"<code>{html.escape(cell)}</code>"
                else:  # words and numbers: messages the site shows in its language
                    text = html.escape(messages.words(cell))
                tds.append(f"<td{attr}>{text}</td>")
            body.append(f"<tr>{''.join(tds)}</tr>")
        return (
            '<table class="lmnotes-token-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )
