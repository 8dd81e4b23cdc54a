"""lmnotes.messages: which words of an output are messages, and how they are rendered."""

from __future__ import annotations

import ast
import contextlib
import io

import pytest

from lmnotes import messages
from lmnotes.messages import PrintedWords, msg, render, table, words

FRENCH = {
    "with the cache:": "avec le cache\u00a0:",
    "{0} of {1} rows": "{1} lignes, dont {0}",
    "pads": "bourre",
    "softmax over -inf:": "softmax sur -inf\u00a0:",
    "token": "jeton",
    "row {0}": "ligne {0}",
}


def printed(source: str, namespace: dict | None = None) -> str:
    """What ``source`` prints, run as a docs kernel runs it (marked)."""
    tree = ast.fix_missing_locations(PrintedWords().visit(ast.parse(source)))
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(tree, "<cell>", "exec"), dict(namespace or {}))
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def marking(monkeypatch):
    """As in a docs build's kernel."""
    monkeypatch.setattr(messages, "marking", lambda: True)


class TestPrintedWords:
    def test_literals_are_messages_values_are_not(self) -> None:
        out = printed("print('with the cache:   ', ids, 'with the cache:')", {"ids": [1, 2]})
        assert messages.messages(out) == {"with the cache:"}
        assert render(out) == "with the cache:    [1, 2] with the cache:\n"
        # The trailing spaces that align a column are the message's width, in French too.
        assert render(out, FRENCH.get) == "avec le cache\u00a0:    [1, 2] avec le cache\u00a0:\n"

    def test_a_label_that_opens_a_line_keeps_its_english_width(self) -> None:
        out = printed("print('pads:', 1)\nprint('with the mask:', 2)")
        assert render(out) == "pads: 1\nwith the mask: 2\n"
        french = {"pads:": "rem.\u00a0:", "with the mask:": "masqué\u00a0:"}
        assert render(out, french.get) == "rem.\u00a0: 1\nmasqué\u00a0:       2\n"

    def test_a_string_value_is_never_a_message(self) -> None:
        """A str computed by the cell (a token, a package name, a key) prints as it is."""
        out = printed("print(name, repr(name), {'labels': 1})", {"name": "with the cache:"})
        assert messages.messages(out) == set()
        assert out == "with the cache: 'with the cache:' {'labels': 1}\n"

    def test_f_string_fields_are_values(self) -> None:
        out = printed("print(f'{n} of {m:.1f} rows')", {"n": 3, "m": 4})
        assert messages.messages(out) == {"{0} of {1} rows"}
        assert render(out) == "3 of 4.0 rows\n"
        assert render(out, FRENCH.get) == "4.0 lignes, dont 3\n"  # values as Python printed them

    def test_literal_fields_keep_their_width(self) -> None:
        out = printed("print(f\"{'pads':>6}|{x:>4}\")", {"x": 7})
        assert render(out) == "  pads|   7\n"
        assert render(out, FRENCH.get) == "bourre|   7\n"

    def test_a_message_field_takes_the_width(self) -> None:
        """A string the cell marks itself keeps its column: the width applies to the words."""
        source = "from lmnotes.messages import msg\nprint(f'{msg(label):<6}|' + f'{msg(label):6}|')"
        out = printed(source, {"label": "pads"})
        assert render(out) == "pads  |pads  |\n"
        assert render(out, FRENCH.get) == "bourre|bourre|\n"

    def test_newlines_and_indents_stay_outside(self) -> None:
        out = printed("print('  softmax over -inf:\\n', x)", {"x": 0})
        assert messages.messages(out) == {"softmax over -inf:"}
        assert render(out, FRENCH.get) == "  softmax sur -inf\u00a0:\n 0\n"

    def test_braces_of_a_literal(self) -> None:
        out = printed("print('{% generation %} in the template:', True)")
        assert messages.messages(out) == {"{{% generation %}} in the template:"}
        assert render(out) == "{% generation %} in the template: True\n"

    def test_only_print_is_rewritten(self) -> None:
        out = printed("x = 'with the cache:'\nprint(x.upper(), 'pads')\nx.split('pads')")
        assert messages.messages(out) == {"pads"}
        assert render(out) == "WITH THE CACHE: pads\n"


class TestRender:
    def test_nested_messages_and_numbers(self) -> None:
        marked = msg("{0} of {1} rows", words("row 3", mark=True), 5, mark=True)
        assert render(marked) == "row 3 of 5 rows"
        assert render(marked, FRENCH.get) == "5 lignes, dont ligne 3"

    def test_missing_is_reported_and_english_kept(self) -> None:
        missing: set[str] = set()
        assert render(msg("no such words", mark=True), {}.get, missing=missing) == "no such words"
        assert missing == {"no such words"}

    def test_a_translation_that_drops_a_field_fails(self) -> None:
        with pytest.raises(ValueError, match="does not fit its 1 values"):
            render(msg("{0} rows", 3, mark=True), {"{0} rows": "{1} lignes"}.get)

    def test_an_unclosed_mark_fails(self) -> None:
        with pytest.raises(ValueError, match="unclosed message mark"):
            render(msg("rows", mark=True)[:-1])

    def test_a_table_is_laid_out_after_its_titles_are_translated(self) -> None:
        marked = table(("token", "id"), (False, True), [("the", 5), ("cat", 12)], mark=True)
        assert render(marked, FRENCH.get).split("\n") == [
            "jeton  id",
            "-----  --",
            "the     5",
            "cat    12",
        ]
        plain = table(("token", "id"), (False, True), [("the", 5), ("cat", 12)], mark=False)
        assert render(marked) == plain

    def test_bad_text_is_named(self) -> None:
        with pytest.raises(TypeError, match="text must be a str, got int"):
            msg(3)


class TestMarking:
    def test_off_outside_a_kernel(self, monkeypatch) -> None:
        """A reader's terminal or a doctest gets plain English, even with the variable set."""
        monkeypatch.undo()
        monkeypatch.setenv(messages.ENVIRONMENT, "1")
        assert messages.marking() is False
        assert msg("rows") == "rows" and words("row 3") == "row 3"

    def test_tables_and_figures_mark_their_words(self) -> None:
        import torch

        from lmnotes.display import figure_svg, plot_mask

        svg = figure_svg(plot_mask(torch.ones(2, 2, dtype=torch.bool).tril(), title="row 1"))
        assert "row {0}" in messages.messages(svg, html_escaped=True)
        assert ">ligne 1</text>" in render(svg, FRENCH.get, html_escaped=True)
        assert ">row 1</text>" in render(svg, html_escaped=True)
