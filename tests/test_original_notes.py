"""The learner's original notes: French on both sites, English translation on the English one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import LANGUAGES

pytestmark = pytest.mark.site

PAGE = "reference/original-notes"

#: Each part of the notes (section id), the pages that answer it, and lines of the notes it
#: must quote verbatim (straight apostrophes, the learner's spelling).
PARTS = {
    "original-notes-mlm": (
        ["notes/mlm.html", "reference/errata.html"],
        [
            "Dans les MLM on utilise un masquage d'un ou plusieurs tokens comme label",
            "définition : label = bonne réponse dans une entrée",
            "le model essais de prédire le mot masque",
            'tokenizer = AutoTokenizer.from_pretrained("bert-base-cased")',
            "[ 101, 2023,  103, 1037, 2503,  102]",
        ],
    ),
    "original-notes-clm": (
        ["notes/clm.html", "reference/errata.html"],
        [
            "le CML va pouvoir prédire le dernier mot de la séquence proposer en entré",
            "le masque d'attention est interne au model et se nome masque d'attention causal",
            "mlm=False  # 👈 C'est le changement crucial !",
            "[11748,   299, 32152,   355, 45941]",
        ],
    ),
    "original-notes-todo": (
        ["notes/causal-mask.html", "notes/padding-mask.html", "notes/cross-attention.html"],
        [
            "[ ] Approfondir le masque d'attention causal",
            "[ ] Role du padding mask dans le CML, c'est pas complétement clair.",
            "[ ] Vérifier le mécanisme de cross attention.",
        ],
    ),
    "original-notes-sources": (
        ["reference/bibliography.html"],
        [
            "Différence entre MLM et CLM",
            "https://www.youtube.com/watch?v=agRyKPhsqJ4",
            "https://arxiv.org/abs/1706.03762",
        ],
    ),
}


def _soup(site: Path, lang: str) -> BeautifulSoup:
    return BeautifulSoup((site / lang / f"{PAGE}.html").read_text("utf-8"), "lxml")


def _text(tag) -> str:
    return re.sub(r"\s+", " ", tag.get_text(" ").replace("¶", "")).strip()


class TestOriginalNotesPage:
    def test_page_exists_in_both_languages_and_is_linked_from_home(self, site: Path) -> None:
        """The page is built in each language and the home page's table links it."""
        for lang in LANGUAGES:
            assert (site / lang / f"{PAGE}.html").is_file()
            home = BeautifulSoup((site / lang / "index.html").read_text("utf-8"), "lxml")
            assert home.select_one(f'article table a[href="{PAGE}.html"]') is not None, lang

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_every_part_links_to_the_page_that_answers_it(self, site: Path, lang: str) -> None:
        """Each part has its section and, outside the quoted notes, links to its answering pages."""
        soup = _soup(site, lang)
        for part, (targets, _) in PARTS.items():
            section = soup.find("section", id=part)
            assert section is not None, part
            frame = [
                a["href"]
                for a in section.find_all("a", href=True)
                if not a.find_parent(class_="lmnotes-original")
            ]
            resolved = {(Path(PAGE).parent / href.split("#")[0]).as_posix() for href in frame}
            resolved = {name.replace("reference/../", "") for name in resolved}
            assert set(targets) <= resolved, (part, resolved)

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_each_part_quotes_the_notes_verbatim_in_french(self, site: Path, lang: str) -> None:
        """Each part quotes its lines of the notes unchanged, inside a lang="fr" block."""
        soup = _soup(site, lang)
        for part, (_, lines) in PARTS.items():
            originals = soup.find("section", id=part).select(".lmnotes-original")
            assert originals and all(div.get("lang") == "fr" for div in originals), part
            text = "\n".join(div.get_text() for div in originals)
            missing = [line for line in lines if line not in text]
            assert missing == [], (lang, part)

    def test_the_original_is_identical_on_both_sites(self, site: Path) -> None:
        """The quoted notes (text and code) are the same on the English and the French page."""
        en, fr = (
            [div.get_text() for div in _soup(site, lang).select(".lmnotes-original")]
            for lang in LANGUAGES
        )
        assert len(en) >= len(PARTS)
        assert en == fr

    def test_translation_on_the_english_page_only(self, site: Path) -> None:
        """In English a translation follows each French passage; the French page has none."""
        en, fr = (_soup(site, lang) for lang in LANGUAGES)
        translations = en.select(".lmnotes-translation")
        assert len(translations) >= len(PARTS)
        for block in translations:
            previous = block.find_previous_sibling("div")
            assert "lmnotes-original" in previous["class"]
            assert block.get("lang") in (None, "en")
        assert any("Definition: label = the right answer" in _text(b) for b in translations)
        assert fr.select(".lmnotes-translation") == []
        fr_text = _text(fr.find("article"))
        leaked = [_text(b) for b in translations if _text(b)[:40] in fr_text]
        assert leaked == []


class TestQuotesOnNotePages:
    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_every_quote_of_the_notes_is_verbatim(self, site: Path, lang: str) -> None:
        """Each blockquote of a note page (French guillemets and […] cuts aside) is a passage of
        the original notes, the learner's spelling kept."""
        original = _text(_soup(site, lang).find("article")).replace("\u2019", "'")
        quoted = 0
        for page in sorted((site / lang / "notes").glob("*.html")):
            article = BeautifulSoup(page.read_text("utf-8"), "lxml").find("article")
            for block in article.find_all("blockquote"):
                text = _text(block).replace("\u2019", "'").strip("«» \u202f\u00a0")
                for part in filter(None, (p.strip() for p in text.split("[…]"))):
                    assert part in original, (lang, page.name, part)
                    quoted += 1
        assert quoted >= 8
