"""The site builds in both languages, and a failing code cell fails the build."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import LANGUAGES, fixture_project, page_names

pytestmark = pytest.mark.site


class TestBuiltSite:
    def test_every_page_exists_in_both_languages(self, site: Path) -> None:
        """Each source page has an HTML page in English and in French."""
        missing = [
            f"{lang}/{name}.html"
            for lang in LANGUAGES
            for name in page_names()
            if not (site / lang / f"{name}.html").is_file()
        ]
        assert not missing

    def test_html_lang_attribute(self, site: Path) -> None:
        """The French pages declare lang="fr" and the English ones lang="en"."""
        for lang in LANGUAGES:
            for name in page_names():
                soup = BeautifulSoup((site / lang / f"{name}.html").read_text("utf-8"), "lxml")
                assert soup.html["lang"] == lang, name

    def test_language_switcher_points_to_the_same_page(self, site: Path) -> None:
        """Every page links to the same page in the other language, and the target exists."""
        for lang in LANGUAGES:
            for name in page_names():
                page = site / lang / f"{name}.html"
                soup = BeautifulSoup(page.read_text("utf-8"), "lxml")
                links = soup.select("nav.lmnotes-lang-switch a.lmnotes-lang")
                assert [a["hreflang"] for a in links] == [o for o in LANGUAGES if o != lang], name
                for a in links:
                    target = (page.parent / a["href"]).resolve()
                    assert target == (site / a["hreflang"] / f"{name}.html").resolve()

    def test_french_search_index_is_french(self, site: Path) -> None:
        """The French build has its own search index with the French stemmer."""
        fr = (site / "fr" / "searchindex.js").read_text("utf-8")
        en = (site / "en" / "searchindex.js").read_text("utf-8")
        assert fr != en
        assert "language_data.js" in (site / "fr" / "search.html").read_text("utf-8")
        assert "FrenchStemmer" in (site / "fr" / "_static" / "language_data.js").read_text("utf-8")

    def test_root_page_links_both_languages(self, site: Path) -> None:
        """The root index.html links /en/ and /fr/ and picks one from the browser language."""
        root = (site / "index.html").read_text("utf-8")
        assert 'href="en/index.html"' in root and 'href="fr/index.html"' in root
        assert "navigator.language" in root

    def test_titles_are_per_language(self, site: Path) -> None:
        """html_title is set per language, the French one from the catalog lmnotes.po."""
        en = BeautifulSoup((site / "en" / "index.html").read_text("utf-8"), "lxml")
        fr = BeautifulSoup((site / "fr" / "index.html").read_text("utf-8"), "lxml")
        assert en.title.string != fr.title.string
        assert "lots d\u2019entraînement et masques d\u2019attention" in fr.title.string
        brand = fr.select_one(".sidebar-brand-text").get_text()
        assert "lmnotes\u00a0: lots d\u2019entraînement" in brand  # <title> strips the NBSP


class TestFailingCell:
    def test_a_raising_cell_fails_the_strict_build_with_its_traceback(self, tmp_path: Path) -> None:
        """A page whose code cell raises fails ``sphinx-build -W`` and the traceback is printed."""
        result = fixture_project(
            tmp_path,
            {
                "index": (
                    "# Fixture\n\n```{code-cell} ipython3\n"
                    "def deep():\n    raise RuntimeError('lmnotes-fixture-boom')\n\ndeep()\n```\n"
                )
            },
        )
        output = result.stdout + result.stderr
        assert result.returncode != 0
        assert "lmnotes-fixture-boom" in output
        assert "Traceback" in output and "deep()" in output


class TestPageWeight:
    def test_every_page_under_500_kb(self, site: Path) -> None:
        """Each page, HTML plus the images it shows, weighs less than 500 KB."""
        heavy = {}
        for lang in LANGUAGES:
            for name in page_names():
                page = site / lang / f"{name}.html"
                soup = BeautifulSoup(page.read_text("utf-8"), "lxml")
                size = page.stat().st_size + sum(
                    (page.parent / img["src"]).stat().st_size
                    for img in soup.find_all("img")
                    if (page.parent / img.get("src", "")).is_file()
                )
                if size >= 500_000:
                    heavy[f"{lang}/{name}"] = size
        assert heavy == {}
