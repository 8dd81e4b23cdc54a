"""The nox sessions a contributor runs work from a clean checkout, ``--install-only`` included.

A copy of the tracked files (what a fresh clone holds) runs the sessions against the shared
environment of the current run (``LMNOTES_NOX_ENV``, set by ``nox -s site``), so nothing is
installed twice, and the execution cache of the current build, so no page runs twice.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import DOCS, ROOT, tracked_copy

pytestmark = [pytest.mark.site, pytest.mark.slow]

ENV = Path(os.environ.get("LMNOTES_NOX_ENV", ROOT / ".nox" / "lmnotes"))
#: Every session but compat (which installs other transformers releases from the network).
SESSIONS = (
    "docs",
    "tests",
    "site",
    "doctests",
    "lint",
    "linkcheck",
    "gettext",
    "bench",
    "preview",
    "screenshots",
)


def _clone(dest: Path) -> Path:
    """The tracked and new (not ignored) files of the repository, copied as a clone would be."""
    if not (ENV / "bin" / "python").exists():
        pytest.skip(f"no shared environment at {ENV}: run through `nox -s site`")
    return tracked_copy(dest)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean copy for the sessions that leave it as it was (a clone, :func:`_clone`)."""
    return _clone(tmp_path_factory.mktemp("checkout") / "lmnotes")


@pytest.fixture
def own_checkout(tmp_path: Path) -> Path:
    """A clean copy of the test's own: the tests of this module may run in any order (on
    several pytest-xdist workers), and some build into their copy or edit it."""
    return _clone(tmp_path / "lmnotes")


def _cache() -> dict[str, str]:
    """The execution cache of the current build, if there is one (a folder per key, one kept)."""
    root = DOCS / "_build" / ".jupyter_cache"
    keys = sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []
    return {"LMNOTES_NB_CACHE": str(keys[-1])} if len(keys) == 1 else {}


def nox(checkout: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run ``python -m nox`` in the checkout with the shared environment and execution cache."""
    env = {**os.environ, "LMNOTES_NOX_ENV": str(ENV), **_cache()}
    env.pop("LMNOTES_SITE", None)
    return subprocess.run(
        [sys.executable, "-m", "nox", "--noxfile", str(checkout / "noxfile.py"), *args],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def _catalogs(root: Path) -> dict[str, bytes]:
    """Every French catalog under ``root``, keyed by path, byte for byte (header included)."""
    locales = root / "docs" / "locales"
    return {
        path.relative_to(locales).as_posix(): path.read_bytes()
        for path in sorted(locales.rglob("*.po"))
    }


class TestSessionsFromACleanCheckout:
    def test_install_only_prepares_every_session(self, own_checkout: Path) -> None:
        """``nox --install-only`` succeeds for every session and builds nothing."""
        result = nox(own_checkout, "--install-only", "-s", *SESSIONS)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert not (own_checkout / "docs" / "_build" / "html").exists()

    def test_gettext_leaves_the_catalogs_as_committed(self, checkout: Path) -> None:
        """``nox -s gettext`` runs and leaves every catalog byte-identical (no date, no machine
        word), each in sync with its page and all translated."""
        before = _catalogs(checkout)
        result = nox(checkout, "-s", "gettext")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        after = _catalogs(checkout)
        changed = sorted(
            name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
        )
        assert changed == [], f"run `nox -s gettext` and translate: {changed}"
        assert " 0 to do" in result.stdout + result.stderr
        assert not re.search(r": \d+% translated, [1-9]\d* to do", result.stdout + result.stderr)

    def test_doctests_session(self, checkout: Path) -> None:
        """``nox -s doctests`` runs docstring examples (a subset) and the pages' doctest blocks."""
        result = nox(checkout, "-s", "doctests", "--", "-k", "masks")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert re.search(r"\d+ passed", result.stdout + result.stderr)

    def test_internal_linkcheck_session(self, checkout: Path) -> None:
        """``nox -s linkcheck -- internal`` builds the site and resolves every link and anchor."""
        result = nox(checkout, "-s", "linkcheck", "--", "internal")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert (checkout / "docs" / "_build" / "html" / "index.html").is_file()

    def test_preview_serves_the_site(self, own_checkout: Path, tmp_path: Path) -> None:
        """``nox -s preview`` serves the English site, then a code edit's new output."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # The edited page is executed into a copy of the cache: the build's own cache is read
        # by tests running at the same time on the other worker.
        cache = {}
        for name, folder in _cache().items():
            cache[name] = str(shutil.copytree(folder, tmp_path / "cache"))
        env = {**os.environ, "LMNOTES_NOX_ENV": str(ENV), **cache}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nox",
                "--noxfile",
                str(own_checkout / "noxfile.py"),
                "-s",
                "preview",
                "--",
                "en",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=own_checkout,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 300
            page = ""
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/index.html", timeout=5
                    ) as r:
                        page = r.read().decode("utf-8")
                    break
                except OSError:
                    time.sleep(2)
            assert process.poll() is None, "the preview server stopped"
            assert 'lang="en"' in page and "lmnotes" in page
            # A code edit is executed (the execute step, in the preview's kernel) and served.
            source = own_checkout / "docs" / "notes" / "batch-explorer.md"
            cell = "```{code-cell} ipython3\n"
            source.write_text(
                source.read_text("utf-8").replace(
                    cell, f"{cell}print('edit' + 'ed by the test')\n", 1
                ),
                "utf-8",
            )
            url = f"http://127.0.0.1:{port}/notes/batch-explorer.html"
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    with urllib.request.urlopen(url, timeout=5) as r:
                        if "edited by the test" in r.read().decode("utf-8"):
                            break
                except OSError:
                    pass
                time.sleep(1)
            else:
                pytest.fail("the preview did not serve the edited page's new output")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
