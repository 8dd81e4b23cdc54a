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
#: Catalogs that belong to no page: the words of cell outputs and the theme's words.
#: Catalogs that are not a page's: outputs, the theme's words, the extensions' words.
SITE_CATALOGS = {"outputs", "sphinx", "lmnotes"}
EN_WORDS = {"the", "is", "and", "of", "to", "that", "which", "with", "are", "this", "each", "what"}
FR_WORDS = {
    "le",
    "la",
    "les",
    "des",
    "est",
    "une",
    "du",
    "et",
    "dans",
    "pour",
    "que",
    "qui",
    "sont",
}


def _catalog_id(path: Path) -> str:
    return path.relative_to(LOCALES).with_suffix("").as_posix()


class TestCatalogs:
    def test_every_page_has_a_catalog(self) -> None:
        """Each source page has docs/locales/fr/LC_MESSAGES/<page>.po."""
        pages = sorted(_catalog_id(p) for p in CATALOGS if _catalog_id(p) not in SITE_CATALOGS)
        assert sorted(page_names()) == pages

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
    """Prose of the article: paragraphs, list items, headings, table cells; no code or outputs.

    The learner's French notes (``.lmnotes-original``) are the same in both languages by design.
    """
    soup = BeautifulSoup(html, "lxml")
    article = soup.find("article") or soup
    for tag in article.select(
        "pre, code, div.cell_output, div.output, .highlight, script, style, "
        ".lmnotes-docstrings, .lmnotes-references, .lmnotes-original"
    ):
        tag.decompose()
    blocks = []
    for tag in article.find_all(
        ["p", "li", "h1", "h2", "h3", "dt", "dd", "th", "td", "figcaption"]
    ):
        text = re.sub(r"\s+", " ", tag.get_text(" ")).replace("¶", "").replace("#", "").strip()
        if text:
            blocks.append(text)
    return blocks


@pytest.mark.site
class TestFrenchPages:
    @pytest.mark.parametrize("name", page_names())
    def test_french_page_is_not_an_english_fallback(self, site: Path, name: str) -> None:
        """No prose block of six words or more is the same in both languages; French dominates."""
        en = _visible_blocks((site / "en" / f"{name}.html").read_text("utf-8"))
        fr = _visible_blocks((site / "fr" / f"{name}.html").read_text("utf-8"))
        same = sorted({b for b in set(en) & set(fr) if len(b.split()) >= 6})
        assert same == [], f"untranslated in fr/{name}.html"
        words = re.findall(r"[a-zà-ÿ]+", " ".join(fr).lower())
        fr_count = sum(w in FR_WORDS for w in words)
        en_count = sum(w in EN_WORDS for w in words)
        assert fr_count > 2 * en_count, (fr_count, en_count)


# -- Markup that must survive translation -----------------------------------

_ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`|:([\w:-]+):`([^`]*)`")
_MATH = re.compile(r"(?<![\\$])\$([^$\n]+)\$")
_LINK = re.compile(r"\]\(([^)\s]+)\)|<(https?://[^>\s]+)>|`[^`<]*<([^>`]+)>`_")
_CODE = re.compile(r"``([^`]+)``|`([^`]+)`")


def _role_target(text: str) -> str:
    match = re.search(r"<([^<>]+)>\s*$", text)
    return (match.group(1) if match else text).strip()


def markup(text: str) -> dict[str, list[str]]:
    """The roles (with their targets), math, link targets and inline code of one message."""
    roles = sorted(f"{m[0] or m[2]}:{_role_target(m[1] or m[3])}" for m in _ROLE.findall(text))
    rest = _ROLE.sub(" ", text)
    links = sorted(next(g for g in m if g) for m in _LINK.findall(rest))
    rest = _LINK.sub(" ", rest)
    math = sorted(_MATH.findall(rest))
    rest = _MATH.sub(" ", rest)
    code = sorted(a or b for a, b in _CODE.findall(rest))
    return {"roles": roles, "links": links, "math": math, "code": code}


def prose(text: str) -> str:
    """A message without roles, links, math, inline code and URLs: what typography applies to."""
    for pattern in (_ROLE, _LINK, _MATH, _CODE, re.compile(r"https?://\S+")):
        text = pattern.sub(" ", text)
    return text


def _entries():
    for path in CATALOGS:
        for entry in polib.pofile(str(path)).translated_entries():
            yield pytest.param(entry.msgid, entry.msgstr, id=f"{_catalog_id(path)}:{entry.linenum}")


class TestMarkupHelpers:
    def test_markup_finds_each_kind(self) -> None:
        """Roles, links, math and code spans are told apart, and a role keeps its target."""
        found = markup(
            "See {term}`mask <attention mask>`, $a+b$, `x[0]`, [doc](https://e.org) and :ref:`y`."
        )
        assert found == {
            "roles": ["ref:y", "term:attention mask"],
            "links": ["https://e.org"],
            "math": ["a+b"],
            "code": ["x[0]"],
        }

    def test_typography_rule(self) -> None:
        """A colon after a plain space or glued to the word is a French typography error."""
        assert _typography_errors("Voici : un exemple") and _typography_errors("Voici: un exemple")
        assert not _typography_errors("Voici\u00a0: un exemple, `a: b` et https://x.org")


def _typography_errors(msgstr: str) -> list[str]:
    """Punctuation ``: ; ! ?`` in French prose must follow a (narrow) non-breaking space."""
    text = prose(msgstr)
    return re.findall(r"\S{0,12}(?<![\u00a0\u202f])[:;!?](?=\s|$)", text)


@pytest.mark.parametrize(("msgid", "msgstr"), list(_entries()))
class TestEntries:
    def test_markup_survives(self, msgid: str, msgstr: str) -> None:
        """Every role target, link target, math expression and code span of the msgid is kept."""
        assert markup(msgstr) == markup(msgid)

    def test_french_typography(self, msgid: str, msgstr: str) -> None:
        """A non-breaking space stands before ``:``, ``;``, ``!`` and ``?`` in the French prose."""
        assert _typography_errors(msgstr) == []


def test_sphinx_lint_on_catalogs() -> None:
    """sphinx-lint finds nothing wrong in the French catalogs."""
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinxlint",
            "--disable",
            "python-syntax,missing-space-before-default-role",
            str(LOCALES),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


#: One French term per concept (the glossary's), typography that smartquotes cannot fix, and a
#: faux-sens: the variants a French catalog must not use, with the form to write instead.
FORBIDDEN = {
    "amorce": "prompt",
    "la softmax": "le softmax",
    "une softmax": "un softmax",
    "modèle de langue": "modèle de langage",
    "places de jetons": "emplacements de jetons",
    "cache clé/valeur": "cache clés-valeurs",
    "roue": "wheel",
    "peut s'attendre": "peut regarder / est autorisée (to attend, not to expect)",
    "peuvent s'attendre": "peuvent regarder / sont autorisées",
    "'{": "’ before a role or markup (smartquotes would write ”)",
    "'`": "’ before inline code",
    "'«": "’ before a French quote (smartquotes would write ”)",
    "modèle de conversation": "gabarit de conversation (chat template) / modèle conversationnel",
    " notées": "évaluées (to score: noter is to grade)",
    " notés": "évalués (to score: noter is to grade)",
    "note-t-elle": "évalue-t-elle",
    "positions rotatives": "encodage positionnel rotatif (RoPE)",
}


class TestTerminology:
    def test_no_forbidden_variant_in_any_catalog(self) -> None:
        """No French message uses a variant the glossary replaced (the list above, with what
        to write instead); "invite" only in « invite de génération » (add_generation_prompt)."""
        found = []
        for path in CATALOGS:
            for entry in polib.pofile(str(path)).translated_entries():
                text = entry.msgstr
                found += [
                    f"{_catalog_id(path)}: {variant!r} (write {FORBIDDEN[variant]!r})"
                    for variant in FORBIDDEN
                    if variant in text
                ]
                if "invite" in text.replace("invite de génération", ""):
                    found.append(f"{_catalog_id(path)}: 'invite' (write 'prompt')")
        assert found == []
