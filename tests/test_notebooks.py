"""Each note page to take home: its notebook and MyST source beside it, prose in the page's
language (docs/_ext/lmnotes_notebooks.py). tests/test_execute.py runs each downloaded English
notebook on a clean kernel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import DOCS, LANGUAGES, page_names
from lmnotes_notebooks import translate_markdown
from lmnotes_outputs import has_marks
from test_french import code_tokens

NOTE_PAGES = [name for name in page_names() if name.startswith("notes/")]
FR = {
    "Title": "Titre",
    "One line and another.": "Une ligne et une autre.",
    "An item that goes on.": "Un élément qui continue.",
    "In the original notes": "Dans les notes d'origine",
    "Answer": "Réponse",
    "Word": "Mot",
}


class TestTranslateMarkdown:
    def test_prose_blocks_become_their_messages(self) -> None:
        source = "## Title\n\nOne line\nand another.\n\n- An item\n  that goes on.\n"
        assert translate_markdown(source, FR.get) == (
            "## Titre\n\nUne ligne et une autre.\n\n- Un élément qui continue.\n",
            [],
        )

    def test_code_doctests_math_labels_options_and_quotes_stay(self) -> None:
        source = (
            "(a-label)=\n```python\nTitle = 1\n```\n\n```{doctest}\n>>> 1\n1\n```\n\n"
            "$$\nx\n$$\n\n> Le texte de la note.\n"
        )
        assert translate_markdown(source, FR.get) == (source, [])

    def test_directive_titles_and_bodies_of_prose(self) -> None:
        source = (
            "```{admonition} In the original notes\n:class: erratum\n\nOne line\nand another.\n"
            "```\n\n````{dropdown} Answer\n:class-container: exercise-answer\n\nTitle\n````"
        )
        assert translate_markdown(source, FR.get) == (
            "```{admonition} Dans les notes d'origine\n:class: erratum\n\n"
            "Une ligne et une autre.\n```\n\n````{dropdown} Réponse\n"
            ":class-container: exercise-answer\n\nTitre\n````",
            [],
        )

    def test_table_cells(self) -> None:
        assert translate_markdown("| Word | `x` |\n|---|---|\n| Title | 3 |", FR.get) == (
            "| Mot | `x` |\n|---|---|\n| Titre | 3 |",
            [],
        )

    def test_untranslated_prose_is_reported_and_code_is_not(self) -> None:
        text, missing = translate_markdown("Not in the catalog.\n\n`code_only` {ref}`x`", FR.get)
        assert text == "Not in the catalog.\n\n`code_only` {ref}`x`"
        assert missing == ["Not in the catalog."]


def _text(output: dict) -> str:
    """The printed text of an output (a stream, or a result's ``text/plain``)."""
    text = output.get("text") or output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else text


def _code_cells(notebook: dict) -> list[tuple[str, list]]:
    return [
        (c["source"], c.get("outputs", [])) for c in notebook["cells"] if c["cell_type"] == "code"
    ]


@pytest.mark.site
class TestBuilt:
    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_every_note_page_links_its_notebook_source_and_how_to(
        self, site: Path, lang: str
    ) -> None:
        for name in NOTE_PAGES:
            page = site / lang / f"{name}.html"
            line = BeautifulSoup(page.read_bytes(), "lxml").select_one("p.lmnotes-take-home")
            assert line is not None, name
            hrefs = [a["href"] for a in line.select("a")]
            stem = name.rsplit("/", 1)[-1]
            assert hrefs == [
                f"{stem}.ipynb",
                f"{stem}.md",
                "../how-to/offline.html#offline-run-a-page",
            ]
            for href in hrefs[:2]:
                assert (page.parent / href).is_file(), (lang, name, href)
            assert (page.parent / f"{stem}.md").read_bytes() == (DOCS / f"{name}.md").read_bytes()

    def test_french_notebooks_keep_the_cells_and_translate_the_prose(self, site: Path) -> None:
        """Both notebooks of a page hold the same code, and outputs with the same code tokens
        (their messages in the notebook's language, no mark left); every markdown cell that
        holds prose reads differently in French."""
        translated = []  # whether the page's outputs hold a message, in French there
        for name in NOTE_PAGES:
            texts = {lang: (site / lang / f"{name}.ipynb").read_text("utf-8") for lang in LANGUAGES}
            assert not any(has_marks(text) for text in texts.values()), name
            en, fr = (json.loads(texts[lang]) for lang in LANGUAGES)
            cells = [_code_cells(en), _code_cells(fr)]
            assert [source for source, _ in cells[0]] == [source for source, _ in cells[1]], name
            for (_, a), (_, b) in zip(*cells, strict=True):
                assert [o["output_type"] for o in a] == [o["output_type"] for o in b], name
                tokens = [[code_tokens(_text(o)) for o in outputs] for outputs in (a, b)]
                assert tokens[0] == tokens[1], name
            assert any(outputs for _, outputs in _code_cells(en)), name
            translated.append(cells[0] != cells[1])
            prose = [
                (e["source"], f["source"])
                for e, f in zip(en["cells"], fr["cells"], strict=True)
                if e["cell_type"] == "markdown"
            ]
            assert prose and all(e != f for e, f in prose if any(ch.isalpha() for ch in e)), name
        # Every note page prints or draws words, but the batch explorer (its own catalog strings).
        assert sum(translated) == len(NOTE_PAGES) - 1, translated
