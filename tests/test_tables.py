"""Tests for lmnotes._tables: the one table base and the visible tokens."""

from __future__ import annotations

import dataclasses

from lmnotes._tables import Table, is_special, marker_label, visible_token


@dataclasses.dataclass(frozen=True, repr=False)
class Pairs(Table):
    rows: tuple[tuple[str, int], ...]

    columns = ("token", "id")
    numeric = (False, True)
    code = (True, False)

    def cells(self):
        return [(token, str(i)) for token, i in self.rows]

    def cell_class(self, row, column):
        return "lmnotes-ignored" if column == 1 and self.rows[row][1] < 0 else None


class TestTable:
    def test_text_str_and_repr_agree(self) -> None:
        """print, repr and to_text give the same aligned table, numbers right-aligned."""
        table = Pairs((("the", 5), ("cat", -100)))
        assert str(table) == repr(table) == table.to_text()
        assert table.to_text().splitlines() == [
            "token    id",
            "-----  ----",
            "the       5",
            "cat    -100",
        ]

    def test_html_marks_cells_with_a_class_not_a_colour(self) -> None:
        """HTML: header cells scoped, tokens in <code>, numbers classed, marked cells classed."""
        html = Pairs((("a<b", -100),))._repr_html_()
        assert '<th scope="col">token</th>' in html
        assert "<code>a&lt;b</code>" in html
        assert '<td class="lmnotes-num lmnotes-ignored">-100</td>' in html
        assert "color" not in html


class TestVisibleToken:
    def test_whitespace_shows(self) -> None:
        """Spaces, newlines and tabs are shown as ␣, \\n and \\t."""
        assert visible_token(" a\n\t") == "\u2423a\\n\\t"

    def test_cut_keeps_the_length(self) -> None:
        """A cut token is max_chars long and ends with an ellipsis; a short one is kept."""
        assert visible_token("helloworld", 6) == "hello\u2026"
        assert visible_token("ab", 6) == "ab"

    def test_special_tokens_are_never_cut(self) -> None:
        """<|endoftext|>, <pad> and [MASK] come back whole however short max_chars is."""
        for token in ("<|endoftext|>", "<pad>", "[MASK]"):
            assert is_special(token)
            assert visible_token(token, 3) == token
        assert not is_special("<|end") and not is_special("a<b>")

    def test_one_space_convention(self) -> None:
        """A byte-level BPE token and the decoded token show alike: Ġ and " " as ␣, Ċ as \\n."""
        assert visible_token("\u0120hello") == visible_token(" hello") == "\u2423hello"
        assert visible_token("\u010a") == visible_token("\n") == "\\n"
        assert marker_label("4 (new)") == "4 (new)"
