"""Figures and result tables of the note pages are numbered, anchored and citable
(docs/_ext/lmnotes_figures.py)."""

from __future__ import annotations

from pathlib import Path

import lmnotes_figures
import polib
import pytest
from bs4 import BeautifulSoup
from conftest import DOCS, LANGUAGES, page_names

NOTE_PAGES = [name for name in page_names() if name.startswith("notes/")]
SUMMARY = {
    "en": ("Cite figure {}", "Cite table {}"),
    "fr": ("Citer la figure {}", "Citer le tableau {}"),
}
LABEL = {"en": ("Figure {}", "Table {}"), "fr": ("Figure {}", "Tableau {}")}


class TestPure:
    @pytest.mark.parametrize("name", ["lmnotes_figures", "lmnotes_catalog"])
    def test_docstring_examples(self, name: str) -> None:
        """The Examples sections of the extension run and pass."""
        import doctest
        import importlib

        results = doctest.testmod(importlib.import_module(name))
        assert results.attempted > 0 and results.failed == 0

    def test_kinds(self) -> None:
        assert lmnotes_figures.kind_of('<svg role="img" class="lmnotes-figure">') == "figure"
        assert lmnotes_figures.kind_of('<svg class="icon">') is None  # decorative: no role
        assert lmnotes_figures.kind_of('<table class="lmnotes-token-table">') == "table"
        assert lmnotes_figures.kind_of('<table class="other">') is None

    def test_description_is_the_label_up_to_its_colon(self) -> None:
        svg = '<svg role="img" aria-label="Attention mask &#8220;a&#8221;: 5 queries">'
        assert lmnotes_figures.description(svg) == "Attention mask “a”"
        assert lmnotes_figures.description('<svg role="img" aria-label="No colon">') == "No colon"
        french = (
            '<svg role="img" aria-label="Masque « gauche\u00a0: vraies clés »\u00a0: 5 requêtes">'
        )
        assert lmnotes_figures.description(french) == "Masque « gauche\u00a0: vraies clés »"
        two = '<svg role="img" aria-label="2 masks side by side. Mask “a”: 3 of 1.5">'
        assert lmnotes_figures.description(two) == "2 masks side by side"

    def test_an_unknown_kind_is_refused_by_name(self) -> None:
        with pytest.raises(ValueError, match="kind: 'chart'"):
            lmnotes_figures.labels("chart", 1)

    def test_every_word_it_writes_is_in_the_french_catalog(self) -> None:
        """The messages of catalog ``lmnotes`` (the extensions' ``_()`` and ``N_()`` words and
        the bibliography's notes, as ``nox -s gettext`` extracts them) are all translated in
        lmnotes.po."""
        import lmnotes_catalog

        messages = set(lmnotes_catalog.messages())
        assert {"Figure %(number)d", "Take this page home:", "Merged on %(date)s."} <= messages
        po = polib.pofile(str(DOCS / "locales" / "fr" / "LC_MESSAGES" / "lmnotes.po"))
        # A message that counts is (singular, plural), with both French forms.
        translated = {
            (e.msgid, e.msgid_plural) if e.msgid_plural else e.msgid
            for e in po.translated_entries()
            if not e.fuzzy and all(e.msgstr_plural.values() if e.msgid_plural else [e.msgstr])
        }
        assert messages <= translated
        assert sum(isinstance(m, tuple) for m in messages) == 6
        assert len(po) == len(messages)  # nothing obsolete


def _numbered(site: Path, lang: str, name: str) -> list[dict]:
    """Each figure and result table of a page's outputs, in order: its kind, id, caption."""
    soup = BeautifulSoup((site / lang / f"{name}.html").read_bytes(), "lxml")
    found = []
    for output in soup.select("div.cell_output > div.output"):
        kind = "figure" if output.select_one('svg[role="img"]') else None
        if kind is None and output.select_one('table[class^="lmnotes-"]'):
            kind = "table"
        if kind is None:
            continue
        anchor = output.get("id")
        captions = [
            c
            for c in soup.select("div.lmnotes-caption")
            if c.select_one("p a") and c.select_one("p a")["href"] == f"#{anchor}"
        ]
        found.append({"kind": kind, "id": anchor, "captions": captions})
    return found


@pytest.mark.site
class TestBuilt:
    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_figures_and_tables_numbered_from_one_per_page(self, site: Path, lang: str) -> None:
        """On every note page, figures and tables count 1, 2, ... in the order of the page;
        each has the anchor ``figure-N``/``table-N`` and one caption linking to it, labelled in
        the page's language."""
        total = 0
        for name in NOTE_PAGES:
            numbered = _numbered(site, lang, name)
            for kind in ("figure", "table"):
                ids = [n["id"] for n in numbered if n["kind"] == kind]
                assert ids == [f"{kind}-{k}" for k in range(1, len(ids) + 1)], name
            for item in numbered:
                assert len(item["captions"]) == 1, (name, item["id"])
                number = item["id"].split("-")[1]
                label, summary = (0, 0) if item["kind"] == "figure" else (1, 1)
                caption = item["captions"][0]
                assert caption.select_one("p strong").get_text() == LABEL[lang][label].format(
                    number
                )
                assert caption.select_one("details > summary").get_text() == SUMMARY[lang][
                    summary
                ].format(number)
                assert caption.select_one("details").get("open") is None
            total += len(numbered)
        assert total >= 20  # 15 figures and 16 tables when this test was written

    def test_anchors_are_the_same_in_both_languages(self, site: Path) -> None:
        for name in NOTE_PAGES:
            en, fr = ([n["id"] for n in _numbered(site, lang, name)] for lang in LANGUAGES)
            assert en == fr, name

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_each_entry_cites_the_figure_at_its_anchor_in_the_versioned_site(
        self, site: Path, lang: str
    ) -> None:
        """The BibTeX and APA entries of a figure name the page and the figure, and give the
        URL of its anchor in this version of the site, in the page's language."""
        from lmnotes import __version__ as release

        for name in NOTE_PAGES:
            for item in _numbered(site, lang, name):
                bibtex, apa = (pre.get_text() for pre in item["captions"][0].select("details pre"))
                url = f"/{lang}/{release}/{name}.html#{item['id']}"
                key = "lmnotes-" + name.replace("/", "-") + "-" + item["id"]
                label = item["captions"][0].select_one("p strong").get_text()
                assert bibtex.startswith(f"@misc{{{key},"), bibtex
                assert f"{url}}}" in bibtex and f", {label}}}}}" in bibtex
                assert apa.rstrip().endswith(url) and f", {label}." in apa
