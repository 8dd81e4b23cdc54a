"""The bibliography as the site shows it, from ``docs/references.bib`` through
sphinxcontrib-bibtex.

- Dates and labels: an entry's ``date`` (ISO 8601) and ``datekind`` (released, merged,
  opened, published) come first in its note, in the page's language (Babel); entries that
  share author and year get APA's letters (2026a, 2026b), in date then title order.
- Words: the notes (sentence by sentence) and ``howpublished`` are translated from the
  extensions' catalog (lmnotes.po) before pybtex formats them; pybtex's own words ("In",
  "Technical Report", "URL:", "n.d.") through the same catalog; lists of names joined as
  the language joins them (CLDR's list patterns). Titles and names stay as published, and
  the bibliography is marked ``lang="en"`` with the translated words marked in theirs.
- Each entry of a bibliography of citations opens its BibTeX entry as written in the file.
- pybtex's plugin look-ups and LaTeX decoding, which sphinxcontrib-bibtex redoes on every
  build, are made cheaper.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from lmnotes_catalog import N_, _
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)


#: The fields of a bibliography entry whose words are translated as a whole; titles,
#: names and URLs never are. The ``note`` is translated sentence by sentence.
TRANSLATED_FIELDS = ("howpublished",)
#: What an entry's ``datekind`` says of its ``date`` (ISO 8601), first in its note.
DATE_KINDS = {
    "published": N_("Published on %(date)s."),
    "released": N_("Released on %(date)s."),
    "merged": N_("Merged on %(date)s."),
    "opened": N_("Opened on %(date)s."),
}
_SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-Z])")
_ENTRY = re.compile(r"^@(?P<type>\w+)\{(?P<key>[^,\s]+),\n.*?^\}$", re.M | re.S)


def note_sentences(note: str) -> list[str]:
    r"""The sentences of a bibliography note, each the unit of its translation.

    >>> note_sentences("Adds seed. No archived copy was verified.")
    ['Adds seed.', 'No archived copy was verified.']
    >>> note_sentences("Introduces loss/loss\\_utils.py (ForCausalLMLoss).")
    ['Introduces loss/loss\\_utils.py (ForCausalLMLoss).']
    """
    return [part for part in _SENTENCE_END.split(note.strip()) if part]


def bibliography_messages(path: str | os.PathLike[str]) -> list[str]:
    """The messages of the bibliography ``path`` for the extensions' catalog: its
    translated fields and the sentences of its notes, as written (LaTeX included), in order.
    """
    from pybtex.database import parse_file

    found: list[str] = []
    for entry in parse_file(str(path)).entries.values():
        for field in TRANSLATED_FIELDS:
            if field in entry.fields:
                found.append(str(entry.fields[field]))
        found.extend(note_sentences(str(entry.fields.get("note", ""))))
    return list(dict.fromkeys(found))


def bibtex_sources(text: str) -> dict[str, str]:
    r"""Each entry of a ``.bib`` file's text, as written, by key.

    >>> bibtex_sources("% a comment\n@misc{a,\n  year = {2024},\n}\n")
    {'a': '@misc{a,\n  year = {2024},\n}'}
    """
    return {match["key"]: match.group(0) for match in _ENTRY.finditer(text)}


def who(entry: Any) -> str:
    """What an author-year citation of ``entry`` names: its authors, else its title."""
    people = entry.persons.get("author", [])
    return " and ".join(str(person) for person in people) or str(entry.fields.get("title", ""))


def year_labels(entries: dict[str, Any]) -> dict[str, str]:
    """The year each entry's citations show: its year, with ``a``, ``b``, ... when several
    entries share author and year (APA's rule), in the order of their dates, then titles.

    ``entries`` are pybtex entries by key; an entry's ``date`` (ISO 8601), if any, must
    fall in its ``year``.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for key, entry in entries.items():
        year, date = str(entry.fields.get("year", "")), str(entry.fields.get("date", ""))
        if date and not date.startswith(year):
            raise ValueError(f"{key}: date {date!r} is not in year {year!r}")
        groups.setdefault((who(entry), year), []).append(key)
    labels = {}
    for (_who_cited, year), keys in groups.items():
        if len(keys) == 1:
            labels[keys[0]] = year
            continue
        keys.sort(key=lambda k: tuple(str(entries[k].fields.get(f, "")) for f in ("date", "title")))
        for index, key in enumerate(keys):
            labels[key] = f"{year}{'abcdefghijklmnopqrstuvwxyz'[index]}"
    return labels


def localize_entry(entry: Any, language: str, gettext: Any) -> list[str]:
    """Put ``entry``'s note and translated fields in ``language``, its date first in its note
    (``Merged on July 2, 2024.``), in place; ``gettext`` translates one message.

    Returns the words it put in another language than the file's (LaTeX as written), for
    the page to mark their language.

    Examples
    --------
    >>> from pybtex.database import Entry
    >>> entry = Entry("misc", fields={"date": "2024-07-02", "datekind": "merged",
    ...                               "note": "Adds seed.", "howpublished": "GitHub"})
    >>> localize_entry(entry, "en", lambda message: message)
    []
    >>> entry.fields["note"]
    'Merged on July 2, 2024. Adds seed.'
    """
    from babel.dates import format_date

    sentences, changed = [], []

    def translated(message: str) -> str:
        text = gettext(message)
        if text != message:
            changed.append(text)
        return text

    date, kind = str(entry.fields.get("date", "")), str(entry.fields.get("datekind", ""))
    if bool(date) != bool(kind) or (kind and kind not in DATE_KINDS):
        raise ValueError(
            f"{entry.key}: date {date!r} and datekind {kind!r}: give both, the kind one of "
            f"{sorted(DATE_KINDS)}"
        )
    if date:
        day = format_date(dt.date.fromisoformat(date), format="long", locale=language)
        sentence = gettext(DATE_KINDS[kind]) % {"date": day}
        sentences.append(sentence)
        if language != "en":
            changed.append(sentence)
    sentences.extend(translated(part) for part in note_sentences(str(entry.fields.get("note", ""))))
    if sentences:
        entry.fields["note"] = " ".join(sentences)
    for field in TRANSLATED_FIELDS:
        if field in entry.fields:
            entry.fields[field] = translated(str(entry.fields[field]))
    return changed


def _prepare_bibliography(app: Sphinx) -> None:
    """Give sphinxcontrib-bibtex the bibliography as this build shows it: parsed again (the
    cached one may hold another build's words), notes and dates in the build's language,
    years told apart. The file itself is never changed: it is the one readers download."""
    from sphinxcontrib.bibtex.bibfile import parse_bibdata

    domain = app.env.get_domain("cite")
    files = [(Path(app.confdir) / name).resolve() for name in app.config.bibtex_bibfiles]
    bibdata = parse_bibdata(files, app.config.bibtex_encoding)
    entries = bibdata.data.entries
    language = app.config.language or "en"
    changed: list[str] = []
    try:
        years = year_labels(entries)
        for key, entry in entries.items():
            changed += localize_entry(entry, language, _)
            entry.fields["year"] = years[key]
    except ValueError as err:
        logger.warning("bibliography: %s", err, type="lmnotes", subtype="bibliography")
    domain.data["bibdata"] = bibdata
    from pybtex.richtext import Text

    #: What the bibliography says in the page's language (plain text), for its ``lang``.
    app.env.lmnotes_bibliography_translated = sorted(
        {Text.from_latex(text).render_as("text") for text in changed}, key=len, reverse=True
    )
    app.env.lmnotes_bibtex_sources = {}
    for path in files:
        app.env.lmnotes_bibtex_sources.update(bibtex_sources(path.read_text(encoding="utf-8")))


def name_separators(language: str) -> dict[str, str]:
    """How a list of names is joined in ``language``, from the CLDR's list patterns (Babel):
    ``sep`` between names, ``sep2`` between two names, ``last_sep`` before the last of more.

    >>> name_separators("en")
    {'sep': ', ', 'sep2': ' and ', 'last_sep': ', and '}
    >>> name_separators("fr")
    {'sep': ', ', 'sep2': ' et ', 'last_sep': ' et '}
    """
    from babel import Locale

    patterns = Locale.parse(language).list_patterns["standard"]

    def between(pattern: str) -> str:
        return pattern.replace("{0}", "", 1).replace("{1}", "", 1)

    return {
        "sep": between(patterns["middle"]),
        "sep2": between(patterns["2"]),
        "last_sep": between(patterns["end"]),
    }


def _style(language: str) -> type:
    """pybtex's style ``unsrt``, its lists of names joined as ``language`` joins them."""
    from pybtex.style.formatting.unsrt import Style
    from pybtex.style.template import names, sentence

    separators = name_separators(language)

    class LocalizedStyle(Style):
        def format_names(self, role: str, as_sentence: bool = True) -> Any:
            formatted = names(role, **separators)
            return sentence[formatted] if as_sentence else formatted

    return LocalizedStyle


#: The formatting style the bibliographies use: pybtex's ``unsrt`` in the page's language.
STYLE = "lmnotes"


def _register_style(app: Sphinx, config: Any) -> None:
    from pybtex.plugin import register_plugin

    register_plugin("pybtex.style.formatting", STYLE, _style(config.language or "en"), force=True)


class BibtexPerEntry(SphinxPostTransform):
    """After each entry of a bibliography, a disclosure with its BibTeX entry as written in
    ``references.bib`` (the same in every language): a reader copies one entry."""

    default_priority = 16

    def run(self, **kwargs: Any) -> None:
        sources = getattr(self.env, "lmnotes_bibtex_sources", {})
        language = self.config.language or "en"
        domain = self.env.get_domain("cite")
        # Citation ids (id12) are unique within a page, not across pages.
        keys = {
            (citation.bibliography_key.docname, citation.citation_id): citation.key
            for citation in domain.citations
        }
        for citation in list(self.document.findall(nodes.citation)):
            docname = citation.get("docname", self.env.docname)
            key = next((keys[docname, i] for i in citation["ids"] if (docname, i) in keys), None)
            if key is None or key not in sources:
                continue
            summary = _("BibTeX entry %(key)s") % {"key": key}
            # The bibliography is lang="en"; the summary is in the page's language.
            lang = f' lang="{html.escape(language)}"' if language != "en" else ""
            block = nodes.literal_block(
                sources[key], sources[key], language="bibtex", translatable=False
            )
            block["classes"].append("lmnotes-citation")
            citation += nodes.raw(
                "",
                f'<details class="lmnotes-cite"><summary{lang}>{html.escape(summary)}</summary>',
                format="html",
            )
            citation += block
            citation += nodes.raw("", "</details>", format="html")


class MarkReferences(SphinxPostTransform):
    """Wrap each bibliography in ``<div class="lmnotes-references" lang="en">``.

    Runs before sphinxcontrib-bibtex turns the bibliography node into entries
    (its post-transform has priority 5).
    """

    default_priority = 4

    def run(self, **kwargs: Any) -> None:
        from sphinxcontrib.bibtex.nodes import bibliography

        for bib in list(self.document.findall(bibliography)):
            if (
                isinstance(bib.parent, nodes.container)
                and "lmnotes-references" in bib.parent["classes"]
            ):
                continue
            wrapper = nodes.container(classes=["lmnotes-references", "language-en"])
            bib.replace_self(wrapper)
            wrapper["ids"] = []  # replace_self copied the bibliography's id, which it keeps
            wrapper += bib


#: The words pybtex's style ``unsrt`` writes around an entry's fields, each with where it
#: stands, marked for the catalog; the fields themselves are translated before pybtex formats
#: them (:func:`localize_entry`). Titles, authors and names stay in their original language.
STYLE_WORDS = (
    (r"\bURL:(?= )", N_("URL:")),  # a citation's tooltip
    (r"\bn\.d\.", N_("n.d.")),
    (r"\bTechnical Report\b", N_("Technical Report")),
    (r"(?:^|(?<=\. ))In(?= $)", N_("In")),  # before a proceedings' title
)


def translate_annotations(text: str, gettext: Any) -> str:
    """The words pybtex's style wrote in ``text`` (:data:`STYLE_WORDS`), put through
    ``gettext``; other words unchanged.

    >>> translate_annotations("2020. URL: ", {"URL:": "URL\u00a0:"}.get)
    '2020. URL\u00a0: '
    """
    for pattern, word in STYLE_WORDS:
        text = re.sub(pattern, (gettext(word) or word).replace("\\", "\\\\"), text)
    return text


class TranslateAnnotations(SphinxPostTransform):
    """Put the bibliography's annotations (not its titles) in the page's language, and the
    citations that point to it: their label (``[Hugging Face, s. d.]``) and their tooltip
    (the entry, as the bibliography shows it).

    Runs after sphinxcontrib-bibtex formats the entries (priority 5) and the references
    resolver makes the citations (10); the translated words of an entry are wrapped in an
    inline of class ``language-<lang>`` (``lang`` in HTML), inside the bibliography's
    ``lang="en"``.
    """

    default_priority = 15

    def run(self, **kwargs: Any) -> None:
        language = self.config.language or "en"
        if language == "en":
            return
        for citation in list(self.document.findall(nodes.inline)):
            if "bibtex-citation" not in citation["classes"]:
                continue
            for reference in citation.findall(nodes.reference):
                if reference.get("reftitle"):
                    reference["reftitle"] = translate_annotations(reference["reftitle"], _)
            for text in list(citation.findall(nodes.Text)):
                new = translate_annotations(str(text), _)
                if new != str(text):
                    text.parent.replace(text, nodes.Text(new))
        translated = getattr(self.env, "lmnotes_bibliography_translated", [])
        for container in list(self.document.findall(nodes.container)):
            if "lmnotes-references" not in container["classes"]:
                continue
            for text in list(container.findall(nodes.Text)):
                new = translate_annotations(str(text), _)
                if new != str(text) or any(words in new for words in translated):
                    text.parent.replace(
                        text, nodes.inline(new, new, classes=[f"language-{language}"])
                    )


#: The pybtex plugins sphinxcontrib-bibtex looks up for this site's styles, (group, name).
PYBTEX_PLUGINS = (
    ("pybtex.style.formatting", "unsrt"),
    ("pybtex.style.names", "plain"),
    ("pybtex.style.names", "last"),
    ("pybtex.style.labels", "number"),
    ("pybtex.style.sorting", "none"),
    ("pybtex.backends", "docutils"),
    ("pybtex.backends", "text"),  # the plain text of the translated notes
)


def speed_up_pybtex(app: Sphinx, config: Any) -> None:
    """Make the formatting sphinxcontrib-bibtex redoes on every build cheaper.

    sphinxcontrib-bibtex formats every citation of every bibliography on every build, even
    one with nothing to do, and each formatting (1) looks pybtex's plugins up by scanning
    every installed distribution's entry points and (2) decodes the same LaTeX fields again.
    (1) Plugins registered with pybtex's ``register_plugin`` are found first, without the
    scan; they are the same classes. (2) ``Text.from_latex`` is a function of its string
    (rich text objects are immutable), so its results are kept for the process.
    tests/test_build_speed.py checks that the bibliography comes out the same.
    """
    from pybtex.plugin import find_plugin, register_plugin
    from pybtex.richtext import Text

    for group, name in PYBTEX_PLUGINS:
        register_plugin(group, name, find_plugin(group, name), force=True)
    if not hasattr(Text.from_latex, "cache_info"):
        Text.from_latex = classmethod(functools.lru_cache(maxsize=None)(Text.from_latex.__func__))


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinxcontrib.bibtex")
    app.setup_extension("lmnotes_catalog")
    app.connect("config-inited", speed_up_pybtex)
    app.connect("config-inited", _register_style)
    # After sphinxcontrib-bibtex (priority 500) has set its domain up.
    app.connect("builder-inited", _prepare_bibliography, priority=600)
    app.add_post_transform(MarkReferences)
    app.add_post_transform(TranslateAnnotations)
    app.add_post_transform(BibtexPerEntry)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
