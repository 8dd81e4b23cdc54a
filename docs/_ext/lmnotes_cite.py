"""Citations generated at build time: the knowledge base from ``CITATION.cff``, a page from
its title.

The ``cite-this`` directive writes a BibTeX entry or an APA reference as a
literal block (so the copy button works), computed when the site is built.
Each fact has one source:

* authors, URL, DOI, licence: ``CITATION.cff``;
* the version: the Sphinx ``release`` (docs/conf.py reads it from the installed
  package, whose version is ``lmnotes.__version__``); ``CITATION.cff`` carries
  no ``version`` and no ``date-released`` (:func:`load_citation` rejects them);
* the date, of the knowledge base as of a page: the build date
  (``SOURCE_DATE_EPOCH`` if set, as reproducible builds do, else today);
* the title of the knowledge base: ``html_title``, the title the site shows in
  the language being built; on the English site it must equal the ``title`` of
  ``CITATION.cff`` (a warning otherwise), so that GitHub's "Cite this
  repository" box and the site agree;
* the title of a page: its document title in the language being built.

MyST usage::

    ```{cite-this} bibtex
    ```

    ```{cite-this} apa
    :page: notes/mlm
    ```

``:page:`` with no value means the page the directive is on.

Page URLs name the version, never a moving ``latest``: ``html_baseurl`` (the
root of this language's site, as Sphinx defines it) + ``<page>.html`` when it
is set; otherwise the ``url`` of ``CITATION.cff`` +
``<language>/<version>/<page>.html``, the Read the Docs layout, where
``<version>`` is ``lmnotes_cite_url_version`` if set, else, in a Read the Docs
build of a tag (``READTHEDOCS_VERSION_TYPE=tag``), the slug Read the Docs
serves that tag under (``READTHEDOCS_VERSION``), else the release. A Read the
Docs build of a branch (``latest``, ``stable``) thus cites the URL of the
release it was built from.

The extension also wraps every ``{bibliography}`` in a container with the
classes ``lmnotes-references`` and ``language-en`` (rendered as ``lang="en"``):
bibliographic entries stay in their original language on the French site.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from lmnotes_catalog import N_, _
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

__all__ = [
    "FORMATS",
    "apa_authors",
    "bibtex_authors",
    "bibtex_escape",
    "build_date",
    "kb_apa",
    "kb_bibtex",
    "load_citation",
    "page_apa",
    "page_bibtex",
    "page_key",
    "page_url",
    "setup",
    "url_version",
]

logger = logging.getLogger(__name__)

FORMATS = ("bibtex", "apa")
_MONTHS_BIBTEX = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
#: The words of an APA reference, marked for the catalog: the build passes them translated.
APA_WORDS = {"software": N_("Computer software"), "in": N_("In")}


def apa_day(day: dt.date, language: str = "en") -> str:
    """Year, then month and day, as an APA reference dates a web page, in ``language``.

    >>> apa_day(dt.date(2026, 11, 19)), apa_day(dt.date(2026, 11, 19), "fr")
    ('2026, November 19', '2026, 19 novembre')
    """
    from babel.dates import format_skeleton

    return f"{day.year}, {format_skeleton('MMMMd', day, locale=language)}"


# -- Pure functions (tested in tests/test_cite.py) -----------------------------


def load_citation(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``CITATION.cff`` file.

    Parameters
    ----------
    path : str or PathLike
        The file (Citation File Format 1.2, YAML).

    Returns
    -------
    dict
        The parsed file; ``title`` and ``authors`` are required.

    Raises
    ------
    ValueError
        If the file is not a mapping, lacks ``title`` or ``authors``, or has a
        ``version`` or ``date-released``: the version is the site's release and
        the date its build date, each with one source.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"path: {path} is not a CITATION.cff mapping")
    missing = [key for key in ("title", "authors") if not data.get(key)]
    if missing:
        raise ValueError(f"path: {path} lacks {', '.join(missing)}")
    second = [key for key in ("version", "date-released") if key in data]
    if second:
        raise ValueError(
            f"path: {path} has {', '.join(second)}: the version comes from the "
            "package (the Sphinx release) and the date from the build"
        )
    return data


def build_date(environ: dict[str, str] | None = None) -> dt.date:
    """The date the site is built: ``SOURCE_DATE_EPOCH`` (UTC) if set, else today.

    Examples
    --------
    >>> from lmnotes_cite import build_date
    >>> build_date({"SOURCE_DATE_EPOCH": "1795046400"})
    datetime.date(2026, 11, 19)
    """
    environ = os.environ if environ is None else environ
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
        except ValueError as err:
            raise ValueError(f"SOURCE_DATE_EPOCH: {epoch!r} is not a number of seconds") from err
    return dt.date.today()


def bibtex_escape(text: str) -> str:
    r"""Escape the characters that BibTeX/LaTeX treat specially.

    Examples
    --------
    >>> from lmnotes_cite import bibtex_escape
    >>> print(bibtex_escape("mask_replace_prob & 80 %"))
    mask\_replace\_prob \& 80 \%
    >>> print(bibtex_escape("lmnotes\u00a0: lots"))  # a no-break space is LaTeX's tie
    lmnotes~: lots
    """
    replacements = {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
        "\u00a0": "~",
    }
    return "".join(replacements.get(char, char) for char in text)


def _person(author: dict[str, Any]) -> tuple[str, str] | str:
    """(family, given) for a person, or the name of an entity."""
    if author.get("family-names"):
        family = " ".join(filter(None, [author.get("name-particle"), author["family-names"]]))
        if author.get("name-suffix"):
            family = f"{family}, {author['name-suffix']}"
        return family, str(author.get("given-names", ""))
    if author.get("name"):
        return str(author["name"])
    raise ValueError(f"authors: entry {author!r} has neither family-names nor name")


def bibtex_authors(authors: list[dict[str, Any]]) -> str:
    """BibTeX ``author`` field: ``Family, Given and ...``; an entity is braced, kept whole.

    Examples
    --------
    >>> from lmnotes_cite import bibtex_authors
    >>> print(bibtex_authors([{"family-names": "Rush", "given-names": "Alexander M."},
    ...                       {"name": "The lmnotes authors"}]))
    Rush, Alexander M. and {The lmnotes authors}
    """
    parts = []
    for author in authors:
        person = _person(author)
        if isinstance(person, str):
            parts.append("{" + bibtex_escape(person) + "}")
        else:
            family, given = person
            parts.append(bibtex_escape(f"{family}, {given}" if given else family))
    return " and ".join(parts)


def apa_authors(authors: list[dict[str, Any]]) -> str:
    """APA author list: ``Family, G. G.``, ``&`` before the last; an entity as written.

    Examples
    --------
    >>> from lmnotes_cite import apa_authors
    >>> print(apa_authors([{"family-names": "Rush", "given-names": "Alexander M."},
    ...                    {"family-names": "Dao", "given-names": "Tri"}]))
    Rush, A. M., & Dao, T.
    """
    names = []
    for author in authors:
        person = _person(author)
        if isinstance(person, str):
            names.append(person)
        else:
            family, given = person
            initials = " ".join(f"{part[0]}." for part in re.split(r"[\s.]+", given) if part)
            names.append(f"{family}, {initials}" if initials else family)
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]}, & {names[1]}"
    return ", ".join(names[:-1]) + f", & {names[-1]}"


def _end(text: str) -> str:
    """Text followed by a full stop, unless it already ends with a stop mark."""
    return text if text.endswith((".", "?", "!")) else text + "."


def _fields(entry_type: str, key: str, fields: list[tuple[str, str | None]]) -> str:
    present = [(name, value) for name, value in fields if value]
    width = max(len(name) for name, _value in present)
    body = ",\n".join(f"  {name.ljust(width)} = {value}" for name, value in present)
    return f"@{entry_type}{{{key},\n{body},\n}}"


def _link(cff: dict[str, Any]) -> str:
    if cff.get("doi"):
        return f"https://doi.org/{cff['doi']}"
    return str(cff.get("url") or cff.get("repository-code", ""))


def kb_bibtex(
    cff: dict[str, Any],
    *,
    version: str,
    built: dt.date,
    title: str | None = None,
    key: str = "lmnotes",
    url: str | None = None,
) -> str:
    """BibTeX ``@software`` entry for the knowledge base.

    Authors, DOI and licence from ``CITATION.cff``; ``version`` (the site's
    release) and ``built`` (the build date) from the build; ``title`` defaults
    to the CFF's; ``url`` (the site's home page in this version, as
    :func:`page_url` gives it) defaults to the CFF's ``url``.
    """
    url = url or (str(cff["url"]) if cff.get("url") else None)
    return _fields(
        "software",
        key,
        [
            ("author", "{" + bibtex_authors(cff["authors"]) + "}"),
            ("title", "{{" + bibtex_escape(str(title or cff["title"])) + "}}"),
            ("version", "{" + bibtex_escape(str(version)) + "}"),
            ("date", "{" + built.isoformat() + "}"),
            ("year", "{" + str(built.year) + "}"),
            ("month", _MONTHS_BIBTEX[built.month - 1]),
            ("doi", "{" + str(cff["doi"]) + "}" if cff.get("doi") else None),
            ("url", "{" + url + "}" if url else None),
            (
                "repository",
                "{" + str(cff["repository-code"]) + "}" if cff.get("repository-code") else None,
            ),
            ("license", "{" + str(cff["license"]) + "}" if cff.get("license") else None),
        ],
    )


def kb_apa(
    cff: dict[str, Any],
    *,
    version: str,
    built: dt.date,
    title: str | None = None,
    language: str = "en",
    url: str | None = None,
    words: dict[str, str] | None = None,
) -> str:
    """APA 7 reference for the knowledge base (software); sources as :func:`kb_bibtex`.

    ``words`` are :data:`APA_WORDS` in the page's language (the build translates them from
    the catalog; English by default); the link is the DOI, else ``url``, else the CFF's
    ``url``.
    """
    words = words or APA_WORDS
    link = f"https://doi.org/{cff['doi']}" if cff.get("doi") else (url or _link(cff))
    return (
        f"{_end(apa_authors(cff['authors']))} ({built.year}). {title or cff['title']} "
        f"(Version {version}) [{words['software']}]. {link}"
    )


def page_key(pagename: str, prefix: str = "lmnotes") -> str:
    """A BibTeX key for a page: ``lmnotes-notes-mlm`` for ``notes/mlm``.

    Examples
    --------
    >>> from lmnotes_cite import page_key
    >>> page_key("how-to/cite")
    'lmnotes-how-to-cite'
    """
    return prefix + "-" + re.sub(r"[^A-Za-z0-9]+", "-", pagename).strip("-")


def page_url(
    *, pagename: str, language: str, version_slug: str, html_baseurl: str = "", site_url: str = ""
) -> str:
    """The public URL of a page, in the version it was built from.

    ``html_baseurl`` is the root of this language's site (Sphinx's meaning);
    without it, ``site_url`` + ``<language>/<version_slug>/`` (Read the Docs).

    Examples
    --------
    >>> from lmnotes_cite import page_url
    >>> page_url(pagename="notes/mlm", language="fr", version_slug="0.1.0",
    ...          site_url="https://lmnotes.readthedocs.io/")
    'https://lmnotes.readthedocs.io/fr/0.1.0/notes/mlm.html'
    >>> page_url(pagename="index", language="en", version_slug="0.1.0",
    ...          html_baseurl="https://x.org/en/v1/")
    'https://x.org/en/v1/index.html'
    """
    if html_baseurl:
        return html_baseurl.rstrip("/") + f"/{pagename}.html"
    if not site_url:
        raise ValueError("site_url: empty, and html_baseurl is not set either")
    if not version_slug:
        raise ValueError("version_slug: empty; a page URL names the version")
    return site_url.rstrip("/") + f"/{language}/{version_slug}/{pagename}.html"


def url_version(
    *, release: str, configured: str = "", environ: dict[str, str] | None = None
) -> str:
    """The version part of page URLs: configured, else a Read the Docs tag's slug, else the release.

    Examples
    --------
    >>> from lmnotes_cite import url_version
    >>> url_version(release="0.1.0", environ={})
    '0.1.0'
    >>> url_version(release="0.1.0", environ={"READTHEDOCS": "True",
    ...             "READTHEDOCS_VERSION": "latest", "READTHEDOCS_VERSION_TYPE": "branch"})
    '0.1.0'
    >>> url_version(release="0.1.0", environ={"READTHEDOCS": "True",
    ...             "READTHEDOCS_VERSION": "v0.1.0", "READTHEDOCS_VERSION_TYPE": "tag"})
    'v0.1.0'
    """
    environ = os.environ if environ is None else environ
    if configured:
        return configured
    if (
        environ.get("READTHEDOCS")
        and environ.get("READTHEDOCS_VERSION_TYPE") == "tag"
        and environ.get("READTHEDOCS_VERSION")
    ):
        return environ["READTHEDOCS_VERSION"]
    if not release:
        raise ValueError("release: empty; set release in conf.py or lmnotes_cite_url_version")
    return release


def page_bibtex(
    cff: dict[str, Any],
    *,
    pagename: str,
    title: str,
    url: str,
    version: str,
    built: dt.date,
    language: str = "en",
    site_title: str | None = None,
    key: str | None = None,
) -> str:
    """BibTeX ``@misc`` entry for one page: its title and URL, the site version, the build date.

    ``site_title`` (default: the CFF's title) names the knowledge base the page is in;
    ``key`` (default: :func:`page_key` of ``pagename``) is the entry's key.
    """
    langid = {"en": "english", "fr": "french"}.get(language)
    site_title = site_title or str(cff["title"])
    return _fields(
        "misc",
        key or page_key(pagename),
        [
            ("author", "{" + bibtex_authors(cff["authors"]) + "}"),
            ("title", "{{" + bibtex_escape(title) + "}}"),
            ("howpublished", "{" + bibtex_escape(f"{site_title}, version {version}") + "}"),
            ("version", "{" + bibtex_escape(version) + "}"),
            ("date", "{" + built.isoformat() + "}"),
            ("year", "{" + str(built.year) + "}"),
            ("month", _MONTHS_BIBTEX[built.month - 1]),
            ("url", "{" + url + "}"),
            ("urldate", "{" + built.isoformat() + "}"),
            ("langid", "{" + langid + "}" if langid else None),
        ],
    )


def page_apa(
    cff: dict[str, Any],
    *,
    title: str,
    url: str,
    version: str,
    built: dt.date,
    language: str = "en",
    site_title: str | None = None,
    words: dict[str, str] | None = None,
) -> str:
    """APA 7 reference for one page of the knowledge base (a page within a website), dated
    in ``language`` (:func:`apa_day`); ``words`` as :func:`kb_apa`."""
    words = words or APA_WORDS
    return (
        f"{_end(apa_authors(cff['authors']))} ({apa_day(built, language)}). {_end(title)} "
        f"{words['in']} {site_title or cff['title']} (Version {version}). {url}"
    )


# -- Sphinx glue ---------------------------------------------------------------


class cite_this(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """Placeholder for a citation, filled in once every page title is known."""


class CiteThisDirective(SphinxDirective):
    """``cite-this FORMAT`` (``bibtex`` or ``apa``), with an optional ``:page:``."""

    required_arguments = 1
    has_content = False
    option_spec = {"page": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        fmt = self.arguments[0].strip().lower()
        if fmt not in FORMATS:
            raise self.error(f"cite-this: format {fmt!r} is not one of {', '.join(FORMATS)}")
        node = cite_this(format=fmt, docname=self.env.docname)
        if "page" in self.options:
            node["page"] = (self.options["page"] or "").strip() or self.env.docname
        self.set_source_info(node)
        return [node]


class ResolveCiteThis(SphinxPostTransform):
    """Replace each ``cite_this`` placeholder by a literal block with the citation."""

    default_priority = 100

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(cite_this)):
            try:
                text, lexer = self._citation(node)
            except ValueError as err:
                logger.warning("cite-this: %s", err, location=node, type="lmnotes", subtype="cite")
                node.parent.remove(node)
                continue
            block = nodes.literal_block(text, text, language=lexer, translatable=False)
            block["classes"].append("lmnotes-citation")
            block.source, block.line = node.source, node.line
            node.replace_self(block)

    def _citation(self, node: cite_this) -> tuple[str, str]:
        if "page" not in node:
            return site_citation(self.config, node["format"])
        return page_citation(self.config, self.env, node["page"], node["format"])


def _context(config: Any) -> tuple[dict[str, Any], str, str, str]:
    """(CITATION.cff, version, language, site title) of a build, checked."""
    try:
        path = config.lmnotes_cite_file
        cff = _cached_citation(path, os.stat(path).st_mtime_ns)
    except FileNotFoundError as err:
        raise ValueError(f"lmnotes_cite_file: no file at {config.lmnotes_cite_file}") from err
    version = str(config.release or "")
    if not version:
        raise ValueError("release: empty in conf.py; the citations take the version from it")
    language = config.language or "en"
    site_title = str(config.html_title or cff["title"])
    if language == "en" and site_title != str(cff["title"]):
        raise ValueError(
            f"the site title {site_title!r} differs from the CITATION.cff title {cff['title']!r}"
        )
    return cff, version, language, site_title


def _url(config: Any, cff: dict[str, Any], version: str, pagename: str) -> str:
    return page_url(
        pagename=pagename,
        language=config.language or "en",
        html_baseurl=config.html_baseurl,
        site_url=str(cff.get("url") or ""),
        version_slug=url_version(release=version, configured=config.lmnotes_cite_url_version),
    )


def site_citation(config: Any, fmt: str) -> tuple[str, str]:
    """(entry, lexer) citing the whole site in ``fmt`` (``bibtex`` or ``apa``): its home page
    in this version, as pages name theirs."""
    cff, version, language, site_title = _context(config)
    home, built = _url(config, cff, version, "index"), build_date()
    if fmt == "bibtex":
        return kb_bibtex(cff, version=version, built=built, title=site_title, url=home), "bibtex"
    return kb_apa(
        cff,
        version=version,
        built=built,
        title=site_title,
        language=language,
        url=home,
        words=_apa_words(),
    ), "text"


def page_citation(
    config: Any, env: Any, pagename: str, fmt: str, *, part: str = "", anchor: str = ""
) -> tuple[str, str]:
    """(entry, lexer) citing page ``pagename`` of this build in ``fmt`` (``bibtex`` or
    ``apa``), or one ``part`` of it (``"Figure 3"``) at ``#anchor``: the part is named after
    the page's title, the key ends with the anchor, the URL goes to it."""
    cff, version, language, site_title = _context(config)
    if pagename not in env.titles:
        raise ValueError(f"no page named {pagename!r}")
    if bool(part) != bool(anchor):
        raise ValueError(f"part {part!r} and anchor {anchor!r}: give both or neither")
    title = env.titles[pagename].astext() + (f", {part}" if part else "")
    url = _url(config, cff, version, pagename) + (f"#{anchor}" if anchor else "")
    common = {
        "title": title,
        "url": url,
        "version": version,
        "built": build_date(),
        "language": language,
        "site_title": site_title,
    }
    if fmt == "bibtex":
        key = page_key(pagename) + (f"-{anchor}" if anchor else "")
        return page_bibtex(cff, pagename=pagename, key=key, **common), "bibtex"
    return page_apa(cff, words=_apa_words(), **common), "text"


def _apa_words() -> dict[str, str]:
    """:data:`APA_WORDS` in the build's language, from the catalog."""
    return {name: _(word) for name, word in APA_WORDS.items()}


@functools.lru_cache(maxsize=4)
def _cached_citation(path: str, mtime_ns: int) -> dict[str, Any]:
    """The parsed file, read again when it changes (sphinx-autobuild keeps the process)."""
    return load_citation(path)


def _load(app: Sphinx, config: Any) -> None:
    """Resolve ``lmnotes_cite_file`` (default: ``CITATION.cff`` beside ``docs/``).

    The file is read when a ``cite-this`` is first resolved, so a project that
    cites nothing does not need one; one that does fails (a warning) without it.
    """
    path = Path(config.lmnotes_cite_file or Path(app.confdir).parent / "CITATION.cff").resolve()
    config.lmnotes_cite_file = str(path)


#: The referencing style of the site (``bibtex_reference_style``): sphinxcontrib-bibtex's
#: author-year, with several sources in one citation separated by semicolons, as APA does in
#: both languages: [Cyrilvallez, 2025; Hugging Face, 2026h].
REFERENCE_STYLE = "lmnotes_author_year"


def _semicolons() -> Any:
    from sphinxcontrib.bibtex.style.referencing import BracketStyle

    # Translators: between two sources of one citation, before a space (French puts a
    # no-break space first).
    return BracketStyle(sep=_(";") + " ")


def _register_reference_style() -> None:
    from dataclasses import dataclass, field

    from sphinxcontrib.bibtex.plugin import register_plugin
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    @dataclass
    class SemicolonAuthorYear(AuthorYearReferenceStyle):
        bracket_parenthetical: Any = field(default_factory=_semicolons)

    register_plugin(
        "sphinxcontrib.bibtex.style.referencing", REFERENCE_STYLE, SemicolonAuthorYear, force=True
    )


def setup(app: Sphinx) -> dict[str, Any]:
    _register_reference_style()
    # The bibliography: sphinxcontrib-bibtex, with this site's entries (lmnotes_bibliography).
    app.setup_extension("lmnotes_bibliography")
    app.setup_extension("lmnotes_catalog")
    app.add_config_value("lmnotes_cite_file", "", "env", types=frozenset({str}))
    app.add_config_value("lmnotes_cite_url_version", "", "env", types=frozenset({str}))
    app.add_node(cite_this)
    app.add_directive("cite-this", CiteThisDirective)
    app.add_post_transform(ResolveCiteThis)
    app.connect("config-inited", _load)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
