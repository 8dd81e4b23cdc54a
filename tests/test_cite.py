"""Citations: the BibTeX and APA that the site generates agree with CITATION.cff and the page."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import DOCS, LANGUAGES, ROOT
from pybtex.database import parse_string

import lmnotes

sys.path.insert(0, str(DOCS / "_ext"))
import lmnotes_cite  # noqa: E402

CFF_PATH = ROOT / "CITATION.cff"
CFF = yaml.safe_load(CFF_PATH.read_text(encoding="utf-8"))
RELEASED = dt.date.fromisoformat(str(CFF["date-released"]))
EPOCH = "1795046400"  # 2026-11-19 00:00 UTC
EPOCH_DATE = dt.date(2026, 11, 19)


def _cff_author_names(cff: dict) -> list[str]:
    """Author names as the CFF gives them: "Given Family" for a person, the name for an entity."""
    return [a["name"] if "name" in a else f"{a['given-names']} {a['family-names']}" for a in cff["authors"]]


def _bibtex_author_names(entry) -> list[str]:
    """Author names of a pybtex entry, braces of entity names removed."""
    return [str(p).strip("{}") if not p.first_names else " ".join(p.first_names + p.last_names)
            for p in entry.persons["author"]]


def _single(bibtex: str):
    data = parse_string(bibtex, "bibtex")
    assert len(data.entries) == 1
    return next(iter(data.entries.values()))


def _unbrace(text: str) -> str:
    return text.replace("{", "").replace("}", "").replace("\\_", "_")


class TestCitationFile:
    def test_docstring_examples(self) -> None:
        """The Examples sections of lmnotes_cite run and pass."""
        import doctest

        results = doctest.testmod(lmnotes_cite)
        assert results.attempted > 0 and results.failed == 0

    def test_version_matches_the_package(self) -> None:
        """CITATION.cff and lmnotes.__version__ name the same version."""
        assert str(CFF["version"]) == lmnotes.__version__

    def test_load_rejects_an_incomplete_file(self, tmp_path: Path) -> None:
        """A CITATION.cff without title, authors or version raises ValueError naming what is missing."""
        path = tmp_path / "CITATION.cff"
        path.write_text("cff-version: 1.2.0\ntitle: x\n", encoding="utf-8")
        with pytest.raises(ValueError, match="authors, version"):
            lmnotes_cite.load_citation(path)


class TestKnowledgeBaseCitation:
    def test_bibtex_agrees_with_cff(self) -> None:
        """The knowledge base's BibTeX parses, and its title, version, year and authors are CITATION.cff's."""
        entry = _single(lmnotes_cite.kb_bibtex(CFF))
        assert entry.type == "software"
        assert _unbrace(entry.fields["title"]) == CFF["title"]
        assert entry.fields["version"] == str(CFF["version"])
        assert entry.fields["year"] == str(RELEASED.year)
        assert entry.fields["url"] == CFF["url"]
        assert _bibtex_author_names(entry) == _cff_author_names(CFF)

    def test_apa_agrees_with_cff(self) -> None:
        """The APA reference holds the CFF's authors, release year, title, version and URL, in APA order."""
        apa = lmnotes_cite.kb_apa(CFF)
        authors = lmnotes_cite.apa_authors(CFF["authors"])
        assert apa == (f"{authors}. ({RELEASED.year}). {CFF['title']} (Version {CFF['version']}) "
                       f"[Computer software]. {CFF['url']}")

    def test_apa_in_french_changes_only_the_description(self) -> None:
        """The French APA differs from the English one by the bracketed description alone."""
        en, fr = lmnotes_cite.kb_apa(CFF, language="en"), lmnotes_cite.kb_apa(CFF, language="fr")
        assert fr == en.replace("[Computer software]", "[Logiciel]")

    def test_people_and_doi(self) -> None:
        """Persons become "Family, Given" (BibTeX) and "Family, G." (APA); a DOI replaces the URL in APA."""
        cff = {**CFF, "doi": "10.5281/zenodo.1", "authors": [
            {"family-names": "Curie", "given-names": "Marie Salomea"}, {"name": "Team X"}]}
        entry = _single(lmnotes_cite.kb_bibtex(cff))
        assert [str(p) for p in entry.persons["author"]] == ["Curie, Marie Salomea", "{Team X}"]
        assert entry.fields["doi"] == "10.5281/zenodo.1"
        assert lmnotes_cite.kb_apa(cff).startswith("Curie, M. S., & Team X. (")
        assert lmnotes_cite.kb_apa(cff).endswith("https://doi.org/10.5281/zenodo.1")

    def test_special_characters_are_escaped(self) -> None:
        """A title with _ & % # still parses and comes back unchanged once unescaped."""
        cff = {**CFF, "title": "a_b & 50 % #1"}
        entry = _single(lmnotes_cite.kb_bibtex(cff))
        assert entry.fields["title"] == r"{a\_b \& 50 \% \#1}"


class TestPageCitation:
    def test_build_date_follows_source_date_epoch(self) -> None:
        """SOURCE_DATE_EPOCH fixes the date; without it the date is today; garbage raises ValueError."""
        assert lmnotes_cite.build_date({"SOURCE_DATE_EPOCH": EPOCH}) == EPOCH_DATE
        assert lmnotes_cite.build_date({}) == dt.date.today()
        with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
            lmnotes_cite.build_date({"SOURCE_DATE_EPOCH": "yesterday"})

    def test_url_layouts(self) -> None:
        """Without html_baseurl the URL is site/<lang>/<version>/<page>.html; with it, baseurl/<page>.html."""
        assert lmnotes_cite.page_url(pagename="notes/clm", language="fr", site_url="https://s.io",
                                     version_slug="v0.1.0") == "https://s.io/fr/v0.1.0/notes/clm.html"
        assert lmnotes_cite.page_url(pagename="notes/clm", language="fr", html_baseurl="https://s.io/fr/x/",
                                     site_url="https://ignored") == "https://s.io/fr/x/notes/clm.html"
        with pytest.raises(ValueError, match="site_url"):
            lmnotes_cite.page_url(pagename="index", language="en")

    def test_page_bibtex_and_apa(self) -> None:
        """A page's BibTeX and APA carry its title, URL, the site version and the build date."""
        kwargs = dict(title="Causal mask", url="https://s.io/en/latest/notes/causal-mask.html",
                      version="9.9", built=EPOCH_DATE)
        entry = _single(lmnotes_cite.page_bibtex(CFF, pagename="notes/causal-mask", **kwargs))
        assert entry.key == "lmnotes-notes-causal-mask"
        assert _unbrace(entry.fields["title"]) == "Causal mask"
        assert (entry.fields["url"], entry.fields["version"]) == (kwargs["url"], "9.9")
        assert (entry.fields["year"], entry.fields["urldate"]) == ("2026", "2026-11-19")
        assert _bibtex_author_names(entry) == _cff_author_names(CFF)
        apa = lmnotes_cite.page_apa(CFF, **kwargs)
        authors = lmnotes_cite.apa_authors(CFF["authors"])
        assert apa.startswith(f"{authors}. (2026, November 19). Causal mask. In ")
        assert apa.endswith(f"(Version 9.9). {kwargs['url']}")
        assert "(2026, 19 novembre)" in lmnotes_cite.page_apa(CFF, language="fr", **kwargs)


# -- The directive in a real (tiny) Sphinx build ---------------------------------------


def _tiny_project(base: Path, *, cff_version: str = "2.5.0", cff_file: str | None = None) -> Path:
    """Two pages using cite-this, a CITATION.cff beside the source; returns the source dir."""
    src = base / "src"
    src.mkdir(parents=True)
    (base / "CITATION.cff").write_text(
        f"cff-version: 1.2.0\ntitle: 'Tiny: a test'\nversion: {cff_version}\ndate-released: '2025-03-04'\n"
        "url: https://tiny.example/\nauthors:\n  - family-names: Curie\n    given-names: Marie\n",
        encoding="utf-8")
    extra = f"lmnotes_cite_file = {cff_file!r}\n" if cff_file else ""
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['lmnotes_cite']\nbibtex_bibfiles = []\nrelease = '2.5.0'\n" + extra,
        encoding="utf-8")
    (src / "index.rst").write_text(
        "Tiny home\n=========\n\n.. toctree::\n\n   other\n\n"
        ".. cite-this:: bibtex\n\n.. cite-this:: apa\n\n"
        ".. cite-this:: bibtex\n   :page:\n\n.. cite-this:: apa\n   :page: other\n\n"
        ".. cite-this:: bibtex\n   :page: nowhere\n",
        encoding="utf-8")
    (src / "other.rst").write_text("The other page\n==============\n\nText.\n", encoding="utf-8")
    return src


def _build(src: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-q", str(src), str(out)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "READTHEDOCS": ""},
    )


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The tiny project built with SOURCE_DATE_EPOCH set; returns (html dir, warnings)."""
    base = tmp_path_factory.mktemp("cite")
    result = _build(_tiny_project(base), base / "html")
    assert result.returncode == 0, result.stderr
    return base / "html", result.stderr


class TestDirective:
    def test_blocks_in_order(self, tiny_build: tuple[Path, str]) -> None:
        """KB BibTeX, KB APA, this page's BibTeX and the other page's APA, from the CFF and the titles."""
        html, _ = tiny_build
        soup = BeautifulSoup((html / "index.html").read_text("utf-8"), "html.parser")
        blocks = [pre.get_text().rstrip("\n") for pre in soup.select("div.lmnotes-citation pre")]
        assert len(blocks) == 4
        kb = _single(blocks[0])
        assert _unbrace(kb.fields["title"]) == "Tiny: a test"
        assert (kb.fields["version"], kb.fields["year"]) == ("2.5.0", "2025")
        assert blocks[1] == ("Curie, M. (2025). Tiny: a test (Version 2.5.0) [Computer software]. "
                             "https://tiny.example/")
        page = _single(blocks[2])
        assert page.key == "lmnotes-index"
        assert _unbrace(page.fields["title"]) == "Tiny home"
        assert page.fields["url"] == "https://tiny.example/en/latest/index.html"
        assert page.fields["urldate"] == "2026-11-19"
        assert blocks[3] == ("Curie, M. (2026, November 19). The other page. In Tiny: a test (Version 2.5.0). "
                             "https://tiny.example/en/latest/other.html")

    def test_unknown_page_warns(self, tiny_build: tuple[Path, str]) -> None:
        """Citing a page that does not exist is a warning naming it (so -W fails), not a silent gap."""
        _, log = tiny_build
        assert re.search(r"cite-this: no page named 'nowhere'", log)

    def test_missing_file_and_version_mismatch_warn(self, tmp_path: Path) -> None:
        """No CITATION.cff, or one whose version is not the site's release: each cite-this warns."""
        src = _tiny_project(tmp_path / "a", cff_file=str(tmp_path / "none.cff"))
        missing = _build(src, tmp_path / "a" / "html")
        assert "lmnotes_cite_file: no file at" in missing.stderr
        stale = _build(_tiny_project(tmp_path / "b", cff_version="2.4.0"), tmp_path / "b" / "html")
        assert "CITATION.cff version 2.4.0 differs from the site release 2.5.0" in stale.stderr


# -- The built site -------------------------------------------------------------------


@pytest.mark.site
class TestCitePage:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_cite_page_agrees_with_cff_and_itself(self, site: Path, language: str) -> None:
        """how-to/cite shows the CFF's BibTeX, and a page entry whose title is the page's h1 in that language."""
        soup = BeautifulSoup((site / language / "how-to" / "cite.html").read_text("utf-8"), "html.parser")
        blocks = [pre.get_text().rstrip("\n") for pre in soup.select("div.lmnotes-citation pre")]
        kb = _single(blocks[0])
        assert _unbrace(kb.fields["title"]) == CFF["title"]
        assert (kb.fields["version"], kb.fields["year"]) == (str(CFF["version"]), str(RELEASED.year))
        assert _bibtex_author_names(kb) == _cff_author_names(CFF)
        page = _single(blocks[2])
        h1 = soup.find("h1").get_text().replace("¶", "").replace("#", "").strip()
        assert _unbrace(page.fields["title"]) == h1
        assert page.fields["url"].endswith(f"/{language}/latest/how-to/cite.html")
