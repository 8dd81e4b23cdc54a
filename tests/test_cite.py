"""Citations: the BibTeX and APA that the site generates agree with CITATION.cff and the page."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import lmnotes_bibliography
import lmnotes_cite
import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import DOCS, LANGUAGES, ROOT
from pybtex.database import parse_string

import lmnotes

CFF_PATH = ROOT / "CITATION.cff"
CFF = yaml.safe_load(CFF_PATH.read_text(encoding="utf-8"))
VERSION = lmnotes.__version__
BUILT = dt.date(2026, 11, 28)
EPOCH = "1795046400"  # 2026-11-19 00:00 UTC
EPOCH_DATE = dt.date(2026, 11, 19)


def _cff_author_names(cff: dict) -> list[str]:
    """Author names as the CFF gives them: "Given Family" for a person, the name for an entity."""
    return [
        a["name"] if "name" in a else f"{a['given-names']} {a['family-names']}"
        for a in cff["authors"]
    ]


def _bibtex_author_names(entry) -> list[str]:
    """Author names of a pybtex entry, braces of entity names removed."""
    return [
        str(p).strip("{}") if not p.first_names else " ".join(p.first_names + p.last_names)
        for p in entry.persons["author"]
    ]


def _single(bibtex: str):
    data = parse_string(bibtex, "bibtex")
    assert len(data.entries) == 1
    return next(iter(data.entries.values()))


def _unbrace(text: str) -> str:
    return text.replace("{", "").replace("}", "").replace("\\_", "_").replace("~", "\u00a0")


class TestCitationFile:
    def test_docstring_examples(self) -> None:
        """The Examples sections of lmnotes_cite and lmnotes_bibliography run and pass."""
        import doctest

        for module in (lmnotes_cite, lmnotes_bibliography):
            results = doctest.testmod(module)
            assert results.attempted > 0 and results.failed == 0, module.__name__

    def test_no_second_version_or_date(self) -> None:
        """CITATION.cff carries no version and no release date: lmnotes.__version__ and the build
        date are the only sources."""
        assert "version" not in CFF and "date-released" not in CFF
        assert lmnotes_cite.load_citation(CFF_PATH)["title"] == CFF["title"]

    def test_title_is_the_site_title(self) -> None:
        """CITATION.cff's title is the English site title of docs/conf.py (what GitHub's box and the
        site show)."""
        from lmnotes_catalog import site_title

        assert CFF["title"] == site_title()

    def test_load_rejects_an_incomplete_file(self, tmp_path: Path) -> None:
        """A CITATION.cff without title or authors raises ValueError naming what is missing."""
        path = tmp_path / "CITATION.cff"
        path.write_text("cff-version: 1.2.0\ntitle: x\n", encoding="utf-8")
        with pytest.raises(ValueError, match="lacks authors"):
            lmnotes_cite.load_citation(path)

    def test_load_rejects_a_second_source(self, tmp_path: Path) -> None:
        """A CITATION.cff with a version or a date-released raises ValueError naming both."""
        path = tmp_path / "CITATION.cff"
        path.write_text(
            "title: x\nauthors:\n  - name: X\nversion: 1.0\ndate-released: 2025-01-01\n",
            encoding="utf-8",
        )
        with pytest.raises(ValueError, match="has version, date-released"):
            lmnotes_cite.load_citation(path)


class TestKnowledgeBaseCitation:
    def test_bibtex_agrees_with_cff(self) -> None:
        """The knowledge base's BibTeX parses: title and authors from CITATION.cff, version and date
        as given."""
        entry = _single(lmnotes_cite.kb_bibtex(CFF, version=VERSION, built=BUILT))
        assert entry.type == "software"
        assert _unbrace(entry.fields["title"]) == CFF["title"]
        assert entry.fields["version"] == VERSION
        assert (entry.fields["date"], entry.fields["year"]) == (BUILT.isoformat(), str(BUILT.year))
        assert entry.fields["url"] == CFF["url"]
        assert _bibtex_author_names(entry) == _cff_author_names(CFF)

    def test_apa_agrees_with_cff(self) -> None:
        """The APA reference holds the CFF's authors, the build year, the title, the version and
        URL, in APA order."""
        apa = lmnotes_cite.kb_apa(CFF, version=VERSION, built=BUILT)
        authors = lmnotes_cite.apa_authors(CFF["authors"])
        assert apa == (
            f"{authors}. ({BUILT.year}). {CFF['title']} (Version {VERSION}) "
            f"[Computer software]. {CFF['url']}"
        )
        assert (
            lmnotes_cite.kb_apa(CFF, version=VERSION, built=BUILT, title="Other").count("Other")
            == 1
        )

    def test_the_site_entry_takes_the_versioned_url(self) -> None:
        """Given the home page of a version, both entries name it instead of the CFF's root."""
        home = lmnotes_cite.page_url(
            pagename="index", language="fr", version_slug=VERSION, site_url=CFF["url"]
        )
        assert f"/fr/{VERSION}/" in home
        entry = _single(lmnotes_cite.kb_bibtex(CFF, version=VERSION, built=BUILT, url=home))
        assert entry.fields["url"] == home
        apa = lmnotes_cite.kb_apa(CFF, version=VERSION, built=BUILT, url=home)
        assert apa.endswith(home) if not CFF.get("doi") else apa.endswith(CFF["doi"])

    def test_apa_in_french_changes_only_the_description(self) -> None:
        """The French APA, its words from the catalog lmnotes.po as the build takes them, differs
        from the English one by the bracketed description alone."""
        import polib

        po = polib.pofile(str(DOCS / "locales" / "fr" / "LC_MESSAGES" / "lmnotes.po"))
        french = {e.msgid: e.msgstr for e in po.translated_entries()}
        words = {name: french[word] for name, word in lmnotes_cite.APA_WORDS.items()}
        en = lmnotes_cite.kb_apa(CFF, version=VERSION, built=BUILT, language="en")
        fr = lmnotes_cite.kb_apa(CFF, version=VERSION, built=BUILT, language="fr", words=words)
        assert fr == en.replace("[Computer software]", "[Logiciel]")

    def test_people_and_doi(self) -> None:
        """Persons become "Family, Given" (BibTeX) and "Family, G." (APA); a DOI replaces the URL in
        APA."""
        cff = {
            **CFF,
            "doi": "10.5281/zenodo.1",
            "authors": [
                {"family-names": "Curie", "given-names": "Marie Salomea"},
                {"name": "Team X"},
            ],
        }
        entry = _single(lmnotes_cite.kb_bibtex(cff, version=VERSION, built=BUILT))
        assert [str(p) for p in entry.persons["author"]] == ["Curie, Marie Salomea", "{Team X}"]
        assert entry.fields["doi"] == "10.5281/zenodo.1"
        apa = lmnotes_cite.kb_apa(cff, version=VERSION, built=BUILT)
        assert apa.startswith("Curie, M. S., & Team X. (")
        assert apa.endswith("https://doi.org/10.5281/zenodo.1")

    def test_special_characters_are_escaped(self) -> None:
        """A title with _ & % # still parses and comes back unchanged once unescaped."""
        cff = {**CFF, "title": "a_b & 50 % #1"}
        entry = _single(lmnotes_cite.kb_bibtex(cff, version=VERSION, built=BUILT))
        assert entry.fields["title"] == r"{a\_b \& 50 \% \#1}"


class TestPageCitation:
    def test_build_date_follows_source_date_epoch(self) -> None:
        """SOURCE_DATE_EPOCH fixes the date; without it the date is today; garbage raises
        ValueError."""
        assert lmnotes_cite.build_date({"SOURCE_DATE_EPOCH": EPOCH}) == EPOCH_DATE
        assert lmnotes_cite.build_date({}) == dt.date.today()
        with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
            lmnotes_cite.build_date({"SOURCE_DATE_EPOCH": "yesterday"})

    def test_url_layouts(self) -> None:
        """Without html_baseurl the URL is site/<lang>/<version>/<page>.html; with it,
        baseurl/<page>.html."""
        assert (
            lmnotes_cite.page_url(
                pagename="notes/clm", language="fr", site_url="https://s.io", version_slug="v0.1.0"
            )
            == "https://s.io/fr/v0.1.0/notes/clm.html"
        )
        assert (
            lmnotes_cite.page_url(
                pagename="notes/clm",
                language="fr",
                html_baseurl="https://s.io/fr/x/",
                site_url="https://ignored",
                version_slug="1",
            )
            == "https://s.io/fr/x/notes/clm.html"
        )
        with pytest.raises(ValueError, match="site_url"):
            lmnotes_cite.page_url(pagename="index", language="en", version_slug="1")
        with pytest.raises(ValueError, match="version_slug"):
            lmnotes_cite.page_url(
                pagename="index", language="en", site_url="https://s.io", version_slug=""
            )

    def test_url_version_names_a_version(self) -> None:
        """The URL's version is the configured one, else a Read the Docs tag's slug, else the
        release: never a branch name."""
        rtd = {"READTHEDOCS": "True"}
        assert lmnotes_cite.url_version(release="0.1.0", environ={}) == "0.1.0"
        assert lmnotes_cite.url_version(release="0.1.0", configured="dev", environ={}) == "dev"
        for slug, kind in [("latest", "branch"), ("stable", "branch"), ("42", "external")]:
            env = {**rtd, "READTHEDOCS_VERSION": slug, "READTHEDOCS_VERSION_TYPE": kind}
            assert lmnotes_cite.url_version(release="0.1.0", environ=env) == "0.1.0"
        env = {**rtd, "READTHEDOCS_VERSION": "v0.1.0", "READTHEDOCS_VERSION_TYPE": "tag"}
        assert lmnotes_cite.url_version(release="0.1.0", environ=env) == "v0.1.0"
        with pytest.raises(ValueError, match="release"):
            lmnotes_cite.url_version(release="", environ={})

    def test_page_bibtex_and_apa(self) -> None:
        """A page's BibTeX and APA carry its title, URL, the site version and the build date."""
        kwargs = dict(
            title="Causal mask",
            url="https://s.io/en/9.9/notes/causal-mask.html",
            version="9.9",
            built=EPOCH_DATE,
        )
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
        assert " In Site (Version 9.9)" in lmnotes_cite.page_apa(CFF, site_title="Site", **kwargs)


# -- The directive in a real (tiny) Sphinx build ---------------------------------------


def _tiny_project(
    base: Path,
    *,
    cff_extra: str = "",
    cff_file: str | None = None,
    html_title: str = "Tiny: a test",
) -> Path:
    """Two pages using cite-this, a CITATION.cff beside the source; returns the source dir."""
    src = base / "src"
    src.mkdir(parents=True)
    (base / "CITATION.cff").write_text(
        "cff-version: 1.2.0\ntitle: 'Tiny: a test'\n"
        + cff_extra
        + "url: https://tiny.example/\nauthors:\n  - family-names: Curie\n    given-names: Marie\n",
        encoding="utf-8",
    )
    extra = f"lmnotes_cite_file = {cff_file!r}\n" if cff_file else ""
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['lmnotes_cite']\nbibtex_bibfiles = []\nrelease = '2.5.0'\n"
        f"html_title = {html_title!r}\n" + extra,
        encoding="utf-8",
    )
    (src / "index.rst").write_text(
        "Tiny home\n=========\n\n.. toctree::\n\n   other\n\n"
        ".. cite-this:: bibtex\n\n.. cite-this:: apa\n\n"
        ".. cite-this:: bibtex\n   :page:\n\n.. cite-this:: apa\n   :page: other\n\n"
        ".. cite-this:: bibtex\n   :page: nowhere\n",
        encoding="utf-8",
    )
    (src / "other.rst").write_text("The other page\n==============\n\nText.\n", encoding="utf-8")
    return src


def _build(src: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-q", str(src), str(out)],
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "SOURCE_DATE_EPOCH": EPOCH,
            "READTHEDOCS": "",
            "READTHEDOCS_VERSION": "",
            "READTHEDOCS_VERSION_TYPE": "",
        },
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
        """KB BibTeX, KB APA, this page's BibTeX and the other page's APA: one version (release),
        one date (build), one title, URLs that name the version."""
        html, _ = tiny_build
        soup = BeautifulSoup((html / "index.html").read_text("utf-8"), "lxml")
        blocks = [pre.get_text().rstrip("\n") for pre in soup.select("div.lmnotes-citation pre")]
        assert len(blocks) == 4
        kb = _single(blocks[0])
        assert _unbrace(kb.fields["title"]) == "Tiny: a test"
        assert (kb.fields["version"], kb.fields["date"]) == ("2.5.0", "2026-11-19")
        # The whole site is cited at its home page in this version, as pages are.
        assert kb.fields["url"] == "https://tiny.example/en/2.5.0/index.html"
        assert blocks[1] == (
            "Curie, M. (2026). Tiny: a test (Version 2.5.0) [Computer software]. "
            "https://tiny.example/en/2.5.0/index.html"
        )
        page = _single(blocks[2])
        assert page.key == "lmnotes-index"
        assert _unbrace(page.fields["title"]) == "Tiny home"
        assert page.fields["url"] == "https://tiny.example/en/2.5.0/index.html"
        assert page.fields["urldate"] == page.fields["date"] == kb.fields["date"]
        assert blocks[3] == (
            "Curie, M. (2026, November 19). The other page. In Tiny: a test (Version 2.5.0). "
            "https://tiny.example/en/2.5.0/other.html"
        )

    def test_unknown_page_warns(self, tiny_build: tuple[Path, str]) -> None:
        """Citing a page that does not exist is a warning naming it (so -W fails), not a silent
        gap."""
        _, log = tiny_build
        assert re.search(r"cite-this: no page named 'nowhere'", log)

    def test_missing_file_second_version_and_title_mismatch_warn(self, tmp_path: Path) -> None:
        """No CITATION.cff, one with its own version, or a site title not the CFF's: each cite-this
        warns."""
        src = _tiny_project(tmp_path / "a", cff_file=str(tmp_path / "none.cff"))
        missing = _build(src, tmp_path / "a" / "html")
        assert "lmnotes_cite_file: no file at" in missing.stderr
        second = _build(
            _tiny_project(tmp_path / "b", cff_extra="version: 2.4.0\n"), tmp_path / "b" / "html"
        )
        assert "has version: the version comes from the package" in second.stderr
        titled = _build(
            _tiny_project(tmp_path / "c", html_title="Tiny docs"), tmp_path / "c" / "html"
        )
        assert (
            "the site title 'Tiny docs' differs from the CITATION.cff title 'Tiny: a test'"
            in titled.stderr
        )


# -- The built site -------------------------------------------------------------------


@pytest.mark.site
class TestCitePage:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_cite_page_agrees_with_cff_and_itself(self, site: Path, language: str) -> None:
        """how-to/cite: one title (the site's), one version (lmnotes.__version__), one date, a URL
        naming the version."""
        soup = BeautifulSoup((site / language / "how-to" / "cite.html").read_text("utf-8"), "lxml")
        blocks = [pre.get_text().rstrip("\n") for pre in soup.select("div.lmnotes-citation pre")]
        kb = _single(blocks[0])
        site_title = soup.select_one(".sidebar-brand-text").get_text().strip()
        assert _unbrace(kb.fields["title"]) == site_title
        if language == "en":
            assert site_title == CFF["title"]
        assert kb.fields["version"] == VERSION
        assert _bibtex_author_names(kb) == _cff_author_names(CFF)
        page = _single(blocks[2])
        h1 = soup.find("h1").get_text().replace("¶", "").replace("#", "").strip()
        assert _unbrace(page.fields["title"]) == h1
        assert page.fields["version"] == VERSION
        assert page.fields["date"] == kb.fields["date"]
        assert site_title in _unbrace(page.fields["howpublished"])
        assert page.fields["url"].endswith(f"/{language}/{VERSION}/how-to/cite.html")
        assert "/latest/" not in soup.select_one("article").get_text()


@pytest.mark.site
class TestCitationsInThePageLanguage:
    #: Words of the bibliography's annotations that a citation repeats in its label or tooltip.
    ENGLISH = (
        "No archived copy",
        "n.d.",
        "Source code",
        "GitHub pull request",
        "GitHub issue",
        "Opened on",
        "Released on",
    )

    def _citations(self, site: Path, lang: str) -> list[str]:
        from bs4 import BeautifulSoup

        found = []
        for page in sorted((site / lang / "notes").glob("*.html")):
            soup = BeautifulSoup(page.read_bytes(), "lxml")
            for span in soup.select("span.bibtex-citation"):
                found.append(span.get_text())
                found += [a.get("title", "") for a in span.select("a")]
        return found

    def test_french_citations_have_french_labels_and_tooltips(self, site: Path) -> None:
        """A citation on a French page says « s. d. » as the bibliography does, and its tooltip
        (the entry) carries the bibliography's French annotations; the English site keeps its
        words."""
        french, english = self._citations(site, "fr"), self._citations(site, "en")
        assert len(french) == len(english) > 50
        assert [t for t in french if any(word in t for word in self.ENGLISH)] == []
        assert any("s.\u00a0d." in t for t in french)
        assert any("n.d." in t for t in english) and any("No archived copy" in t for t in english)
        assert any("Aucune copie archivée" in t for t in french)

    def test_french_bibliography_annotations_are_french(self, site: Path) -> None:
        """The words the bibliography adds to its entries (notes, kinds of source, pybtex's
        "In" and "Technical Report") are French on the French site; titles stay as published."""
        from bs4 import BeautifulSoup

        english = (
            "Adds ",
            "Introduces ",
            "No archived copy",
            "Opened on",
            "Merged on",
            "Released on",
            "Published on",
            "Technical Report",
            "Who opened",
            "not checked",
            "Source code",
            "n.d.",
            "\\texttt",
            ". In ",
        )
        texts = {}
        for lang in ("en", "fr"):
            page = site / lang / "reference" / "bibliography.html"
            article = BeautifulSoup(page.read_bytes(), "lxml").select_one("article")
            for entry in article.select("details.lmnotes-cite"):  # BibTeX: code, as written
                entry.decompose()
            texts[lang] = " ".join(article.get_text(" ").split())
        assert [w for w in english if w in texts["fr"]] == []
        assert [w for w in english if w in texts["en"] and w != "\\texttt"] == [
            w for w in english if w != "\\texttt"
        ]


class TestBibliographyEntries:
    """docs/references.bib as the site shows it: dates, labels, notes in the page's language,
    one BibTeX entry each (lmnotes_cite's bibliography functions)."""

    BIBFILE = DOCS / "references.bib"

    @staticmethod
    def _entries(text: str) -> dict:
        return dict(parse_string(text, "bibtex").entries)

    def test_shared_author_and_year_get_letters_in_date_order(self) -> None:
        entries = self._entries(
            "@misc{b, author={{Org}}, title={B}, year={2026}, date={2026-11-21}}\n"
            "@misc{a, author={{Org}}, title={A}, year={2026}, date={2026-01-16}}\n"
            "@misc{c, author={{Org}}, title={C}, year={2026}, date={2026-01-16}}\n"
            "@misc{d, author={{Org}}, title={D}, year={2025}}\n"
            "@misc{e, author={{Other}}, title={E}, year={2026}}\n"
        )
        assert lmnotes_bibliography.year_labels(entries) == {
            "a": "2026a",
            "c": "2026b",
            "b": "2026c",
            "d": "2025",
            "e": "2026",
        }

    def test_a_date_outside_its_year_is_refused(self) -> None:
        entries = self._entries("@misc{a, title={A}, year={2025}, date={2026-01-16}}")
        with pytest.raises(ValueError, match=r"a: date '2026-01-16' is not in year '2025'"):
            lmnotes_bibliography.year_labels(entries)

    def test_no_two_entries_share_a_label(self) -> None:
        """With the letters, every author-year pair of the real bibliography is unique."""
        entries = self._entries(self.BIBFILE.read_text(encoding="utf-8"))
        years = lmnotes_bibliography.year_labels(entries)
        pairs = [(lmnotes_bibliography.who(e), years[k]) for k, e in entries.items()]
        assert len(pairs) == len(set(pairs)) == len(entries)
        # The earliest release first, then by title.
        assert years["hf_transformers_src_masking_utils_v4576"] == "2026a"
        assert years["hf_docs_datacollatorforlm"] == "2026e"

    def test_french_notes_come_from_the_catalog(self) -> None:
        """A French entry: its date in words, in French, first in its note; each sentence from
        lmnotes.po; howpublished translated; the title untouched."""
        import polib

        po = polib.pofile(str(DOCS / "locales" / "fr" / "LC_MESSAGES" / "lmnotes.po"))
        french = {e.msgid: e.msgstr for e in po.translated_entries()}
        text = self.BIBFILE.read_text(encoding="utf-8")
        entry = self._entries(text)["hf_trl_pr550"]
        title = entry.fields["title"]
        changed = lmnotes_bibliography.localize_entry(entry, "fr", lambda m: french.get(m, m))
        assert entry.fields["note"] == (
            "Date de fusion\u00a0: 22 juillet 2023. Aucune copie archivée n’a été vérifiée."
        )
        assert entry.fields["howpublished"] == ("Pull request GitHub huggingface/trl\\#550")
        assert entry.fields["title"] == title
        assert "Date de fusion\u00a0: 22 juillet 2023." in changed

    def test_every_bibliography_message_is_translated(self) -> None:
        import polib

        po = polib.pofile(str(DOCS / "locales" / "fr" / "LC_MESSAGES" / "lmnotes.po"))
        translated = {e.msgid for e in po.translated_entries() if not e.fuzzy}
        messages = lmnotes_bibliography.bibliography_messages(self.BIBFILE)
        assert len(messages) > 40
        assert [m for m in messages if m not in translated] == []

    @pytest.mark.parametrize(
        ("fields", "error"),
        [
            ({"date": "2024-07-02"}, "give both"),
            ({"datekind": "merged"}, "give both"),
            ({"date": "2024-07-02", "datekind": "closed"}, "the kind one of"),
        ],
    )
    def test_date_and_kind_go_together(self, fields: dict, error: str) -> None:
        from pybtex.database import Entry

        with pytest.raises(ValueError, match=error):
            lmnotes_bibliography.localize_entry(Entry("misc", fields=fields), "en", lambda m: m)

    def test_each_entry_source_is_found_as_written(self) -> None:
        """bibtex_sources finds every entry pybtex finds, and each parses back to itself."""
        text = self.BIBFILE.read_text(encoding="utf-8")
        sources = lmnotes_bibliography.bibtex_sources(text)
        entries = self._entries(text)
        assert list(sources) == list(entries)
        for key, source in sources.items():
            again = self._entries(source)[key]
            assert dict(again.fields) == dict(entries[key].fields), key


@pytest.mark.site
class TestBibliographyPage:
    def test_each_entry_opens_its_bibtex_in_both_languages(self, site: Path) -> None:
        """Each entry of the bibliography page has a disclosure with its BibTeX entry as the
        file writes it, the same in both languages; its summary is in the page's language."""
        sources = lmnotes_bibliography.bibtex_sources(
            (DOCS / "references.bib").read_text(encoding="utf-8")
        )
        found = {}
        for lang in LANGUAGES:
            soup = BeautifulSoup(
                (site / lang / "reference" / "bibliography.html").read_bytes(), "lxml"
            )
            entries = soup.select("div.lmnotes-references div.citation")
            assert len(entries) == len(sources)
            found[lang] = {}
            for entry in entries:
                details = entry.select_one("details.lmnotes-cite")
                summary = details.select_one("summary")
                key = summary.get_text().split()[-1]
                found[lang][key] = details.select_one("pre").get_text().strip()
                # The disclosure is the entry's own: the URL the entry shows is in its BibTeX.
                url = entry.select_one("p a.reference.external")["href"]
                assert f"url           = {{{url}}}" in found[lang][key], (lang, key, url)
                word = {"en": "BibTeX entry", "fr": "Entrée BibTeX"}[lang]
                assert summary.get_text().startswith(word)
                assert summary.get("lang") == (None if lang == "en" else lang)
        assert found["en"] == found["fr"] == {k: v.strip() for k, v in sources.items()}

    def test_citation_labels_are_unique(self, site: Path) -> None:
        """No two entries are cited under the same label, in either language."""
        for lang in LANGUAGES:
            targets: dict[str, set[str]] = {}
            for page in sorted((site / lang).rglob("*.html")):
                soup = BeautifulSoup(page.read_bytes(), "lxml")
                for span in soup.select("span.bibtex-citation"):
                    links = span.select("a[href*='bibliography.html#']")
                    for a in links:
                        # A textual citation, "capemox [2025]", names its author outside the link.
                        label = span.get_text() if len(links) == 1 else a.get_text()
                        targets.setdefault(label, set()).add(a["href"].split("#")[1])
            assert targets and {k: v for k, v in targets.items() if len(v) > 1} == {}, lang

    def test_every_page_gives_each_entry_its_own_bibtex(self, site: Path) -> None:
        """On every page that lists entries as citations (the bibliography; a note page ends
        with a bullet list that links to it), each entry's disclosure holds that entry's BibTeX:
        the URL the entry shows is the one it records."""
        checked = 0
        for lang in LANGUAGES:
            for page in sorted((site / lang).rglob("*.html")):
                soup = BeautifulSoup(page.read_bytes(), "lxml")
                for entry in soup.select("div.lmnotes-references div.citation"):
                    link = entry.select_one("p a.reference.external")
                    bibtex = entry.select_one("details.lmnotes-cite pre")
                    assert link is not None and bibtex is not None, page
                    assert f"url           = {{{link['href']}}}" in bibtex.get_text(), (
                        page,
                        link["href"],
                    )
                    checked += 1
        assert checked >= 2 * 44
