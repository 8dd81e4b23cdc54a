"""Release numbers on the pages, read from the measured results (docs/reference/compatibility.json).

``nox -s compat`` runs the claims of tests/test_claims.py on every transformers release of the
supported range and computes, per claim, the releases where its outcome changed
(docs/_tools/compat_report.py). The pages never type a release number; they use:

- ``{since}`claim-id``` -- the first release where the claim holds (after a run where it
  did not); a warning if the results hold no such single change.
- ``{until}`claim-id``` -- the first release where the claim no longer holds.
- ``{holds-on}`claim-id``` / ``{differs-on}`claim-id``` -- the measured releases where the
  claim holds (or differs), as ranges ("5.0.0 – 5.1.0 and 5.3.0 – 5.25.0"): for a claim
  whose outcome changed more than once.
- ``{measured}`oldest``` and ``{measured}`newest``` -- the oldest and newest release measured.
- ``{release}`4.57.6``` -- a release named for what was read or measured on it (a cited
  source file of that tag, say); a warning unless the results hold a run of it.

Each renders the release as a link to the claim's row (or to the list of runs) on the
compatibility page. The directives ``{compat-claims}`` (the claims a page makes, with their
outcome on every measured release and their boundary) and ``{compat-runs}`` (the releases
and environments) build that page from the same file.

A page of the notes, how-to guides or reference that states a transformers release in its
prose (``5.19``, ``4.57.6``) without these roles gets a warning, so that the strict build
fails; code, outputs, citations and the generated tables are not read.

Words come from the ``sphinx`` catalog (``sphinx.locale._``: docs/locales/<lang>/LC_MESSAGES/
sphinx.po); the statements of the claims are paragraphs of the compatibility page, so the
page's own catalog translates them. Release numbers are never messages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

logger = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parents[1] / "reference" / "compatibility.json"
#: Where the claims' rows and the list of runs are.
PAGE = "reference/compatibility"
RUNS_LABEL = "compat-runs"
#: Class of the nodes this extension writes: the typed-release check does not read them.
MARK = "lmnotes-release"
#: A transformers release in prose: 4.xx or 5.x, optionally with a patch number, not part
#: of a longer number (0.45, 4.7e-01, 1.5.2.3).
RELEASE = re.compile(r"(?<![\w.,])(?:4\.\d{2}|5\.\d{1,2})(?:\.\d+)?(?![\w]|\.\d)")
#: Pages whose prose is checked for typed releases.
CHECKED = re.compile(r"^(notes|how-to|reference)/(?!api)")
#: Nodes whose text is not prose: code, outputs, maths, citations.
NOT_PROSE = (
    nodes.literal,
    nodes.literal_block,
    nodes.math,
    nodes.math_block,
    nodes.raw,
    nodes.citation,
    nodes.footnote,
    nodes.comment,
    nodes.reference,
)


def anchor(claim_id: str) -> str:
    """The id of a claim's row on the compatibility page."""
    return f"compat-{claim_id}"


def load(path: Path = RESULTS) -> dict:
    """compatibility.json: its claims by id, runs in release order, and boundaries."""
    data = json.loads(path.read_text("utf-8"))
    data["by_id"] = {claim["id"]: claim for claim in data["claims"]}
    return data


_LOADED: dict[tuple[str, int], dict] = {}


def _path(env) -> Path:
    return Path(env.config.lmnotes_compat_results or RESULTS)


def _results(env) -> dict:
    """The results, read once per change of the file (not kept in the pickled environment)."""
    path = _path(env)
    env.note_dependency(str(path))
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load(path)
    return _LOADED[key]


def _release_node(release: str, target: str, *, page_label: bool = False) -> nodes.Node:
    """``release`` as a link to ``target`` (a label of the compatibility page)."""
    ref = addnodes.pending_xref(
        "",
        refdomain="std",
        reftype="ref",
        reftarget=target,
        refexplicit=True,
        refwarn=True,
    )
    ref += nodes.inline(release, release, classes=["lmnotes-release-number"])
    return nodes.inline("", "", ref, classes=[MARK])


class _ResultsRole(SphinxRole):
    """A role read from the results: an unknown or unmeasured name warns (the strict build
    fails) and leaves the text as written."""

    def unresolved(
        self, message: str, *args: object
    ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        logger.warning(message, *args, location=self.get_location())
        return [nodes.inline(self.text, self.text)], []


def _span(first: str, last: str) -> str:
    """A range of releases as a reader sees it (one release alone when they are equal)."""
    return first if first == last else f"{first}\u00a0–\u00a0{last}"


class ReleaseRole(_ResultsRole):
    """``{since}`` and ``{until}``: the release where a claim's outcome changed."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        data = _results(self.env)
        claim_id = self.text.strip()
        if claim_id not in data["by_id"]:
            return self.unresolved(
                "%s: no claim %r in %s",
                self.name,
                claim_id,
                RESULTS.name,
            )
        changes = [c for c in data["boundaries"].get(claim_id, []) if c["outcome"] == self.outcome]
        if len(changes) != 1:
            return self.unresolved(
                "%s: claim %r changes to %r %d times in the measured results (needs exactly "
                "once): state it without a release, or measure it",
                self.name,
                claim_id,
                self.outcome,
                len(changes),
            )
        return [_release_node(changes[0]["release"], anchor(claim_id))], []


class RangesRole(_ResultsRole):
    """``{holds-on}`` and ``{differs-on}``: the measured releases with one outcome, as ranges."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        data = _results(self.env)
        claim_id = self.text.strip()
        outcomes = [
            (run["transformers"], run["claims"][claim_id]["outcome"])
            for run in data["runs"]
            if claim_id in run["claims"]
        ]
        spans = [(first, last) for o, first, last in _ranges(outcomes) if o == self.outcome]
        if claim_id not in data["by_id"] or not spans:
            return self.unresolved(
                "%s: claim %r has no measured release where it %s",
                self.name,
                claim_id,
                self.outcome,
            )
        texts = [_span(first, last) for first, last in spans]
        joined = texts[-1]
        if len(texts) > 1:
            joined = str(_("%(earlier)s and %(last)s")) % {
                "earlier": ", ".join(texts[:-1]),
                "last": texts[-1],
            }
        return [_release_node(joined, anchor(claim_id))], []


class MeasuredRole(_ResultsRole):
    """``{measured}`oldest``` / ``{measured}`newest```: the range of releases measured."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        data = _results(self.env)
        full = [r["transformers"] for r in data["runs"] if r.get("scope") != "claims"]
        which = self.text.strip()
        if which not in ("oldest", "newest") or not full:
            return self.unresolved(
                "measured: expected 'oldest' or 'newest', got %r",
                which,
            )
        return [_release_node(full[0] if which == "oldest" else full[-1], RUNS_LABEL)], []


class NamedReleaseRole(_ResultsRole):
    """``{release}`X```: a release the results hold a run of, named as it is."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        data = _results(self.env)
        release = self.text.strip()
        if release not in {r["transformers"] for r in data["runs"]}:
            return self.unresolved(
                "release: %r was not measured (no run of it in %s)",
                release,
                RESULTS.name,
            )
        return [_release_node(release, RUNS_LABEL)], []


class compat_strip(nodes.General, nodes.Element):
    """The outcome of one claim on every run, as marks (HTML only; the summary says it in words)."""


def visit_compat_strip(self, node: compat_strip) -> None:
    marks = []
    for release, outcome, word in node["marks"]:
        symbol = {"holds": "✓", "differs": "✗"}.get(outcome, "–")
        marks.append(
            f'<span class="lmnotes-compat-mark lmnotes-compat-{outcome}" '
            f'title="{self.encode(release)}: {self.encode(word)}">{symbol}</span>'
        )
    self.body.append(
        '<span class="lmnotes-compat-strip" aria-hidden="true">' + "".join(marks) + "</span>"
    )
    raise nodes.SkipNode


def skip(self, node: nodes.Node) -> None:
    raise nodes.SkipNode


def _words() -> dict[str, str]:
    return {"holds": str(_("holds")), "differs": str(_("differs")), "skipped": str(_("skipped"))}


def _ranges(outcomes: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Consecutive runs with one outcome: ``(outcome, first release, last release)``."""
    ranges: list[list[str]] = []
    for release, outcome in outcomes:
        if ranges and ranges[-1][0] == outcome:
            ranges[-1][2] = release
        else:
            ranges.append([outcome, release, release])
    return [tuple(r) for r in ranges]


def _text(text: str) -> nodes.inline:
    return nodes.inline(text, text)


class CompatClaims(SphinxDirective):
    """The claims one page makes (argument: its docname), one row each."""

    required_arguments = 0
    optional_arguments = 1
    option_spec = {"other": directives.flag}

    def run(self) -> list[nodes.Node]:
        data = _results(self.env)
        page = self.arguments[0] if self.arguments else None
        claims = [c for c in data["claims"] if c.get("page") == page]
        if not claims:
            logger.warning("compat-claims: no claim made in %r", page, location=self.get_location())
            return []
        words = _words()
        table = nodes.table(classes=["lmnotes-compat-table", MARK])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (50, 30, 20):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        row = nodes.row()
        for title in (_("Claim"), _("Outcome on each release measured"), _("Changed in")):
            row += nodes.entry("", nodes.paragraph("", str(title)))
        head += row
        body = nodes.tbody()
        group += body
        for claim in claims:
            body += self._row(claim, data, words)
        return [table]

    def _row(self, claim: dict, data: dict, words: dict[str, str]) -> nodes.row:
        row = nodes.row()
        # The statement: MyST text of tests/test_claims.py, parsed here so that its roles
        # work and the page's catalog translates it.
        statement = nodes.entry()
        target = nodes.target("", "", ids=[anchor(claim["id"])], names=[anchor(claim["id"])])
        self.state.document.note_explicit_target(target)
        statement += target
        self.state.nested_parse(
            StringList([claim["statement"]], self.get_source_info()[0]),
            self.content_offset,
            statement,
        )
        ident = nodes.paragraph("", "", classes=["lmnotes-compat-id"])
        ident += nodes.literal(claim["id"], claim["id"])
        statement += ident
        row += statement

        outcomes = []
        for run in data["runs"]:
            result = run["claims"].get(claim["id"])
            if result is not None:
                outcomes.append((run["transformers"], result["outcome"]))
        cell = nodes.entry()
        strip = compat_strip()
        strip["marks"] = [(r, o, words.get(o, o)) for r, o in outcomes]
        cell += strip
        summary = nodes.paragraph("", "", classes=["lmnotes-compat-summary"])
        for number, (outcome, first, last) in enumerate(_ranges(outcomes)):
            if number:
                # The separator alone (msgids keep no edge spaces: sphinx-lint).
                summary += _text(str(_("%(earlier)s; %(next)s")) % {"earlier": "", "next": ""})
            span = _span(first, last)
            text = str(_("%(mark)s %(outcome)s: %(releases)s")) % {
                "mark": {"holds": "✓", "differs": "✗"}.get(outcome, "–"),
                "outcome": words.get(outcome, outcome),
                "releases": span,
            }
            summary += _text(text)
        cell += summary
        row += cell

        changed = nodes.entry()
        changes = data["boundaries"].get(claim["id"], [])
        if not changes:
            changed += nodes.paragraph("", str(_("no change measured")))
        for change in changes:
            text = str(_("%(outcome)s from %(release)s (after %(after)s)")) % {
                "outcome": words.get(change["outcome"], change["outcome"]),
                "release": change["release"],
                "after": change["after"],
            }
            changed += nodes.paragraph("", text)
        if claim.get("cite"):
            cited = nodes.paragraph()
            self.state.nested_parse(
                StringList([f"{{cite:p}}`{claim['cite']}`"], self.get_source_info()[0]),
                self.content_offset,
                cited,
            )
            for child in cited.children:
                child["translatable"] = False  # a citation only: no message to translate
            changed += cited.children
        row += changed
        return row


class CompatRuns(SphinxDirective):
    """The measured releases, what ran on each, and the versions installed with it."""

    def run(self) -> list[nodes.Node]:
        data = _results(self.env)
        titles = (
            "transformers",
            _("What ran"),
            "tokenizers",
            "huggingface_hub",
            "torch",
            "Python",
            _("Tests"),
        )
        scopes = {
            "claims and library tests": _("claims, library tests and doctests"),
            "claims": _("claims (bisection)"),
        }
        target = nodes.target("", "", ids=[RUNS_LABEL], names=[RUNS_LABEL])
        self.state.document.note_explicit_target(target)
        table = nodes.table(classes=["lmnotes-compat-runs", MARK])
        group = nodes.tgroup(cols=len(titles))
        table += group
        for _title in titles:
            group += nodes.colspec(colwidth=10)
        head = nodes.thead()
        group += head
        row = nodes.row()
        for title in titles:
            row += nodes.entry("", nodes.paragraph("", str(title)))
        head += row
        body = nodes.tbody()
        group += body
        for run in data["runs"]:
            row = nodes.row()
            cells = (
                run["transformers"],
                str(scopes.get(run.get("scope", ""), run.get("scope", ""))),
                run["tokenizers"],
                run["huggingface_hub"],
                run["torch"],
                run["python"],
                str(run["counts"]["tests"]),
            )
            for text in cells:
                row += nodes.entry("", nodes.paragraph("", text))
            body += row
        return [target, table]


def check_typed_releases(app: Sphinx, doctree: nodes.document) -> None:
    """Warn where a page's prose types a transformers release instead of using a role."""
    docname = app.env.docname
    if not CHECKED.match(docname):
        return
    for text in doctree.findall(nodes.Text):
        match = RELEASE.search(text.astext())
        if match is None:
            continue
        node = text.parent
        inside = False
        while node is not None:
            if isinstance(node, NOT_PROSE) or MARK in node.get("classes", []):
                inside = True
                break
            node = node.parent
        if inside:
            continue
        logger.warning(
            "release %s typed in the prose: state it with {since}, {until} or {measured} "
            "(docs/_ext/lmnotes_compat.py), which read the measured results",
            match.group(0),
            location=text.parent,
        )


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("lmnotes_compat_results", "", "env", types=frozenset({str}))
    app.add_role("since", ReleaseRole("holds"))
    app.add_role("until", ReleaseRole("differs"))
    app.add_role("measured", MeasuredRole())
    app.add_role("release", NamedReleaseRole())
    app.add_role("holds-on", RangesRole("holds"))
    app.add_role("differs-on", RangesRole("differs"))
    app.add_node(
        compat_strip,
        html=(visit_compat_strip, None),
        text=(skip, None),
        latex=(skip, None),
        man=(skip, None),
        texinfo=(skip, None),
    )
    app.add_directive("compat-claims", CompatClaims)
    app.add_directive("compat-runs", CompatRuns)
    app.connect("doctree-read", check_typed_releases)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
