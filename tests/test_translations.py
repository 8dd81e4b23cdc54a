"""The French catalogs are complete and the French site is really French."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from bs4 import BeautifulSoup

from conftest import DOCS, page_names

LOCALES = DOCS / "locales" / "fr" / "LC_MESSAGES"
CATALOGS = sorted(LOCALES.rglob("*.po"))
EN_WORDS = {"the", "is", "and", "of", "to", "that", "which", "with", "are", "this", "each", "what"}
FR_WORDS = {"le", "la", "les", "des", "est", "une", "du", "et", "dans", "pour", "que", "qui", "sont"}


def _catalog_id(path: Path) -> str:
    return path.relative_to(LOCALES).with_suffix("").as_posix()


class TestCatalogs:
    def test_every_page_has_a_catalog(self) -> None:
        """Each source page has docs/locales/fr/LC_MESSAGES/<page>.po."""
        assert sorted(page_names()) == sorted(_catalog_id(p) for p in CATALOGS)

    @pytest.mark.parametrize("path", CATALOGS, ids=_catalog_id)
    def test_no_fuzzy_empty_or_obsolete_entry(self, path: Path) -> None:
        """No entry is fuzzy, untranslated or obsolete, and the header is not fuzzy."""
        po = polib.pofile(str(path))
        assert not po.metadata_is_fuzzy, "header still marked fuzzy"
        assert [e.msgid for e in po.fuzzy_entries()] == []
        assert [e.msgid for e in po.untranslated_entries()] == []
        assert [e.msgid for e in po.obsolete_entries()] == []
        assert po.metadata.get("Language") == "fr"


def _visible_blocks(html: str) -> list[str]:
    """Prose of the article: paragraphs, list items, headings, table cells; code and outputs left out."""
    soup = BeautifulSoup(html, "html.parser")
    article = soup.find("article") or soup
    for tag in article.select("pre, code, div.cell_output, div.output, .highlight, script, style, .lmnotes-docstrings"):
        tag.decompose()
    blocks = []
    for tag in article.find_all(["p", "li", "h1", "h2", "h3", "dt", "dd", "th", "td", "figcaption"]):
        text = re.sub(r"\s+", " ", tag.get_text(" ")).replace("¶", "").replace("#", "").strip()
        if text:
            blocks.append(text)
    return blocks


@pytest.mark.site
class TestFrenchPages:
    @pytest.mark.parametrize("name", page_names())
    def test_french_page_is_not_an_english_fallback(self, site: Path, name: str) -> None:
        """No prose block of six words or more is identical in both languages, and French words dominate."""
        en = _visible_blocks((site / "en" / f"{name}.html").read_text("utf-8"))
        fr = _visible_blocks((site / "fr" / f"{name}.html").read_text("utf-8"))
        same = sorted({b for b in set(en) & set(fr) if len(b.split()) >= 6})
        assert same == [], f"untranslated in fr/{name}.html"
        words = re.findall(r"[a-zà-ÿ]+", " ".join(fr).lower())
        fr_count = sum(w in FR_WORDS for w in words)
        en_count = sum(w in EN_WORDS for w in words)
        assert fr_count > 2 * en_count, (fr_count, en_count)
