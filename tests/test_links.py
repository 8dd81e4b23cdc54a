"""Links: the bibliography says who wrote each source and when, and gives a web source a dated
archived copy only where it was verified (and says so otherwise); the project's linkcheck
configuration tells good links from broken ones (offline, against a server on 127.0.0.1),
and the built site has no broken internal link or anchor in either language.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import linkcheck_settings
import pytest
from bs4 import BeautifulSoup
from conftest import DOCS, LANGUAGES
from pybtex.database import parse_file

BIB = parse_file(str(DOCS / "references.bib"), "bibtex")
#: A dated Wayback Machine snapshot: the only form an archived copy takes.
SNAPSHOT = re.compile(r"https://web\.archive\.org/web/\d{14}/https?://\S+")
NO_ARCHIVE = "No archived copy was verified."
#: What an entry's ``datekind`` may say of its ``date`` (docs/_ext/lmnotes_bibliography.DATE_KINDS).
DATE_KINDS = {"published", "released", "merged", "opened"}
#: Hosts whose identifiers are permanent: a paper there needs no archived copy.
PERMANENT = ("https://arxiv.org/abs/", "https://doi.org/", "https://aclanthology.org/")
#: Keys the pages rely on (facts.md): papers, pull requests, issues, sources of the notes.
REQUIRED_KEYS = {
    "vaswani2017attention",
    "devlin2019bert",
    "radford2019language",
    "liu2019roberta",
    "nijkamp2023codegen",
    "kundu2024packing",
    "rush2018annotated",
    "dao2023flashattention2",
    "wolf2020transformers",
    *(f"hf_transformers_issue{n}" for n in (26357, 28573, 23530, 3021, 18478)),
    *(f"hf_transformers_pr{n}" for n in (34191, 37866, 35251, 36497, 39485, 31629, 7552)),
    "hf_trl_issue976",
    "hf_trl_pr992",
    "hf_trl_pr550",
    "hf_trl_issue4497",
    "hf_blog_issue1302",
    "hf_tokenizers_issue1794",
    "hf_docs_datacollatorforlm",
    "hf_transformers_src_data_collator",
    "hf_transformers_src_masking_utils",
    "hf_transformers_src_loss_utils",
    "medium_mlm_clm",
    "youtube_agRyKPhsqJ4",
    "datascience_se126187",
}
#: The sources that the learner's notes cite (seed/notes-mlm-clm.md, "Sources").
NOTES_SOURCES = {
    "medium_mlm_clm": "https://medium.com/data-science/understanding-masked-language-models-mlm-and-"
    "causal-language-models-clm-in-nlp-194c15f56a5",
    "youtube_agRyKPhsqJ4": "https://www.youtube.com/watch?v=agRyKPhsqJ4",
    "datascience_se126187": "https://datascience.stackexchange.com/questions/126187/"
    "cross-attention-mask-in-transformers",
    "vaswani2017attention": "https://arxiv.org/abs/1706.03762",
}


def _archived(entry) -> list[str]:
    return re.findall(r"\\url\{(https://web\.archive\.org/[^}]+)\}", entry.fields.get("note", ""))


def _is_web_page(url: str) -> bool:
    return not url.startswith(PERMANENT)


class TestBibliography:
    def test_required_keys_are_present(self) -> None:
        """Every paper, pull request, issue and page that the pages rely on has its entry."""
        assert REQUIRED_KEYS - set(BIB.entries) == set()

    def test_the_notes_sources_are_cited_at_their_address(self) -> None:
        """The four sources of the original notes are entries with the URL the notes give."""
        assert {key: BIB.entries[key].fields["url"] for key in NOTES_SOURCES} == NOTES_SOURCES

    @pytest.mark.parametrize("key", sorted(BIB.entries))
    def test_entry_has_title_year_and_url(self, key: str) -> None:
        """Each entry has a title, a year (or n.d.) and an http(s) URL."""
        fields = BIB.entries[key].fields
        assert fields.get("title") and fields.get("year")
        assert re.fullmatch(r"\d{4}|n\.d\.", fields["year"])
        assert fields.get("url", "").startswith("https://")

    @pytest.mark.parametrize("key", sorted(BIB.entries))
    def test_web_pages_have_a_verified_archived_copy_or_say_none_was(self, key: str) -> None:
        """A web page (not an arXiv or DOI paper) has an archived copy only as a dated snapshot
        of its own URL; without one, its note says plainly that none was verified. A paper
        has neither."""
        entry = BIB.entries[key]
        url, note = entry.fields["url"], entry.fields.get("note", "")
        archived = _archived(entry)
        assert "web.archive.org" not in note.replace("".join(archived), ""), key
        for copy in archived:
            assert SNAPSHOT.fullmatch(copy) and copy.endswith("/" + url), copy
        if _is_web_page(url):
            assert bool(archived) != (NO_ARCHIVE in note), key
        else:
            assert not archived and NO_ARCHIVE not in note, key

    @pytest.mark.parametrize("key", sorted(BIB.entries))
    def test_sources_say_who_and_when(self, key: str) -> None:
        """Every source that is not a publication has its date (ISO 8601, in its year) and what that
        date is, unless its note says that its date was not checked; an author is a person,
        an organisation or a login, unless the note says who was not checked."""
        entry = BIB.entries[key]
        fields, note = entry.fields, entry.fields.get("note", "")
        if entry.type != "misc" or not _is_web_page(fields["url"]):  # a publication: its year
            return
        unchecked = ("not checked" in note) or ("could not be checked" in note)
        if "date" in fields:
            assert fields["datekind"] in DATE_KINDS, key
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields["date"]), key
            assert fields["date"].startswith(fields["year"]), key
        else:
            assert unchecked, f"{key}: no date, and the note does not say it was not checked"
        # An author that is a repository ("huggingface/transformers") is not whoever opened it.
        if "/" in str(entry.persons.get("author", "")) or "author" not in entry.persons:
            assert unchecked, f"{key}: no author, and the note does not say it was not checked"
        if fields.get("datekind") == "opened" and "/pull/" in fields["url"]:
            assert "Its merge date was not found." in note, key

    @pytest.mark.parametrize("key", sorted(BIB.entries))
    def test_papers_have_a_permanent_identifier(self, key: str) -> None:
        """An article or conference paper carries a DOI or an arXiv id."""
        entry = BIB.entries[key]
        # The Annotated Transformer is cited by its page: its workshop DOI was not checked.
        if entry.type in {"article", "inproceedings"} and key != "rush2018annotated":
            assert entry.fields.get("doi") or entry.fields.get("eprint"), key

    def test_github_threads_are_issues_or_pulls_as_their_key_says(self) -> None:
        """A key ``..._issueN`` points to ``/issues/N``, ``..._prN`` to ``/pull/N`` (else GitHub
        redirects)."""
        for key, entry in BIB.entries.items():
            match = re.fullmatch(r"hf_(\w+?)_(issue|pr)(\d+)", key)
            if match:
                repo, kind, number = match.groups()
                path = "issues" if kind == "issue" else "pull"
                assert (
                    entry.fields["url"] == f"https://github.com/huggingface/{repo}/{path}/{number}"
                ), key


class TestLinkcheckSettings:
    def test_conf_uses_the_settings_module(self) -> None:
        """docs/conf.py ends up with exactly the linkcheck_* values of linkcheck_settings."""
        import runpy

        conf = runpy.run_path(str(DOCS / "conf.py"))
        from_conf = {k: v for k, v in conf.items() if k.startswith("linkcheck_")}
        from_module = {
            k: getattr(linkcheck_settings, k)
            for k in dir(linkcheck_settings)
            if k.startswith("linkcheck_")
        }
        assert from_conf == from_module

    def test_limits_are_set(self) -> None:
        """Timeout, retries, workers and the rate-limit ceiling are set, finite and modest."""
        s = linkcheck_settings
        assert 5 <= s.linkcheck_timeout <= 60
        assert 1 <= s.linkcheck_retries <= 5
        assert 1 <= s.linkcheck_workers <= 8
        assert 0 < s.linkcheck_rate_limit_timeout <= 300
        assert s.linkcheck_report_timeouts_as_broken and s.linkcheck_anchors

    def test_every_ignored_host_has_a_reason(self) -> None:
        """Each ignored pattern compiles and comes with a sentence saying why the host is not
        checked."""
        assert linkcheck_settings.linkcheck_ignore == list(linkcheck_settings.REFUSING_HOSTS)
        for pattern, reason in linkcheck_settings.REFUSING_HOSTS.items():
            re.compile(pattern)
            assert len(reason.split()) >= 8, pattern

    def test_archived_copies_are_checked(self) -> None:
        """No archived copy is on an ignored host: linkcheck checks every snapshot; and the
        Wayback Machine may only redirect a snapshot to another snapshot."""
        patterns = [re.compile(p) for p in linkcheck_settings.linkcheck_ignore]
        for key, entry in BIB.entries.items():
            assert not any(p.match(a) for p in patterns for a in _archived(entry)), key
        allowed = linkcheck_settings.linkcheck_allowed_redirects
        wayback = [k for k in allowed if "archive" in k]
        assert wayback == [r"https://web\.archive\.org/web/\d{14}/.*"]

    def test_local_and_main_sources_are_checked(self) -> None:
        """The ignore list spares 127.0.0.1, arXiv, GitHub, Hugging Face and the Wayback Machine."""
        patterns = [re.compile(p) for p in linkcheck_settings.linkcheck_ignore]
        for url in (
            "http://127.0.0.1:8000/x.html",
            "https://arxiv.org/abs/1706.03762",
            "https://github.com/huggingface/transformers/pull/37866",
            "https://huggingface.co/blog/packing-with-FA2",
            "https://web.archive.org/web/20250101000000/https://medium.com/x",
        ):
            assert not any(p.match(url) for p in patterns), url

    def test_request_headers_name_a_user_agent(self) -> None:
        """Each host entry in linkcheck_request_headers sets a User-Agent; keys are scheme://host or
        *."""
        for host, headers in linkcheck_settings.linkcheck_request_headers.items():
            assert host == "*" or re.fullmatch(r"https://[a-z0-9.-]+", host), host
            assert headers.get("User-Agent"), host


# -- Offline check of the linkcheck configuration ------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a directory; ``/busy.html`` answers 429 (Retry-After: 1) to its first request."""

    hits: dict[str, int]

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (signature of the base class)
        pass

    def _busy(self) -> bool:
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        if self.path == "/busy.html" and self.hits[self.path] == 1:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        return False

    def do_HEAD(self) -> None:  # noqa: N802
        if not self._busy():
            super().do_HEAD()

    def do_GET(self) -> None:  # noqa: N802
        if not self._busy():
            super().do_GET()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """A small site on 127.0.0.1 (a free port): good.html with the anchor ``present``, busy.html."""
    root = tmp_path / "www"
    root.mkdir()
    page = '<!DOCTYPE html><html><body><h1 id="present">Present</h1><p>Text.</p></body></html>'
    (root / "good.html").write_text(page, encoding="utf-8")
    (root / "busy.html").write_text(page, encoding="utf-8")
    hits: dict[str, int] = {}
    handler = functools.partial(type("Handler", (_Handler,), {"hits": hits}), directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def _linkcheck_project(srcdir: Path, links: dict[str, str]) -> None:
    """A one-page Sphinx project whose linkcheck_* settings are those of docs/conf.py."""
    srcdir.mkdir()
    (srcdir / "conf.py").write_text(
        "import runpy\n"
        f"_conf = runpy.run_path({str(DOCS / 'conf.py')!r})\n"
        "globals().update({k: v for k, v in _conf.items() if k.startswith('linkcheck_')})\n",
        encoding="utf-8",
    )
    items = "\n".join(f"* `{name} <{url}>`__" for name, url in links.items())
    (srcdir / "index.rst").write_text(f"Links\n=====\n\n{items}\n", encoding="utf-8")


class TestLinkcheckOffline:
    def test_good_and_broken_links_are_told_apart(self, tmp_path: Path, local_server) -> None:
        """Project settings: good link, good anchor and a 429 then 200 work; a 404, a missing anchor
        and a refused port are broken; the build fails; all within 60 s."""
        base, hits = local_server
        links = {
            "good": f"{base}/good.html",
            "anchor": f"{base}/good.html#present",
            "busy": f"{base}/busy.html",
            "missing": f"{base}/missing.html",
            "no-anchor": f"{base}/good.html#absent",
            "refused": f"http://127.0.0.1:{_free_port()}/page.html",
        }
        _linkcheck_project(tmp_path / "src", links)
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        start = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "sphinx",
                "-b",
                "linkcheck",
                "-E",
                str(tmp_path / "src"),
                str(tmp_path / "out"),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        elapsed = time.monotonic() - start
        lines = (tmp_path / "out" / "output.json").read_text(encoding="utf-8").splitlines()
        status = {json.loads(line)["uri"]: json.loads(line)["status"] for line in lines}
        assert {name: status.get(url) for name, url in links.items()} == {
            "good": "working",
            "anchor": "working",
            "busy": "working",
            "missing": "broken",
            "no-anchor": "broken",
            "refused": "broken",
        }, result.stdout[-3000:] + result.stderr[-3000:]
        assert hits["/busy.html"] >= 2, "the 429 answer was not retried"
        assert result.returncode == 1, "broken links must fail the build"
        assert elapsed < 60, f"linkcheck took {elapsed:.1f} s"


# -- Internal links and anchors of the built site --------------------------------------

_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
_ATTRIBUTES = (
    ("a", "href"),
    ("link", "href"),
    ("img", "src"),
    ("script", "src"),
    ("iframe", "src"),
    ("source", "src"),
)


@functools.cache
def _parsed(path: Path) -> BeautifulSoup:
    """A page's tree, parsed once (lxml: the site's biggest pages are 400 kB)."""
    return BeautifulSoup(path.read_bytes(), "lxml")


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    soup = _parsed(path)
    found = {tag["id"] for tag in soup.find_all(id=True)}
    found |= {tag["name"] for tag in soup.find_all("a", attrs={"name": True})}
    return frozenset(found)


def internal_link_problems(site: Path, language: str) -> tuple[int, list[str]]:
    """(number of internal links checked, broken ones) for every HTML page of one language."""
    checked, problems = 0, []
    for page in sorted((site / language).rglob("*.html")):
        if "_static" in page.relative_to(site).parts:
            continue
        soup = _parsed(page)
        for tag_name, attribute in _ATTRIBUTES:
            for tag in soup.find_all(tag_name, attrs={attribute: True}):
                link = tag[attribute].strip()
                if not link or _EXTERNAL.match(link) or link == "#":
                    continue
                path_part, _, fragment = link.partition("#")
                path_part = unquote(urlsplit(path_part).path)
                target = (page.parent / path_part).resolve() if path_part else page
                if path_part.endswith("/"):
                    target = target / "index.html"
                checked += 1
                where = f"{page.relative_to(site)}: {link}"
                if not target.is_file():
                    problems.append(f"{where} (no file)")
                elif (
                    fragment
                    and target.suffix == ".html"
                    and unquote(fragment) not in _ids(target)
                    # The batch explorer's presets (#config=...) are loaded by its script:
                    # tests/test_explorer_browser.py opens each one.
                    and not (
                        target.name == "batch-explorer.html" and fragment.startswith("config=")
                    )
                ):
                    problems.append(f"{where} (no anchor)")
    return checked, problems


@pytest.mark.site
class TestInternalLinks:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_no_broken_internal_link_or_anchor(self, site: Path, language: str) -> None:
        """Every relative href/src of every page resolves to a file, and every #anchor to an id in
        it."""
        checked, problems = internal_link_problems(site, language)
        assert checked > 0
        assert problems == []


class TestInternalLinkChecker:
    def test_checker_catches_a_broken_link_and_anchor(self, tmp_path: Path) -> None:
        """The checker itself reports a missing file and a missing anchor, and accepts good ones."""
        pages = tmp_path / "en"
        pages.mkdir()
        (pages / "a.html").write_text(
            '<p id="top"><a href="b.html#here">ok</a> <a href="b.html#gone">anchor</a>'
            ' <a href="c.html">file</a> <a href="#top">self</a> <a href="https://x.org">ext</a></p>',
            encoding="utf-8",
        )
        (pages / "b.html").write_text('<h1 id="here">B</h1>', encoding="utf-8")
        checked, problems = internal_link_problems(tmp_path, "en")
        assert checked == 4
        assert problems == ["en/a.html: b.html#gone (no anchor)", "en/a.html: c.html (no file)"]
