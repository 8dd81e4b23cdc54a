"""Sessions for lmnotes: test the library, build and test the bilingual site, check links.

``nox -l`` lists them.  ``nox -s tests`` is the fast loop (library tests and docstring
examples, no site build); ``nox -s lint tests site`` is what CI runs.  Arguments after
``--`` go straight to the underlying tool (``nox -s tests -- -k mask``).

The sessions that need torch share one environment, ``.nox/lmnotes`` (``LMNOTES_NOX_ENV``
moves it), so a fresh machine installs torch once; it is reinstalled only when
pyproject.toml changes.  ``lint`` and ``compat`` have environments of their own.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import time
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "tests", "site"]

ROOT = Path(__file__).parent
DOCS = ROOT / "docs"
BUILD = DOCS / "_build"
HTML = BUILD / "html"
LANGUAGES = ("en", "fr")
PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHON = "3.11"
#: The environment shared by every session that needs torch and the docs stack.
ENV = Path(os.environ.get("LMNOTES_NOX_ENV", ROOT / ".nox" / "lmnotes")).resolve()
#: Dependency groups of the shared environment (asset-files go in with --no-deps).
SHARED_GROUPS = ("torch", "measured", "docs", "assets", "tests", "preview")
STRICT = ("-E", "-n", "-W", "--keep-going")
#: One build date for every build of a nox run (the date a page is cited at), even one that
#: goes past midnight: ``SOURCE_DATE_EPOCH``, as reproducible builds set it, or now.
SOURCE_DATE_EPOCH = os.environ.get("SOURCE_DATE_EPOCH") or str(int(time.time()))


def _groups(*names: str) -> list[str]:
    return [req for name in names for req in nox.project.dependency_groups(PYPROJECT, name)]


def _shared_env(session: nox.Session, *extra_groups: str) -> dict[str, str]:
    """Create or update ``.nox/lmnotes``; return the variables that run commands inside it.

    Installs run with ``session.run_install``, so ``--install-only`` prepares the
    environment and stops.  A stamp of pyproject.toml and the groups skips pip when
    nothing changed (the fast loop); ``--reinstall`` (``-R``) forces it.
    """
    groups = (*SHARED_GROUPS, *extra_groups)
    python = ENV / "bin" / "python"
    if not python.exists():
        interpreter = shutil.which(f"python{PYTHON}") or sys.executable
        session.run_install(interpreter, "-m", "venv", str(ENV), external=True)
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + " ".join(groups).encode())
    stamp = ENV / f".lmnotes-installed-{key.hexdigest()[:16]}"
    if not stamp.exists() or {"-R", "--reinstall"} & set(sys.argv):
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        session.run_install(*pip, "-e", str(ROOT), *_groups(*groups), external=True)
        session.run_install(*pip, "--no-deps", *_groups("asset-files"), external=True)
        for old in ENV.glob(".lmnotes-installed-*"):
            old.unlink()
        stamp.touch()
    return {
        "PATH": f"{ENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(ENV),
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
    }


def _run(
    session: nox.Session,
    env: dict[str, str],
    tool: str,
    *args: str,
    extra_env: dict[str, str] | None = None,
    **kwargs,
) -> None:
    """Run ``tool`` from the shared environment (``extra_env`` added to its variables)."""
    session.run(
        str(ENV / "bin" / tool), *args, env={**env, **(extra_env or {})}, external=True, **kwargs
    )


def _sphinx(
    session: nox.Session,
    env: dict[str, str],
    builder: str,
    outdir: Path,
    *args: str,
    language: str = "en",
    strict: bool | None = None,
) -> None:
    """Run sphinx-build for one builder and language; strict (-E -n -W --keep-going) under CI."""
    strict = bool(os.environ.get("CI")) if strict is None else strict
    _run(
        session,
        env,
        "sphinx-build",
        "-b",
        builder,
        "-D",
        f"language={language}",
        *(STRICT if strict else ("-n",)),
        *args,
        str(DOCS),
        str(outdir),
    )


def _build_site(
    session: nox.Session, env: dict[str, str], *args: str, strict: bool | None = None
) -> None:
    """Build every language into docs/_build/html/<lang>/, then the language-picking root page.

    The languages build at once (docs/_tools/build.py): French reads while English executes,
    and executes no cell.
    """
    strict = bool(os.environ.get("CI")) if strict is None else strict
    _run(
        session,
        env,
        "python",
        str(DOCS / "_tools" / "build.py"),
        str(DOCS),
        str(HTML),
        "--languages",
        ",".join(LANGUAGES),
        *(STRICT if strict else ("-n",)),
        *args,
    )
    if not all((HTML / language).is_dir() for language in LANGUAGES):
        return  # --install-only: nothing was built
    shutil.copyfile(DOCS / "_root" / "index.html", HTML / "index.html")
    session.log(f"Site: {HTML / 'index.html'}")


@nox.session(venv_backend="none")
def docs(session: nox.Session) -> None:
    """Build the site in English and French into docs/_build/html/{en,fr}/."""
    env = _shared_env(session)
    _build_site(session, env, *session.posargs)


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """Run the library tests and the docstring examples (the fast loop: no site build)."""
    env = _shared_env(session)
    _run(
        session,
        env,
        "pytest",
        "tests",
        "--doctest-modules",
        "lmnotes",
        "-m",
        "not site",
        "-n",
        "2",
        *session.posargs,
    )


@nox.session(venv_backend="none")
def site(session: nox.Session) -> None:
    """Build the site strictly in both languages, then run the page doctests and the site tests."""
    env = _shared_env(session)
    # axe-core for the accessibility tests, pinned by tests/package-lock.json (no download at
    # test time). Without npm the accessibility tests skip with the command to run, or fail
    # under CI (.ci/run installs npm when none is on PATH).
    if shutil.which("npm"):
        session.run_install(
            "npm", "ci", "--prefix", "tests", "--no-audit", "--no-fund", external=True
        )
    elif os.environ.get("CI"):
        session.error("npm not found: install Node.js with its npm (Debian: apt-get install npm)")
    else:
        session.warn("npm not found: the accessibility tests will skip (no axe-core)")
    _build_site(session, env, strict=True)
    _sphinx(session, env, "doctest", BUILD / "doctest", strict=True)
    _run(
        session,
        env,
        "pytest",
        "tests",
        "-m",
        "site and not screenshots",
        # Both cores: each test's work is one process (a build, a kernel, a browser); the
        # workers share one browser pass over the site (tests/conftest.py, site_visits).
        "-n",
        "2",
        "--dist",
        "worksteal",
        "--durations=15",
        *session.posargs,
        extra_env={"LMNOTES_SITE": str(HTML), "LMNOTES_NOX_ENV": str(ENV)},
    )


@nox.session(venv_backend="none", default=False)
def screenshots(session: nox.Session) -> None:
    """Build the site, then screenshot every page (both languages, themes, 1200 and 375 px)."""
    env = _shared_env(session)
    _build_site(session, env)
    _run(
        session,
        env,
        "pytest",
        "tests",
        "-m",
        "screenshots",
        *session.posargs,
        extra_env={"LMNOTES_SITE": str(HTML)},
    )
    session.log(f"Screenshots: {ROOT / 'test-artifacts' / 'screenshots'}")


@nox.session(venv_backend="none")
def doctests(session: nox.Session) -> None:
    """Run the docstring examples and the pages' {doctest} blocks only."""
    env = _shared_env(session)
    _run(
        session,
        env,
        "pytest",
        "--doctest-modules",
        "lmnotes",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )
    _sphinx(session, env, "doctest", BUILD / "doctest")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Run ruff on the whole tree: lint rules and the format check."""
    session.install(*_groups("lint"))
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")


@nox.session(venv_backend="none", default=False)
def linkcheck(session: nox.Session) -> None:
    """Check external links in both languages (network); ``-- internal``: links and anchors."""
    env = _shared_env(session)
    if session.posargs[:1] == ["internal"]:
        # Offline: build the site, then resolve every relative link and #anchor of every page.
        _build_site(session, env)
        _run(
            session,
            env,
            "pytest",
            "tests/test_links.py",
            "-m",
            "site",
            *session.posargs[1:],
            extra_env={"LMNOTES_SITE": str(HTML)},
        )
        return
    # Timeouts, retries, rate limits and ignored hosts: docs/_ext/linkcheck_settings.py.
    for language in LANGUAGES:
        _sphinx(
            session,
            env,
            "linkcheck",
            BUILD / "linkcheck" / language,
            *session.posargs,
            language=language,
        )


@nox.session(venv_backend="none")
def gettext(session: nox.Session) -> None:
    """Regenerate the .pot files, update docs/locales/fr/LC_MESSAGES/*.po (one catalog per page)."""
    env = _shared_env(session)
    _sphinx(session, env, "gettext", BUILD / "gettext", *session.posargs)
    # sphinx.po translates the theme's own strings (furo's "Skip to content", ...), which the
    # gettext builder does not extract: it is kept by hand, never updated from sphinx.pot.
    (BUILD / "gettext" / "sphinx.pot").unlink(missing_ok=True)
    _run(
        session,
        env,
        "sphinx-intl",
        "update",
        "-p",
        str(BUILD / "gettext"),
        "-d",
        str(DOCS / "locales"),
        "-l",
        "fr",
        "-w",
        "79",
    )
    _run(session, env, "python", str(DOCS / "_tools" / "catalogs.py"), "tidy")
    _run(
        session, env, "python", str(DOCS / "_tools" / "catalogs.py"), "status", success_codes=[0, 1]
    )


@nox.session(venv_backend="none", default=False)
def bench(session: nox.Session) -> None:
    """Time cold, warm and edited builds, doctests and the execution floor; print page weights."""
    env = _shared_env(session)
    _run(session, env, "python", "tests/benchmarks/bench_build.py", *session.posargs)


@nox.session(venv_backend="none", default=False)
def preview(session: nox.Session) -> None:
    """Serve a live preview of one language (default English; ``-- fr`` for French).

    docs/_tools/preview.py runs sphinx-autobuild with a kernel server that keeps torch,
    transformers and lmnotes imported, and runs each rebuild in a fork of a process that has
    imported Sphinx: a code edit shows in seconds.
    """
    env = _shared_env(session)
    language = session.posargs[0] if session.posargs else "en"
    _run(
        session,
        env,
        "python",
        str(DOCS / "_tools" / "preview.py"),
        str(DOCS),
        str(HTML / language),
        "-D",
        f"language={language}",
        "--watch",
        "lmnotes",
        "--re-ignore",
        r"_build|jupyter_execute|\.jupyter_cache",
        *session.posargs[1:],
    )


#: The supported range of transformers, as pyproject.toml declares it: ``nox -s compat`` runs
#: the last patch of every minor release from COMPAT_FIRST up to (not including) COMPAT_BELOW.
COMPAT_FIRST, COMPAT_BELOW = "4.57", "6"


def _compat_report():
    """docs/_tools/compat_report.py as a module (standard library only)."""
    spec = importlib.util.spec_from_file_location(
        "compat_report", DOCS / "_tools" / "compat_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _released(session: nox.Session) -> list[str]:
    """Every transformers release the package index offers (``pip index versions``)."""
    listing = session.run(
        "python", "-m", "pip", "index", "versions", "transformers", silent=True, external=True
    )
    for line in (listing or "").splitlines():
        if line.strip().startswith("Available versions:"):
            return [v.strip() for v in line.split(":", 1)[1].split(",")]
    session.error(f"pip index versions transformers printed no release list:\n{listing}")


def _freeze(session: nox.Session) -> dict[str, str]:
    """``{name: version}`` of the session's installed distributions (editables left out)."""
    listing = session.run(
        "python", "-m", "pip", "freeze", "--exclude-editable", silent=True, log=False
    )
    return dict(line.split("==", 1) for line in (listing or "").splitlines() if "==" in line)


@nox.session(python=PYTHON, default=False)
def compat(session: nox.Session) -> None:
    """Measure the claims on every transformers release of the supported range.

    ``nox -s compat`` runs tests/test_claims.py, the cheap tests of the lmnotes modules and their
    doctests on the last patch of every minor release from 4.57 on, then bisects into the
    releases between two runs where a claim's outcome changed (claims alone) until each
    boundary lies between adjacent releases. ``nox -s compat -- 5.19`` runs the last patch
    of 5.19 alone, ``-- 5.2.1`` that release, ``-- bisect`` only the bisection of the
    results already recorded; other arguments go to pytest and write no results
    (``-- 5.19 -k seed``). One environment, reused; transformers is swapped in it
    (torch stays 2.13.0). Results: docs/reference/compatibility.json.
    """
    report = _compat_report()
    session.install(*_groups("torch"))
    session.install("-e", ".", *_groups("assets", "tests"))
    session.install("--no-deps", *_groups("asset-files"))
    available = [v for v in _released(session) if report.is_final(v)]
    # The base environment: the project without transformers or what only it requires.
    tool = str(DOCS / "_tools" / "compat_report.py")
    leftovers = (session.run("python", tool, "orphans", silent=True) or "").split()
    session.run("python", "-m", "pip", "uninstall", "-q", "-y", "transformers", *leftovers)
    base = _freeze(session)
    bisect_only = "bisect" in session.posargs
    wanted = [a for a in session.posargs if a[:1].isdigit()]
    pytest_args = [a for a in session.posargs if not a[:1].isdigit() and a != "bisect"]
    minors = report.last_patches(available, COMPAT_FIRST, COMPAT_BELOW)
    plan = []
    for spec in wanted:
        if spec in available:
            plan.append(spec)
            continue
        match = report.last_patches(available, spec, f"{spec}.9999")
        if len(match) != 1 or spec.count(".") != 1:
            session.error(f"compat: {spec!r} is neither a release nor a minor release on the index")
        plan.append(match[0])
    plan = [] if bisect_only else plan or minors
    in_range = [
        v
        for v in available
        if report.last_patches([v], COMPAT_FIRST, COMPAT_BELOW) and not pytest_args
    ]
    if in_range:
        session.run("python", tool, "index", *in_range)
    # Library tests (those not marked slow) of every lmnotes module whose behaviour goes
    # through transformers, with the doctests: assets (downloads, dequantization), display
    # (matplotlib) and machine (the CPU) do not depend on the release and run in
    # ``nox -s tests``.
    skipped = {"assets", "display", "machine"}
    modules = sorted(path.stem for path in (ROOT / "lmnotes").glob("[!_]*.py"))
    library = [
        f"tests/test_{name}.py"
        for name in [*modules, "package"]
        if name not in skipped and (ROOT / "tests" / f"test_{name}.py").exists()
    ]
    doctests = ["--doctest-modules", *(f"lmnotes/{m}.py" for m in modules if m not in skipped)]
    started = time.monotonic()
    failed = []

    def measure(release: str, scope: str, label: str) -> None:
        session.log(f"compat {label}: transformers {release} ({scope})")
        # Back to the base environment (nothing a previous release brought stays), then
        # this release with what it requires.
        now = _freeze(session)
        extra = sorted(set(now) - set(base))
        if extra:
            session.run("python", "-m", "pip", "uninstall", "-q", "-y", *extra)
        changed = [f"{n}=={v}" for n, v in base.items() if now.get(n) != v]
        if changed:
            session.install("--no-deps", *changed)
        session.install(f"transformers=={release}")
        junit = Path(session.create_tmp()) / f"junit-{release}.xml"
        cache = Path(session.create_tmp()) / "lmnotes-cache"
        shutil.rmtree(cache / "models", ignore_errors=True)
        tests = ["tests/test_claims.py"]
        if scope == report.SCOPES[0]:
            tests += [*library, *doctests]
        session.run(
            "pytest",
            *tests,
            "-q",
            "-m",
            # Every claim; of the library tests, the cheap ones (the slow ones load SmolLM2
            # again or build the site: they run in nox -s tests and nox -s site).
            "not site and (claim or not slow)",
            "-p",
            "no:cacheprovider",
            "--measure-claims",
            f"--junitxml={junit}",
            *pytest_args,
            # Each release dequantizes SmolLM2 with its own GGUF converter: into a cache of
            # the session's own, emptied after each release (538 MB a model).
            env={"HF_HUB_OFFLINE": "1", "LMNOTES_CACHE": str(cache)},
            success_codes=[0, 1],
        )
        if not pytest_args and junit.exists():
            # Writes this release's entry and the recomputed boundaries; exits 1 if a test failed.
            session.run(
                "python",
                str(DOCS / "_tools" / "compat_report.py"),
                "update",
                str(junit),
                "--scope",
                scope,
                success_codes=[0, 1],
            )
            runs = json.loads((DOCS / "reference" / "compatibility.json").read_text("utf-8"))
            if any(r["transformers"] == release and r["failed"] for r in runs["runs"]):
                failed.append(release)
        shutil.rmtree(cache / "models", ignore_errors=True)
        elapsed = time.monotonic() - started
        session.log(f"compat {label}: transformers {release} done; {elapsed / 60:.1f} min elapsed")

    for number, release in enumerate(plan, 1):
        measure(release, report.SCOPES[0], f"[{number}/{len(plan)}]")
    if (bisect_only or not wanted) and not pytest_args:
        rounds = 0
        while probes := report.next_probes(
            json.loads((DOCS / "reference" / "compatibility.json").read_text("utf-8")), available
        ):
            rounds += 1
            for number, release in enumerate(probes, 1):
                measure(release, report.SCOPES[1], f"bisect {rounds}.{number}/{len(probes)}")
    session.log(f"compat: {time.monotonic() - started:.0f} s in all")
    if failed:
        session.error(f"compat: tests failed on transformers {', '.join(failed)}")
