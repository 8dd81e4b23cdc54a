"""Every note page ends with exercises whose answers the build computes (issue 27).

The sources are checked here without a build: each note page (the batch explorer aside)
has an ``Exercises`` section of 2 to 4 exercises; each answer is a folded ``{dropdown}``
whose value comes from a glued result of a cell of the page, not from a number typed in
the prose. The built pages are checked in both languages: the answers are closed
``<details>`` elements holding the pasted value, and the French ones read in French.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import DOCS, LANGUAGES

NOTES = sorted(p for p in (DOCS / "notes").glob("*.md") if p.stem != "batch-explorer")

EXERCISE = re.compile(r"^\*\*Exercise (\d+)\.\*\*", re.M)
ANSWER = re.compile(
    r"^````\{dropdown\} Answer\n:class-container: exercise-answer\n(.*?)^````$", re.M | re.S
)
#: ``{glue:text}`page.md::key:format``` (the page's own name: the French build, which
#: parses the translated paragraphs apart from the page, finds the key only with it).
GLUE_ROLE = re.compile(r"\{glue:text\}`(?:([\w.-]+)\.md::)?([^`:]+)(?::[^`]*)?`")
GLUED = re.compile(r"""glue\(\s*["']([^"']+)["']""")
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```$", re.M | re.S)


def exercises_section(path: Path) -> str:
    text = path.read_text("utf-8")
    label = f"({path.stem}-exercises)=\n## Exercises\n"
    assert label in text, f"{path.name}: no '{label.strip()}' section"
    section = text.split(label, 1)[1]
    return section.split("\n## ", 1)[0]


def typed_numbers(answer: str) -> list[str]:
    """Digits left in an answer once roles, inline code and math are taken out."""
    prose = re.sub(r"\{[a-z:]+\}`[^`]*`", "", answer)
    prose = re.sub(r"`[^`]*`", "", prose)
    prose = re.sub(r"\$[^$]*\$", "", prose)
    return re.findall(r"(?<![\w-])\d+(?:[.,]\d+)?(?![\w-])", prose)


@pytest.mark.parametrize("path", NOTES, ids=lambda p: p.stem)
class TestSources:
    def test_two_to_four_numbered_exercises(self, path: Path) -> None:
        """2–4 exercises, numbered 1, 2, … in order, each followed by its folded answer."""
        section = exercises_section(path)
        numbers = [int(n) for n in EXERCISE.findall(section)]
        assert 2 <= len(numbers) <= 4, f"{path.name}: {len(numbers)} exercises"
        assert numbers == list(range(1, len(numbers) + 1)), numbers
        assert len(ANSWER.findall(section)) == len(numbers), f"{path.name}: answers ≠ exercises"

    def test_answers_are_glued_by_the_page(self, path: Path) -> None:
        """Each answer pastes a value that a code cell of the page glues, and no number is typed."""
        text = path.read_text("utf-8")
        glued = {key for cell in CELL.findall(text) for key in GLUED.findall(cell)}
        for answer in ANSWER.findall(exercises_section(path)):
            roles = GLUE_ROLE.findall(answer)
            assert roles, f"{path.name}: an answer without a glued value:\n{answer}"
            assert {page for page, _ in roles} == {path.stem}, f"{path.name}: {roles}"
            keys = [key for _, key in roles]
            assert set(keys) <= glued, f"{path.name}: not glued by the page: {set(keys) - glued}"
            assert not typed_numbers(answer), f"{path.name}: typed in the answer: {answer}"

    def test_answer_cells_are_hidden(self, path: Path) -> None:
        """The cells that compute the answers are removed from the page (the key stays folded)."""
        section = exercises_section(path)
        for cell in CELL.findall(section):
            if GLUED.search(cell):
                assert cell.startswith(":tags: [remove-cell]\n"), cell


def test_typed_numbers_are_caught() -> None:
    """The guard finds a number typed in prose, not those in roles, code or math."""
    assert typed_numbers("At {glue:text}`clm.md::ex-a:.2f`: row `2`, $n - 1$ of GPT-2's.") == []
    assert typed_numbers("Positions 3 and 4 ({ref}`clm-labels`).") == ["3", "4"]


@pytest.mark.site
class TestBuilt:
    def test_answers_folded_and_pasted_in_both_languages(self, site: Path) -> None:
        """Closed <details> answers with the pasted value; the same count in both languages."""
        summaries = {"en": "Answer", "fr": "Réponse"}
        for path in NOTES:
            counts = {}
            for lang in LANGUAGES:
                page = site / lang / "notes" / f"{path.stem}.html"
                soup = BeautifulSoup(page.read_text("utf-8"), "lxml")
                answers = soup.select("details.exercise-answer")
                counts[lang] = len(answers)
                for details in answers:
                    assert not details.has_attr("open"), page
                    assert details.summary.get_text(strip=True) == summaries[lang], page
                    assert details.select(".pasted-text, .pasted-inline"), page
            assert counts["en"] == counts["fr"] >= 2, (path.stem, counts)
