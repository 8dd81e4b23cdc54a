r"""The words of an output, marked as messages so that the site shows them in its language.

The French site shows the outputs the English build computed (it executes no cell). So
that their words read in French while their code stays code, an output says which of its
parts are words: a *message* is an English format string (the msgid of
``docs/locales/fr/LC_MESSAGES/outputs.po``) and the values that fill it, rendered when the
page is written, in the page's language. Nothing else of an output is ever translated:
values, reprs, identifiers, dict keys, package names, tokens and library messages are
not messages, so they come out exactly as Python printed them.

Where messages come from:

- the words a page prints: in a kernel of a docs build, each literal string passed to
  ``print`` is a message (:class:`PrintedWords`, an IPython AST transformer): in
  ``print("model's loss:", loss)`` the words are ``model's loss:``, the loss is a value;
  in ``print(f"{n} rows")`` the message is ``{0} rows``; a literal with a width
  (``f"{'pads':>4}"``, or trailing spaces that align a column) keeps that width in French,
  and so does a string the cell marks itself, ``f"{msg(label):<16}"``;
- the words lmnotes draws or tabulates: the column titles of its tables (the ``to_text``
  and ``_repr_html_`` of the result tables of lmnotes) and the texts of its figures that
  are not tokens (:func:`lmnotes.display.figure_svg`), with their numbers as values in
  the page's number format.

Marking is on only in an IPython kernel started with ``LMNOTES_MESSAGES=1`` (the docs
builds set it for their kernels); anywhere else (a reader's notebook, a terminal, a
doctest) :func:`msg` returns the English text and the outputs are plain. A marked message
is the msgid and its values between private-use characters, which :func:`render` turns
into text: English on the English site, the catalog's French on the French one.

Examples
--------
>>> from lmnotes.messages import msg, render
>>> msg("{0} of {1} positions", 3, 4)  # not in a docs kernel: plain English
'3 of 4 positions'
>>> marked = msg("{0} of {1} positions", 3, 4, mark=True)
>>> render(marked), render(marked, {"{0} of {1} positions": "{0} positions sur {1}"}.get)
('3 of 4 positions', '3 positions sur 4')
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import sys
from collections.abc import Callable

__all__ = [
    "ENVIRONMENT",
    "PrintedWords",
    "french_number",
    "load_ipython_extension",
    "marking",
    "messages",
    "msg",
    "number",
    "render",
    "register_in_docs_kernel",
    "table",
    "template",
    "unload_ipython_extension",
    "words",
]

#: The variable that turns marking on in a kernel (``"1"``).
ENVIRONMENT = "LMNOTES_MESSAGES"

#: Private-use characters that delimit a message, a number and a table.
START, END, VALUE, WIDTH, NUMBER_START, TABLE_START = (chr(0xE000 + k) for k in range(6))
MARKS = frozenset((START, END, VALUE, WIDTH, NUMBER_START, TABLE_START))

#: A number as Python prints it: -3, 92,197, 0.15, 1.2e-07, 12.5%.
NUMBER = re.compile(
    r"(?<![\w.\u2212-])(?:[-\u2212](?=\d))?\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?%?(?![\w]|\.\d)"
)
_LETTERS = re.compile(r"[A-Za-z]{2,}")


def marking() -> bool:
    """Whether this process marks messages: ``LMNOTES_MESSAGES=1`` in an IPython kernel."""
    if os.environ.get(ENVIRONMENT) != "1" or "ipykernel" not in sys.modules:
        return False
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def msg(text: str, /, *values: object, width: str = "", mark: bool | None = None) -> str:
    """The message ``text`` filled with ``values``: English text, or a marked message.

    Parameters
    ----------
    text : str
        An English ``str.format`` string with positional fields (``"{0} rows"``);
        it is the msgid of the catalog.
    *values : object
        What fills the fields, as ``str`` gives it (never translated).
    width : str, optional
        A format spec for the whole message (``">13"``, ``"<18"``), kept in every language;
        none by default.
    mark : bool or None, default None
        Whether to return the marked form; ``None`` asks :func:`marking`.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``text`` is not a ``str``.

    Examples
    --------
    >>> from lmnotes.messages import msg
    >>> msg("pads", width=">6"), msg("{0} rows", 2)
    ('  pads', '2 rows')
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if mark is None:
        mark = marking()
    if not mark:
        return format(text.format(*values), width)
    spec = WIDTH + width if width else ""
    return START + text + spec + "".join(VALUE + str(v) for v in values) + END


def number(text: str, *, mark: bool | None = None) -> str:
    """A number (as Python printed it) that the page shows in its language's form.

    >>> from lmnotes.messages import number, render
    >>> render(number("0.15", mark=True), {}.get)
    '0,15'
    """
    if mark is None:
        mark = marking()
    return NUMBER_START + text + END if mark else text


def table(columns, numeric, rows, *, mark: bool | None = None) -> str:
    """A text table (a header, a rule, rows) whose titles are messages.

    Marked, it is laid out when rendered, after its titles (and the messages in its cells,
    made with :func:`msg`) are translated, so the columns stay aligned in every language;
    the other cells are data, never translated.

    >>> from lmnotes.messages import table, render
    >>> marked = table(("token", "id"), (False, True), [("the", 5)], mark=True)
    >>> print(render(marked, {"token": "jeton"}.get))
    jeton  id
    -----  --
    the     5
    """
    from lmnotes._tables import text_table

    rows = [[str(c) for c in row] for row in rows]
    if mark is None:
        mark = marking()
    if not mark:
        return text_table(columns, numeric, rows)
    payload = {"columns": list(columns), "numeric": list(numeric), "rows": rows}
    return TABLE_START + json.dumps(payload) + END


# --- rendering --------------------------------------------------------------------------------


def french_number(text: str) -> str:
    """A number as Python printed it, in French form (Babel's symbols for ``fr``): decimal
    comma, narrow no-break space for thousands and before ``%``.

    >>> from lmnotes.messages import french_number
    >>> french_number("0.15"), french_number("92,197"), french_number("12.5%")
    ('0,15', '92\u202f197', '12,5\u202f%')
    """
    from babel.numbers import get_decimal_symbol, get_group_symbol

    comma, group = get_decimal_symbol("fr"), get_group_symbol("fr")
    out = text.replace(",", "\x00").replace(".", comma).replace("\x00", group)
    return out[:-1] + "\u202f%" if out.endswith("%") else out


def _end(text: str, start: int) -> int:
    """Index of the END that closes the mark opened at ``start``."""
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch in (START, NUMBER_START, TABLE_START):
            depth += 1
        elif ch == END:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"text has an unclosed message mark at offset {start}: {text[start:][:60]!r}")


def _split(body: str) -> list[str]:
    """``body`` cut at the VALUE and WIDTH marks of its own level (not of nested marks)."""
    parts, depth, current = [], 0, []
    for ch in body:
        if ch in (START, NUMBER_START, TABLE_START):
            depth += 1
        elif ch == END:
            depth -= 1
        if depth == 0 and ch in (VALUE, WIDTH):
            parts.append("".join(current))
            current = [ch]
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def render(
    text: str,
    translate: Callable[[str], str | None] | None = None,
    *,
    html_escaped: bool = False,
    seen: set[str] | None = None,
    missing: set[str] | None = None,
) -> str:
    """``text`` with its marked messages, numbers and tables rendered.

    Parameters
    ----------
    text : str
        An output (printed text, or HTML with ``html_escaped``).
    translate : callable or None
        Gives the translation of a msgid, or ``None`` (the English is kept and the msgid
        added to ``missing``). ``None`` renders English, with numbers as printed.
    html_escaped : bool, default False
        The marks sit in HTML: msgids and values are unescaped before, the result escaped after.
    seen, missing : set or None
        Filled with the msgids met, and those ``translate`` had no translation for.

    Returns
    -------
    str
        The text without marks.

    Raises
    ------
    ValueError
        If a mark is not closed, or a translation's fields do not match its message.
    """
    out, i = [], 0
    while True:
        starts = [text.find(m, i) for m in (START, NUMBER_START, TABLE_START)]
        starts = [s for s in starts if s >= 0]
        if not starts:
            out.append(text[i:])
            break
        s = min(starts)
        e = _end(text, s)
        out.append(text[i:s])
        out.append(_render_one(text[s], text[s + 1 : e], translate, html_escaped, seen, missing))
        i = e + 1
    return "".join(out)


def _render_one(kind, body, translate, html_escaped, seen, missing) -> str:
    unescape = html.unescape if html_escaped else (lambda s: s)
    escape = html.escape if html_escaped else (lambda s: s)

    def inner(value: str) -> str:  # a value, itself rendered (it may hold marks)
        return unescape(
            render(value, translate, html_escaped=html_escaped, seen=seen, missing=missing)
        )

    if kind == NUMBER_START:
        value = unescape(body)
        return escape(french_number(value) if translate is not None else value)
    if kind == TABLE_START:
        from lmnotes._tables import text_table

        payload = json.loads(unescape(body))
        columns = [
            _message(c, [], translate, seen, missing) if c.strip() else c
            for c in payload["columns"]
        ]
        rows = [
            [render(c, translate, seen=seen, missing=missing) for c in row]
            for row in payload["rows"]
        ]
        return escape(text_table(columns, payload["numeric"], rows))
    parts = _split(body)
    msgid = unescape(parts[0])
    width = next((unescape(p[1:]) for p in parts[1:] if p[0] == WIDTH), "")
    values = [inner(p[1:]) for p in parts[1:] if p[0] == VALUE]
    return escape(format(_message(msgid, values, translate, seen, missing), width))


def _message(msgid, values, translate, seen, missing) -> str:
    if seen is not None:
        seen.add(msgid)
    template = msgid
    if translate is not None:
        found = translate(msgid)
        if found:
            template = found
        elif missing is not None:
            missing.add(msgid)
    try:
        return template.format(*values)
    except (IndexError, KeyError, ValueError) as err:
        raise ValueError(
            f"the translation {template!r} of {msgid!r} "
            f"does not fit its {len(values)} values: {err}"
        ) from err


def messages(text: str, *, html_escaped: bool = False) -> set[str]:
    """The msgids marked in ``text`` (nested ones and table titles included)."""
    seen: set[str] = set()
    render(text, None, html_escaped=html_escaped, seen=seen)
    return seen


def template(text: str) -> tuple[str, list[str]]:
    """``text`` as a format string with each number a field, and the numbers in order.

    >>> from lmnotes.messages import template
    >>> template("4 (new) of {x}")
    ('{0} (new) of {{x}}', ['4'])
    """
    numbers: list[str] = []

    def hole(match: re.Match[str]) -> str:
        numbers.append(match.group(0))
        return f"\x00{len(numbers) - 1}\x01"

    marked = NUMBER.sub(hole, text).replace("{", "{{").replace("}", "}}")
    return marked.replace("\x00", "{").replace("\x01", "}"), numbers


def words(text: str, *, mark: bool | None = None) -> str:
    """A text an lmnotes object draws (a figure's title, an alt text) as a message whose
    numbers are values in the page's number form; text without words stays a number or as is.

    >>> from lmnotes.messages import words, render
    >>> render(words("row 3 of 4", mark=True), {"row {0} of {1}": "ligne {0} sur {1}"}.get)
    'ligne 3 sur 4'
    """
    if mark is None:
        mark = marking()
    if not mark:
        return text
    if not _LETTERS.search(text):
        return NUMBER.sub(lambda m: number(m.group(0), mark=True), text)
    msgid, numbers = template(text)
    return msg(msgid, *(number(n, mark=True) for n in numbers), mark=True)


# --- the words a page prints ------------------------------------------------------------------


def _call(name: str, args: list[ast.expr], keywords: list[ast.keyword] | None = None) -> ast.Call:
    module = ast.Call(
        func=ast.Name(id="__import__", ctx=ast.Load()),
        args=[ast.Constant("lmnotes.messages")],
        keywords=[ast.keyword(arg="fromlist", value=ast.List([ast.Constant(name)], ast.Load()))],
    )
    func = ast.Attribute(value=module, attr=name, ctx=ast.Load())
    return ast.Call(func=func, args=args, keywords=keywords or [])


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


class PrintedWords(ast.NodeTransformer):
    """An IPython AST transformer: the literal strings passed to ``print`` become messages.

    ``print("pad token:", tok.pad_token)`` runs as
    ``print(msg("pad token:"), tok.pad_token)``; an f-string with words,
    ``f"{n} of {m} rows"``, as ``msg("{0} of {1} rows", f"{n}", f"{m}")`` (each value
    formatted by its own spec, as Python would); a literal field, ``f"{'pads':>4}"``, as
    ``msg("pads", width=">4")``. Spaces and newlines around the words stay outside the
    message, except spaces after them, which become its width (they align a column); a
    label that opens the line (``"keys:"``) is as wide in French as in English, at least,
    so lines of labels aligned in English stay aligned when the French is not longer.
    Everything else passed to ``print`` is left as it is.
    """

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            node.args = [self._argument(a, first=k == 0) for k, a in enumerate(node.args)]
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        """Anywhere in a cell, ``f"{msg(label):48}"`` pads the words, not the marks."""
        self.generic_visit(node)
        node.values = [self._field(p, literals=False) for p in node.values]
        return node

    def _argument(self, arg: ast.expr, *, first: bool = False) -> ast.expr:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            if not _LETTERS.search(arg.value):
                return arg
            return self._wrap([ast.Constant(arg.value)], arg, label=first)
        if isinstance(arg, ast.JoinedStr):
            parts = [self._field(p) for p in arg.values]
            words = "".join(p.value for p in parts if isinstance(p, ast.Constant))
            if _LETTERS.search(words):
                return self._wrap(parts, arg)
            return ast.copy_location(ast.JoinedStr(values=parts), arg)
        return arg

    def _field(self, part: ast.expr, *, literals: bool = True) -> ast.expr:
        """A literal string field (``{'pads':>4}``) becomes a message with that width, and so
        does a message field (``{msg(label):<16}``): the width applies to the rendered words."""
        if not isinstance(part, ast.FormattedValue) or part.conversion != -1:
            return part
        spec_parts = part.format_spec.values if part.format_spec else []
        if not all(isinstance(v, ast.Constant) for v in spec_parts):
            return part
        spec = "".join(v.value for v in spec_parts)
        width = [ast.keyword(arg="width", value=ast.Constant(spec))] if spec else []
        value = part.value
        if (
            literals
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and _LETTERS.search(value.value)
        ):
            call = _call("msg", [ast.Constant(_literal(value.value))], width)
            return ast.FormattedValue(value=call, conversion=-1, format_spec=None)
        is_msg = isinstance(value, ast.Call) and (
            (isinstance(value.func, ast.Name) and value.func.id == "msg")
            or (isinstance(value.func, ast.Attribute) and value.func.attr == "msg")
        )
        if is_msg and spec and not any(k.arg == "width" for k in value.keywords):
            call = ast.Call(func=value.func, args=value.args, keywords=[*value.keywords, *width])
            return ast.FormattedValue(value=call, conversion=-1, format_spec=None)
        return part

    def _wrap(self, parts: list[ast.expr], where: ast.expr, *, label: bool = False) -> ast.expr:
        template, values = [], []
        for part in parts:
            if isinstance(part, ast.Constant):
                template.append(_literal(part.value))
            else:
                template.append(f"{{{len(values)}}}")
                values.append(ast.JoinedStr(values=[part]))
        text = "".join(template)
        core = text.strip()
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        width = ""
        if trail and set(trail) == {" "} and not values and "{" not in core:
            width, trail = f"<{len(core) + len(trail)}", ""
        elif label and not trail and not values and "{" not in core and core.endswith(":"):
            width = f"<{len(core)}"  # a label before a value: lines of labels stay aligned
        keywords = [ast.keyword(arg="width", value=ast.Constant(width))] if width else []
        new: ast.expr = _call("msg", [ast.Constant(core), *values], keywords)
        if lead:
            new = ast.BinOp(
                left=ast.Constant(lead.replace("{{", "{").replace("}}", "}")),
                op=ast.Add(),
                right=new,
            )
        if trail:
            new = ast.BinOp(
                left=new,
                op=ast.Add(),
                right=ast.Constant(trail.replace("{{", "{").replace("}}", "}")),
            )
        return ast.fix_missing_locations(ast.copy_location(new, where))


def load_ipython_extension(ipython) -> None:
    """Mark the words of ``print`` calls in ``ipython``'s cells (once per shell)."""
    if not any(isinstance(t, PrintedWords) for t in ipython.ast_transformers):
        ipython.ast_transformers.append(PrintedWords())


def unload_ipython_extension(ipython) -> None:
    """Stop marking the words of ``print`` calls."""
    ipython.ast_transformers[:] = [
        t for t in ipython.ast_transformers if not isinstance(t, PrintedWords)
    ]


def register_in_docs_kernel() -> None:
    """Load the extension if this is a docs build's kernel (:func:`marking`)."""
    if marking():
        load_ipython_extension(sys.modules["IPython"].get_ipython())
