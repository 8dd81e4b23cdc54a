"""Plain-text and HTML tables shared by the result classes of lmnotes (private).

:class:`lmnotes.display.TokenTable`, :class:`lmnotes.display.NextTokenTable` and
:class:`lmnotes.generation.TopPredictionTable` print themselves with :func:`text_table` and
render in notebooks with :func:`html_table`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

__all__: list[str] = []


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


def html_table(columns: Sequence[str], body: Iterable[str]) -> str:
    """An HTML table of class ``lmnotes-token-table`` with escaped ``columns`` as header.

    Parameters
    ----------
    columns : sequence of str
        Column titles (escaped here).
    body : iterable of str
        The ``<tr>...</tr>`` rows, already rendered (and escaped) by the caller.

    Returns
    -------
    str
    """
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    return (
        '<table class="lmnotes-token-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
