"""The message catalog of the site's extensions and scripts: their words, in the page's language.

The extensions lmnotes_figures ("Figure 3"), lmnotes_notebooks ("Take this page home") and
lmnotes_cite (the bibliography's notes and dates) mark their words with ``_()`` (or
``N_()`` where the word is looked up later); lmnotes_cite adds the notes and ``howpublished``
fields of ``docs/references.bib``. Their translations are the catalog
``docs/locales/<lang>/LC_MESSAGES/lmnotes.po``, compiled when the build starts and read
through Sphinx's message catalogs for extensions. ``nox -s gettext`` writes its template
with :func:`messages` (``python docs/_tools/catalogs.py extract``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.locale import get_translation
from sphinx.util import logging
from sphinx.util.i18n import CatalogInfo

#: The message catalog (domain) of the site's extensions.
CATALOG = "lmnotes"
_ = get_translation(CATALOG)
logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
#: The extensions whose ``_()`` and ``N_()`` messages go to the catalog.
SOURCES = (
    "lmnotes_bibliography.py",
    "lmnotes_catalog.py",
    "lmnotes_cite.py",
    "lmnotes_figures.py",
    "lmnotes_notebooks.py",
)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a message marked, not translated)
    """Mark ``message`` for the catalog without translating it (it is translated when used).

    >>> N_("Merged on %(date)s.")
    'Merged on %(date)s.'
    """
    return message


def messages(bibfile: Path | None = None) -> Iterator[str | tuple[str, str]]:
    """Every message of the catalog, in order, once: the extensions' marked strings, the
    batch explorer's words (a message that counts as its (singular, plural)), the site's
    title, then the translatable fields of the bibliography (default ``docs/references.bib``).

    >>> found = list(messages())
    >>> "Figure %(number)d" in found and "No archived copy was verified." in found
    True
    """
    from babel.messages.extract import extract_from_file
    from lmnotes_bibliography import bibliography_messages

    seen: set[str] = set()
    for name in SOURCES:
        for _line, message, _comments, _context in extract_from_file(
            "python", str(HERE / name), {"_": None, "N_": None}
        ):
            if message not in seen:
                seen.add(message)
                yield message
    bibliography = bibliography_messages(bibfile or HERE.parent / "references.bib")
    explorer = [text if isinstance(text, str) else text[1:] for text in explorer_words().values()]
    for message in [*explorer, site_title(), *bibliography]:
        if message not in seen:
            seen.add(message)
            yield message


#: The words the site's scripts write (docs/_static/lmnotes-a11y.js names the blocks that
#: scroll: "Output 2, scrollable area"), marked for the catalog. Each page gets them in its
#: language as ``window.lmnotesWords``, with the batch explorer's under ``explorer``
#: (:func:`explorer_words`), so that no script holds a translation.
SCRIPT_WORDS = {
    "code": N_("Code"),
    "output": N_("Output"),
    "table": N_("Table"),
    "math": N_("Equation"),
    "block": N_("Block"),
    "figure": N_("Figure"),
    "region": N_("%(kind)s %(number)s, scrollable area"),
    "described": N_("%(region)s: %(description)s"),
}


def explorer_words() -> dict[str, str | tuple[str, str, str]]:
    """The batch explorer's interface words, in English, by key: a message, or for one that
    counts, (the count's placeholder, its singular, its plural)
    (:data:`lmnotes.explorer.EXPLORER_STRINGS`, :data:`lmnotes.explorer.EXPLORER_SINGULARS`)."""
    from lmnotes.explorer import EXPLORER_SINGULARS, EXPLORER_STRINGS

    return {
        key: (EXPLORER_SINGULARS[key][0], EXPLORER_SINGULARS[key][1], text)
        if key in EXPLORER_SINGULARS
        else text
        for key, text in EXPLORER_STRINGS.items()
    }


def _explorer_entry(text: Any, gettext: Any, ngettext: Any) -> Any:
    if isinstance(text, tuple):
        count, one, other = text
        return {"count": count, "one": ngettext(one, other, 1), "other": ngettext(one, other, 2)}
    return gettext(text)


def script_words(gettext: Any = None) -> dict[str, Any]:
    """:data:`SCRIPT_WORDS` through ``gettext`` (default: the build's catalog), and under
    ``explorer`` the batch explorer's words (docs/_static/explorer.js).

    >>> words = script_words(lambda word: word.upper())
    >>> words["output"], words["explorer"]["batch"]
    ('OUTPUT', 'THE BATCH')
    """
    if gettext is None:
        from sphinx.locale import get_translator

        translator = get_translator(CATALOG)
        gettext, ngettext = translator.gettext, translator.ngettext
    else:

        def ngettext(one: str, other: str, n: int) -> str:
            return gettext(one if n == 1 else other)

    words: dict[str, Any] = {name: gettext(word) for name, word in SCRIPT_WORDS.items()}
    words["explorer"] = {
        key: _explorer_entry(text, gettext, ngettext) for key, text in explorer_words().items()
    }
    return words


def _script_words(app: Sphinx) -> None:
    import json

    body = "window.lmnotesWords = " + json.dumps(script_words(), ensure_ascii=False) + ";"
    app.add_js_file(None, body=body, priority=400)


def site_title(conf: Path | None = None) -> str:
    """The site's ``html_title`` as docs/conf.py writes it (English), read without running it.

    >>> site_title().startswith("lmnotes: ")
    True
    """
    import ast

    tree = ast.parse((conf or HERE.parent / "conf.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "html_title":
            return str(ast.literal_eval(node.value))
    raise ValueError(f"html_title: not found in {conf or HERE.parent / 'conf.py'}")


def _compile_catalog(app: Sphinx, config: Any) -> None:
    """Compile ``locales/<lang>/LC_MESSAGES/lmnotes.po`` when it is newer than its .mo, then
    register it (Sphinx compiles the pages' catalogs later, when the builder starts)."""
    language = config.language or "en"
    locale_dir = Path(app.confdir) / "locales"
    folder = locale_dir / language / "LC_MESSAGES"
    if (folder / f"{CATALOG}.po").is_file():
        catalog = CatalogInfo(str(folder), CATALOG, "utf-8")
        if catalog.is_outdated():
            catalog.write_mo(language, use_fuzzy=False)
    elif language != "en" and folder.is_dir():  # the language is translated, but not here
        logger.warning(
            "catalog: no catalog %s for language %r",
            folder / f"{CATALOG}.po",
            language,
            type="lmnotes",
            subtype="catalog",
        )
    app.add_message_catalog(CATALOG, str(locale_dir))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _compile_catalog)
    app.connect("builder-inited", _script_words)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
