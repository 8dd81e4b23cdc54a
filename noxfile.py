"""Sessions for lmnotes: test the library, build and test the bilingual site, check links.

``nox -l`` lists them.  ``nox -s tests`` is the fast loop (library tests and docstring
examples, no site build); ``nox -s lint tests site`` is what CI runs.  Arguments after
``--`` go straight to the underlying tool (``nox -s tests -- -k mask``).

The sessions that need torch share one environment, ``.nox/lmnotes`` (``LMNOTES_NOX_ENV``
moves it), so a fresh machine installs torch once; it is reinstalled only when
pyproject.toml changes.  ``lint`` and ``compat`` have environments of their own.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
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


def _execute(session: nox.Session, env: dict[str, str]) -> None:
    """The execute step: the pages that miss the execution cache, in one kernel
    (docs/_tools/execute.py), so that the Sphinx build after it executes nothing."""
    _run(session, env, "python", str(DOCS / "_tools" / "execute.py"), str(DOCS))


def _build_site(
    session: nox.Session, env: dict[str, str], *args: str, strict: bool | None = None
) -> None:
    """Build every language into docs/_build/html/<lang>/, then the language-picking root page.

    docs/_tools/build.py runs the execute step (the pages that miss the execution cache, in
    one kernel) and, at once, one plain sphinx-build per language, which only read the cache.
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
    _execute(session, env)
    _sphinx(session, env, "doctest", BUILD / "doctest")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Run ruff on the whole tree (lint rules and the format check), and Biome on the site's
    scripts (docs/_static/*.js) and the explorer's Node tests (tests/js/*.mjs; its rules in
    tests/biome.jsonc, its version pinned by tests/package-lock.json)."""
    session.install(*_groups("lint"))
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")
    if shutil.which("npm"):
        session.run_install(
            "npm", "ci", "--prefix", "tests", "--no-audit", "--no-fund", external=True
        )
        # The site's scripts and the Node tests of the explorer (tests/js/*.mjs), linted from
        # tests/: run from the root, Biome takes tests/biome.jsonc for a second root
        # configuration of the files under tests/ and refuses to lint them.
        scripts = sorted(
            os.path.relpath(path, ROOT / "tests")
            for path in [*(DOCS / "_static").glob("*.js"), *(ROOT / "tests" / "js").glob("*.mjs")]
        )
        with session.chdir(ROOT / "tests"):
            session.run(
                str(ROOT / "tests" / "node_modules" / ".bin" / "biome"),
                "lint",
                "--config-path",
                "biome.jsonc",
                "--error-on-warnings",
                *scripts,
                external=True,
            )
    elif os.environ.get("CI"):
        session.error("npm not found: install Node.js with its npm (Debian: apt-get install npm)")
    else:
        session.warn("npm not found: the site's scripts are not linted (Biome comes from npm)")


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
    _execute(session, env)
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
    _execute(session, env)
    _sphinx(session, env, "gettext", BUILD / "gettext", *session.posargs)
    # sphinx.po translates the theme's own strings (furo's "Skip to content", ...), which the
    # gettext builder does not extract: it is kept by hand, never updated from sphinx.pot.
    (BUILD / "gettext" / "sphinx.pot").unlink(missing_ok=True)
    # The words the site's extensions write ("Figure 3", the bibliography's notes), marked
    # with _() or N_(): the catalog lmnotes.po, read through Sphinx's catalogs for extensions.
    _run(
        session,
        env,
        "python",
        str(DOCS / "_tools" / "catalogs.py"),
        "extract",
        str(BUILD / "gettext" / "lmnotes.pot"),
    )
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

    docs/_tools/preview.py runs sphinx-autobuild with the execute step as its pre-build
    command, in one kernel kept for the session (torch, transformers and lmnotes imported):
    a code edit shows in seconds.
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
    """docs/_tools/compat_report.py (standard library only), imported from its folder."""
    sys.path.insert(0, str(DOCS / "_tools"))
    import compat_report

    return compat_report


def _released(session: nox.Session) -> list[str]:
    """Every transformers release the package index offers (``pip index versions``)."""
    listing = session.run(
        "python", "-m", "pip", "index", "versions", "transformers", silent=True, external=True
    )
    for line in (listing or "").splitlines():
        if line.strip().startswith("Available versions:"):
            return [v.strip() for v in line.split(":", 1)[1].split(",")]
    session.error(f"pip index versions transformers printed no release list:\n{listing}")


def _freeze(python: str | Path) -> dict[str, str]:
    """``{name: version}`` of the distributions installed for ``python`` (editables left out)."""
    listing = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("==", 1) for line in listing.splitlines() if "==" in line)


def _compat_jobs(session: nox.Session) -> tuple[int, list[str]]:
    """``-j N`` / ``--jobs N`` out of the arguments: how many releases run at once."""
    args, jobs = list(session.posargs), min(2, os.cpu_count() or 1)
    for flag in ("-j", "--jobs"):
        while flag in args:
            at = args.index(flag)
            value = args[at + 1] if at + 1 < len(args) else ""
            if not value.isdigit() or int(value) < 1:
                session.error(f"compat: {flag} takes how many releases run at once, got {value!r}")
            jobs = int(value)
            del args[at : at + 2]
    return jobs, args


def _compat_worker(session: nox.Session, number: int, base: dict[str, str]) -> Path:
    """The python of worker ``number``'s environment, beside the session's, created once.

    Worker 1 is the session's own environment; the others hold the same base (the project,
    torch and the test tools, without transformers), installed without resolving again.
    """
    if number == 1:
        return Path(session.bin) / "python"
    location = Path(session.virtualenv.location).with_name(f"compat-worker-{number}")
    python = location / "bin" / "python"
    if not python.exists():
        session.log(f"compat: creating the environment of worker {number} ({location})")
        session.run("python", "-m", "venv", str(location), silent=True)
    if _freeze(python) != base:
        pins = Path(session.create_tmp()) / "base.txt"
        pins.write_text("".join(f"{n}=={v}\n" for n, v in sorted(base.items())), "utf-8")
        session.run(
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "-r",
            str(pins),
            "-e",
            ".",
            external=True,
        )
    return python


@nox.session(python=PYTHON, default=False)
def compat(session: nox.Session) -> None:
    """Measure the claims on every transformers release of the supported range.

    ``nox -s compat`` runs tests/test_claims.py, the cheap tests of the lmnotes modules and their
    doctests on the last patch of every minor release from 4.57 on, then bisects into the
    releases between two runs where a claim's outcome changed (claims alone) until each
    boundary lies between adjacent releases. ``nox -s compat -- 5.19`` runs the last patch
    of 5.19 alone, ``-- 5.2.1`` that release, ``-- bisect`` only the bisection of the
    results already recorded, ``-- -j 1`` one release at a time (the default runs two at
    once on two cores or more, each in an environment of its own, reused, with torch on
    one thread each); other arguments go to pytest and write no results
    (``-- 5.19 -k seed``). In each environment transformers is swapped (torch stays
    2.13.0). A line per release tells what it ran and how long the matrix has run; each
    release's pytest output goes to ``.nox/compat/tmp/compat-<release>.log``.
    Results: docs/reference/compatibility.json.
    """
    report = _compat_report()
    jobs, args = _compat_jobs(session)
    session.install(*_groups("torch"))
    session.install("-e", ".", *_groups("assets", "tests"))
    session.install("--no-deps", *_groups("asset-files"))
    available = [v for v in _released(session) if report.is_final(v)]
    # The base environment: the project without transformers or what only it requires.
    tool = str(DOCS / "_tools" / "compat_report.py")
    leftovers = (session.run("python", tool, "orphans", silent=True) or "").split()
    # huggingface_hub and tokenizers go too, though the project requires them: each release
    # then brings the newest ones it allows, whichever release an environment held before.
    session.run(
        "python",
        "-m",
        "pip",
        "uninstall",
        "-q",
        "-y",
        "transformers",
        "huggingface_hub",
        "tokenizers",
        *leftovers,
    )
    own = Path(session.bin) / "python"
    base = _freeze(own)
    bisect_only = "bisect" in args
    wanted = [a for a in args if a[:1].isdigit()]
    pytest_args = [a for a in args if not a[:1].isdigit() and a != "bisect"]
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
    # Public modules and subpackages (lmnotes/assets/ is a package of modules).
    modules = sorted(
        path.stem
        for path in (ROOT / "lmnotes").glob("[!_]*")
        if path.suffix == ".py" or (path / "__init__.py").is_file()
    )
    library = [
        f"tests/test_{name}.py"
        for name in [*modules, "package"]
        if name not in skipped and (ROOT / "tests" / f"test_{name}.py").exists()
    ]
    doctests = [
        "--doctest-modules",
        *(
            f"lmnotes/{m}" if (ROOT / "lmnotes" / m).is_dir() else f"lmnotes/{m}.py"
            for m in modules
            if m not in skipped
        ),
    ]
    jobs = max(1, min(jobs, len(plan) or 1))
    pythons: queue.SimpleQueue[Path] = queue.SimpleQueue()
    for number in range(1, jobs + 1):
        pythons.put(_compat_worker(session, number, base))
    tmp = Path(session.create_tmp())
    results = DOCS / "reference" / "compatibility.json"
    writing = threading.Lock()
    started = time.monotonic()
    failed = []

    def run(python: Path, *command: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([str(python), *command], capture_output=True, text=True, **kwargs)

    def measure(release: str, scope: str, label: str) -> None:
        python = pythons.get()
        try:
            _measure(python, release, scope, label)
        finally:
            pythons.put(python)

    def _measure(python: Path, release: str, scope: str, label: str) -> None:
        began = time.monotonic()
        session.log(f"compat {label}: transformers {release} ({scope}) started")
        # Back to the base environment (nothing a previous release brought stays), then
        # this release with what it requires.
        now = _freeze(python)
        extra = sorted(set(now) - set(base))
        pip = ("-m", "pip", "--disable-pip-version-check")
        if extra:
            run(python, *pip, "uninstall", "-q", "-y", *extra, check=True)
        changed = [f"{n}=={v}" for n, v in base.items() if now.get(n) != v]
        if changed:
            run(python, *pip, "install", "-q", "--no-deps", *changed, check=True)
        installed = run(python, *pip, "install", "-q", f"transformers=={release}")
        if installed.returncode:
            failed.append(release)
            session.warn(
                f"compat {label}: transformers {release} did not install:\n"
                f"{installed.stdout}{installed.stderr}"
            )
            return
        junit = tmp / f"junit-{release}.xml"
        junit.unlink(missing_ok=True)
        # Each release dequantizes SmolLM2 with its own GGUF converter: into a cache of
        # the worker's own, emptied after each release (538 MB a model).
        cache = tmp / f"lmnotes-cache-{python.parent.parent.name}"
        shutil.rmtree(cache / "models", ignore_errors=True)
        tests = ["tests/test_claims.py"]
        if scope == report.SCOPES[0]:
            tests += [*library, *doctests]
        env = {
            **os.environ,
            "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
            "VIRTUAL_ENV": str(python.parent.parent),
            "HF_HUB_OFFLINE": "1",
            "LMNOTES_CACHE": str(cache),
        }
        if jobs > 1:  # two releases on two cores: one thread each, no oversubscription
            env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
        pytest = run(
            python,
            "-m",
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
            cwd=ROOT,
            env=env,
        )
        log = tmp / f"compat-{release}.log"
        log.write_text(pytest.stdout + pytest.stderr, "utf-8")
        shutil.rmtree(cache / "models", ignore_errors=True)
        lines = pytest.stdout.strip().splitlines() or ["(no output)"]
        if pytest_args:
            print(pytest.stdout + pytest.stderr, flush=True)
        if pytest.returncode not in (0, 1) or not junit.exists():
            failed.append(release)
            session.warn(
                f"compat {label}: pytest exited {pytest.returncode} on transformers "
                f"{release}; its output: {log}\n" + "\n".join(lines[-20:])
            )
            return
        summary = lines[-1].strip("= ")
        if not pytest_args:
            # This release's entry and the recomputed boundaries, written by the worker's
            # python (it records the versions installed there), one writer at a time.
            with writing:
                update = run(python, tool, "update", str(junit), "--scope", scope, cwd=ROOT)
            summary = update.stdout.strip().splitlines()[0] if update.stdout.strip() else summary
            if update.returncode:
                failed.append(release)
                session.warn(f"compat {label}: {update.stdout}{update.stderr}\nlog: {log}")
        elif pytest.returncode:
            failed.append(release)
        session.log(
            f"compat {label}: {summary}; {time.monotonic() - began:.0f} s, "
            f"{(time.monotonic() - started) / 60:.1f} min elapsed"
        )

    def measure_all(releases: list[str], scope: str, label: str) -> None:
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            futures = [
                pool.submit(measure, release, scope, f"[{label}{number}/{len(releases)}]")
                for number, release in enumerate(releases, 1)
            ]
            for future in futures:
                future.result()

    session.log(f"compat: {len(plan)} releases, {jobs} at once")
    measure_all(plan, report.SCOPES[0], "")
    if (bisect_only or not wanted) and not pytest_args:
        rounds = 0
        while probes := report.next_probes(
            json.loads(results.read_text("utf-8")), available, per_interval=jobs
        ):
            rounds += 1
            measure_all(probes, report.SCOPES[1], f"bisect {rounds}.")
    session.log(f"compat: {time.monotonic() - started:.0f} s in all")
    if failed:
        session.error(f"compat: tests failed on transformers {', '.join(sorted(set(failed)))}")
