"""What makes builds fast must not change what they produce (issue 17).

- the kernel server (docs/_ext/lmnotes_execute.py ``serve``) executes pages from a clean
  state, survives a failing page, and starts a new kernel when the sources change;
- a build with ``LMNOTES_KERNEL_SERVER`` naming no server fails and says so;
- viewcode finds lmnotes modules without importing them, with the same source and tags;
- pybtex's plugin registrations and the cached ``Text.from_latex`` give what pybtex gives;
- a rebuild with nothing to do writes no page (not even viewcode's module pages).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import lmnotes_bibliography
import lmnotes_execute
import lmnotes_viewcode
import nbformat
import pytest
from conftest import DOCS, ROOT, fixture_project


def _notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def _text(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in c.outputs)
        for c in notebook.cells
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A kernel server on a socket of its own, and its log file."""
    folder = tmp_path_factory.mktemp("server")
    socket, log = folder / "kernel.sock", folder / "server.log"
    with log.open("w") as out:
        process = lmnotes_execute.start_server(socket, stdout=out, timeout=180)
    yield socket, log
    process.terminate()
    process.wait(timeout=60)
    assert not socket.exists(), "the server left its socket behind"


@pytest.mark.site
class TestKernelServer:
    def test_pages_start_clean_and_keep_imports(self, server, tmp_path: Path) -> None:
        """A page sees none of the names of the page before, but torch is already imported."""
        socket, _ = server
        remote = lmnotes_execute.RemoteKernel(socket, lmnotes_execute._current_key())
        first, _ = remote.execute(_notebook("x = 41", "print(x + 1)"), str(tmp_path), 60)
        assert _text(first) == ["", "42\n"]
        second, seconds = remote.execute(
            _notebook("print('x' in dir())", "import os; print(os.getcwd())"), str(tmp_path), 60
        )
        assert _text(second) == ["False\n", f"{tmp_path}\n"]
        assert [c.execution_count for c in second.cells] == [1, 2]
        third, _ = remote.execute(_notebook("import sys; print('torch' in sys.modules)"), "/", 60)
        assert _text(third) == ["True\n"] and seconds < 30

    def test_a_failing_page_is_reported_and_the_next_page_runs(self, server) -> None:
        socket, _ = server
        remote = lmnotes_execute.RemoteKernel(socket, lmnotes_execute._current_key())
        with pytest.raises(lmnotes_execute.PageFailed):
            remote.execute(_notebook("y = 1", "raise ValueError('boom')"), "/", 60)
        after, _ = remote.execute(_notebook("print('y' in dir())"), "/", 60)
        assert _text(after) == ["False\n"]

    def test_new_sources_start_a_new_kernel(self, server) -> None:
        """A request for another execution key (lmnotes changed) restarts the kernel."""
        socket, log = server
        remote = lmnotes_execute.RemoteKernel(socket, "another-key")
        remote.execute(_notebook("1"), "/", 60)
        assert "sources changed, new kernel" in log.read_text()

    def test_no_server_fails_the_build_with_the_variable_named(self, tmp_path: Path) -> None:
        missing = tmp_path / "nothing.sock"
        with pytest.raises(RuntimeError, match="LMNOTES_KERNEL_SERVER=.*no kernel server"):
            lmnotes_execute.RemoteKernel(missing, "key")
        os.environ["LMNOTES_KERNEL_SERVER"] = str(missing)
        try:
            result = fixture_project(
                tmp_path, {"index": "# P\n\n```{code-cell} ipython3\n1\n```\n"}
            )
        finally:
            del os.environ["LMNOTES_KERNEL_SERVER"]
        assert result.returncode != 0
        assert "no kernel server listens there" in result.stdout + result.stderr


class TestViewcodeWithoutImports:
    @pytest.mark.parametrize("modname", ["lmnotes", "lmnotes.masks", "lmnotes._tables"])
    def test_same_source_and_tags_as_an_import(self, modname: str) -> None:
        from sphinx.pycode import ModuleAnalyzer

        class App:
            class config:  # noqa: N801 - stands for app.config
                lmnotes_package_dir = str(ROOT / "lmnotes")

        code, tags = lmnotes_viewcode.lmnotes_source(App, modname)
        imported = ModuleAnalyzer.for_module(modname)
        imported.find_tags()
        assert (code, tags) == (imported.code, imported.tags)
        assert lmnotes_viewcode.lmnotes_file(App, "torch") is None


class TestPybtex:
    def test_registered_plugins_are_the_entry_points(self) -> None:
        from importlib.metadata import entry_points

        from pybtex.plugin import find_plugin

        lmnotes_bibliography._speed_up_pybtex(None, None)
        for group, name in lmnotes_bibliography.PYBTEX_PLUGINS:
            points = [*entry_points(group=group, name=name)]
            points += entry_points(group=f"{group}.aliases", name=name)
            assert find_plugin(group, name) is points[0].load(), (group, name)

    def test_cached_latex_decoding_gives_the_same_text(self) -> None:
        """Every field of references.bib decodes to the same rich text, cached or not."""
        from pybtex.database import parse_file
        from pybtex.richtext import Text

        lmnotes_bibliography._speed_up_pybtex(None, None)
        fields = [
            value
            for entry in parse_file(str(DOCS / "references.bib")).entries.values()
            for value in entry.fields.values()
        ]
        assert len(fields) > 100
        for value in fields:
            cached = Text.from_latex(value)
            assert cached is Text.from_latex(value)  # kept
            assert cached == Text.from_latex.__wrapped__(Text, value)  # pybtex's own result


@pytest.mark.site
class TestNoChangeRebuild:
    def test_a_rebuild_with_nothing_to_do_writes_no_page(self, tmp_path: Path) -> None:
        """Second build of a fixture site: no HTML file (module pages included) is rewritten."""
        pages = {
            "index": "# Fixture\n\n```{toctree}\napi\n```\n\n```{code-cell} ipython3\n1 + 1\n```\n",
            "api": "# API\n\n```{eval-rst}\n.. autofunction:: lmnotes.masks.causal_mask\n```\n",
        }
        (tmp_path / "lmnotes").symlink_to(ROOT / "lmnotes")  # lmnotes_package_dir
        first = fixture_project(tmp_path, pages)
        assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
        html = tmp_path / "html"
        assert (html / "_modules" / "lmnotes" / "masks.html").is_file()
        before = {p: p.stat().st_mtime_ns for p in html.rglob("*.html")}
        time.sleep(0.05)
        again = subprocess.run(
            [sys.executable, "-m", "sphinx", "-b", "html", "-n", str(tmp_path / "docs"), str(html)],
            capture_output=True,
            text=True,
            env={**os.environ, "LMNOTES_NB_CACHE": str(tmp_path / "cache")},
            check=False,
        )
        assert again.returncode == 0, again.stderr[-3000:]
        assert "no targets are out of date" in again.stdout
        rewritten = {
            p.relative_to(html).as_posix()
            for p in html.rglob("*.html")
            if p.stat().st_mtime_ns != before[p]
        }
        # Sphinx writes its indices and viewcode its list of modules on every build.
        assert rewritten <= {"genindex.html", "search.html", "_modules/index.html"}, rewritten


class TestClaims:
    def test_a_page_is_claimed_by_one_build_at_a_time(self, tmp_path: Path) -> None:
        """A second claim on the same code fails until the first is released."""
        page = lmnotes_execute.Page("p", tmp_path / "p.md", None, _notebook("1 + 1"))
        other = lmnotes_execute.Page("q", tmp_path / "q.md", None, _notebook("1 + 1"))
        cache = str(tmp_path / "cache")
        assert lmnotes_execute._claim(cache, page)
        assert not lmnotes_execute._claim(cache, other)
        lmnotes_execute._release(page)
        assert lmnotes_execute._claim(cache, other)
        lmnotes_execute._release(other)

    def test_a_page_cached_before_its_claim_is_not_executed_again(self, tmp_path: Path) -> None:
        """Claimed, then found in the cache (another build just cached it): nobody executes it."""
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        cache_path = str(tmp_path / "cache")
        cached = _notebook("print('cached')")
        cached.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        source = tmp_path / "cached.ipynb"
        nbformat.write(cached, source)
        cache = get_cache(cache_path)
        record = cache.add_nb_to_project(str(source))
        cache.cache_notebook_bundle(CacheBundleIn(cached, record.uri), check_validity=False)

        def page(name: str, code: str) -> lmnotes_execute.Page:
            notebook = _notebook(code)
            notebook.metadata["kernelspec"] = dict(cached.metadata["kernelspec"])
            return lmnotes_execute.Page(name, tmp_path / f"{name}.md", None, notebook)

        held = page("held", "print('busy')")
        assert lmnotes_execute._claim(cache_path, held)  # another build executes this code
        todo = [page("a", "print('cached')"), page("b", "print('new')"), page("c", "print('busy')")]
        mine, elsewhere = lmnotes_execute._split(cache_path, todo)
        assert (list(mine), list(elsewhere)) == (["b"], ["c"])
        assert todo[0].claim is None  # let go at once
        lmnotes_execute._release(held)
        lmnotes_execute._release(mine["b"])


@pytest.mark.site
class TestBothLanguagesAtOnce:
    def test_french_waits_for_english_and_executes_nothing(self, tmp_path: Path) -> None:
        """docs/_tools/build.py: English executes both pages, French waits and executes none."""
        # French starts when English announces its pages; the first page runs long enough
        # (6 s) for French to start Sphinx and find both still executing on a loaded machine.
        pages = {
            "index": "# Fixture\n\n```{toctree}\nother\n```\n\n```{code-cell} ipython3\n"
            "import time\ntime.sleep(6)\nprint(1 + 1)\n```\n",
            "other": "# Other\n\n```{code-cell} ipython3\nprint(40 + 2)\n```\n",
        }
        built = fixture_project(tmp_path, {"index": "# Fixture\n"})
        assert built.returncode == 0, built.stderr[-2000:]
        src = tmp_path / "docs"
        for name, body in pages.items():
            (src / f"{name}.md").write_text(
                (src / "index.md").read_text("utf-8").split("# Fixture")[0] + body, "utf-8"
            )
        result = subprocess.run(
            [sys.executable, str(DOCS / "_tools" / "build.py"), str(src), str(tmp_path / "both")]
            + ["--languages", "en,fr", "-E", "-n", "-W", "--keep-going"],
            capture_output=True,
            text=True,
            env={**os.environ, "LMNOTES_NB_CACHE": str(tmp_path / "both-cache")},
            check=False,
        )
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        assert "[en] warm kernel [2/2]" in log
        assert "[fr] warm kernel: 2 page(s) being executed by another build" in log
        french = [line for line in log.splitlines() if line.startswith("[fr]")]
        assert not [line for line in french if "warm kernel [" in line or "Executing" in line]
        for language in ("en", "fr"):
            other = (tmp_path / "both" / language / "other.html").read_text("utf-8")
            assert "42" in other

    def test_a_failing_build_fails_the_command(self, tmp_path: Path) -> None:
        built = fixture_project(tmp_path, {"index": "# Fixture\n"})
        assert built.returncode == 0
        src = tmp_path / "docs"
        (src / "index.md").write_text("# Broken\n\n{ref}`nowhere`\n", "utf-8")
        result = subprocess.run(
            [sys.executable, str(DOCS / "_tools" / "build.py"), str(src), str(tmp_path / "out")]
            + ["-n", "-W", "--keep-going"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0
        assert "[en] sphinx-build exited with code" in result.stdout
        assert "[fr] sphinx-build exited with code" in result.stdout
