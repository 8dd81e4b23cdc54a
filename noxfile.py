"""Sessions for lmnotes: build the bilingual site, run the tests, check links.

``nox -l`` lists them; ``nox -s tests`` is what CI runs.  Arguments after
``--`` go straight to the underlying tool (``nox -s tests -- -k mask``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests"]

ROOT = Path(__file__).parent
DOCS = ROOT / "docs"
BUILD = DOCS / "_build"
HTML = BUILD / "html"
LANGUAGES = ("en", "fr")
PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHON = "3.11"
# The CPU wheel on these machines; an unpinned torch pulls a multi-GB CUDA build.
TORCH = "torch==2.13.0"


def _install(session: nox.Session, *groups: str) -> None:
    """Install lmnotes with its pinned torch, the given dependency groups and the asset files."""
    requirements = [req for group in groups for req in nox.project.dependency_groups(PYPROJECT, group)]
    session.install(TORCH, "-e", ".", *requirements)
    if "assets" in groups:
        session.install("--no-deps", *nox.project.dependency_groups(PYPROJECT, "asset-files"))


def _sphinx(session: nox.Session, builder: str, outdir: Path, *args: str, language: str = "en") -> None:
    """Run sphinx-build for one builder and language; strict (-E -n -W --keep-going) when CI is set."""
    strict = ["-E", "-n", "-W", "--keep-going"] if os.environ.get("CI") else ["-n"]
    session.run(
        "sphinx-build", "-b", builder, "-D", f"language={language}", *strict, *args,
        str(DOCS), str(outdir), env={"HF_HUB_DISABLE_PROGRESS_BARS": "1"},
    )


def _build_site(session: nox.Session, *args: str) -> None:
    """Build every language into docs/_build/html/<lang>/ and write the language-picking root page."""
    for language in LANGUAGES:
        _sphinx(session, "html", HTML / language, *args, language=language)
    shutil.copyfile(DOCS / "_root" / "index.html", HTML / "index.html")
    session.log(f"Site: {HTML / 'index.html'}")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the site in English and French into docs/_build/html/{en,fr}/."""
    _install(session, "docs", "assets")
    _build_site(session, *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Build the site, then run pytest, the docstring and page doctests, and the translation checks."""
    _install(session, "docs", "assets", "tests")
    # axe-core for the accessibility tests, pinned by tests/package-lock.json (no download at test time).
    session.run_install("npm", "ci", "--prefix", "tests", "--no-audit", "--no-fund", external=True)
    _build_site(session)
    _sphinx(session, "doctest", BUILD / "doctest")
    session.run(
        "pytest", "tests", "--doctest-modules", "lmnotes", *session.posargs,
        env={"LMNOTES_SITE": str(HTML)},
    )


@nox.session(python=PYTHON)
def doctests(session: nox.Session) -> None:
    """Run the docstring examples and the pages' {doctest} blocks only (the fast loop)."""
    _install(session, "docs", "assets", "tests")
    session.run("pytest", "--doctest-modules", "lmnotes", "-p", "no:cacheprovider", *session.posargs)
    _sphinx(session, "doctest", BUILD / "doctest")


@nox.session(python=PYTHON, default=False)
def linkcheck(session: nox.Session) -> None:
    """Check external links of both languages (network); ``-- internal``: internal links and anchors."""
    if session.posargs[:1] == ["internal"]:
        # Offline: build the site, then resolve every relative link and #anchor of every page.
        _install(session, "docs", "assets", "tests")
        _build_site(session)
        session.run("pytest", "tests/test_links.py", "-m", "site", *session.posargs[1:],
                    env={"LMNOTES_SITE": str(HTML)})
        return
    # Timeouts, retries, rate limits and ignored hosts: docs/_ext/linkcheck_settings.py.
    _install(session, "docs", "assets")
    for language in LANGUAGES:
        _sphinx(session, "linkcheck", BUILD / "linkcheck" / language, *session.posargs, language=language)


@nox.session(python=PYTHON)
def gettext(session: nox.Session) -> None:
    """Regenerate the .pot files and update docs/locales/fr/LC_MESSAGES/*.po (one catalog per page)."""
    _install(session, "docs", "assets")
    _sphinx(session, "gettext", BUILD / "gettext", *session.posargs)
    session.run(
        "sphinx-intl", "update", "-p", str(BUILD / "gettext"), "-d", str(DOCS / "locales"),
        "-l", "fr", "-w", "79",
    )
    session.run("python", str(DOCS / "_tools" / "catalogs.py"), "tidy")
    session.run("python", str(DOCS / "_tools" / "catalogs.py"), "status", success_codes=[0, 1])


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Time cold, warm and edited builds, the doctests and the execution floor; print page weights."""
    _install(session, "docs", "assets", "tests")
    session.run("python", "tests/benchmarks/bench_build.py", *session.posargs)


@nox.session(python=PYTHON, default=False)
def preview(session: nox.Session) -> None:
    """Serve a live preview of one language (default English; ``-- fr`` for French)."""
    _install(session, "docs", "assets", "preview")
    language = session.posargs[0] if session.posargs else "en"
    session.run(
        "sphinx-autobuild", "-D", f"language={language}", "--watch", "lmnotes",
        "--re-ignore", r"_build|jupyter_execute|\.jupyter_cache",
        str(DOCS), str(HTML / language), *session.posargs[1:],
    )


#: transformers releases ``nox -s compat`` checks the library against: the last 4.x, the newest 5.x.
COMPAT_TRANSFORMERS = ("4.57.6", "5.24.0")


@nox.session(python=PYTHON, default=False)
@nox.parametrize("transformers", COMPAT_TRANSFORMERS)
def compat(session: nox.Session, transformers: str) -> None:
    """Run the library tests, doctests and claims on one transformers release; record results."""
    # The pin goes in first: installing lmnotes keeps it (it satisfies transformers>=4.57,<6).
    session.install(TORCH, f"transformers=={transformers}")
    _install(session, "assets", "tests")
    # tests/test_<module>.py of every lmnotes module, the package's API and the claims; the
    # site, browser, link and translation tests need the docs stack and are left out.
    modules = sorted(path.stem for path in (ROOT / "lmnotes").glob("[!_]*.py"))
    selected = [f"tests/test_{name}.py" for name in [*modules, "package", "claims"]
                if (ROOT / "tests" / f"test_{name}.py").exists()]
    junit = Path(session.create_tmp()) / "junit.xml"
    partial = bool(session.posargs)  # e.g. ``-- -k mask``: no results written
    session.run(
        "pytest", *selected, "--doctest-modules", "lmnotes", "-p", "no:cacheprovider",
        f"--junitxml={junit}", *session.posargs,
        env={"HF_HUB_OFFLINE": "1"}, success_codes=[0] if partial else [0, 1],
    )
    if not partial:
        # This release's entry in docs/reference/compatibility.json (versions, run time,
        # outcome of every claim) and the tables of docs/reference/compatibility.md; exits 1
        # if a test failed.
        session.run("python", str(DOCS / "_tools" / "compat_report.py"), "update", str(junit),
                    "--keep", *COMPAT_TRANSFORMERS)
