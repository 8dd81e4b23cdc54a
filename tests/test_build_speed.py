"""What makes builds fast must not change what they produce (issues 17 and 25).

- the execute step's kernel (docs/_tools/execute.py) runs pages from a clean state, survives
  a failing page, imports lmnotes again when its sources change, and is reached through a
  connection file when it runs elsewhere (the preview);
- a build waits for the pages the step lists, and not for a step that is gone;
- docs/_tools/build.py: the step executes, both languages execute nothing; a raising page
  fails the command with its traceback;
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

import execute
import lmnotes_bibliography
import lmnotes_execute
import lmnotes_viewcode
import nbformat
import pytest
from conftest import DOCS, ROOT, fixture_project, fixture_sources


def _notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def _text(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in c.outputs)
        for c in notebook.cells
    ]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory):
    """A kernel started by the execute step, for the module's tests."""
    started = execute.Kernel(str(tmp_path_factory.mktemp("kernel")))
    yield started
    started.shutdown()


@pytest.mark.site
class TestKernel:
    def test_pages_start_clean_and_keep_imports(self, kernel, tmp_path: Path) -> None:
        """A page sees none of the names of the page before, but torch is already imported."""
        first, _ = kernel.execute(_notebook("x = 41", "print(x + 1)"), str(tmp_path), "k", 60)
        assert _text(first) == ["", "42\n"]
        second, seconds = kernel.execute(
            _notebook("print('x' in dir())", "import os; print(os.getcwd())"),
            str(tmp_path),
            "k",
            60,
        )
        assert _text(second) == ["False\n", f"{tmp_path}\n"]
        assert [c.execution_count for c in second.cells] == [1, 2]
        kernel.execute(_notebook("import torch"), "/", "k", 60)
        third, seconds = kernel.execute(
            _notebook("import sys; print('torch' in sys.modules)"), "/", "k", 60
        )
        assert _text(third) == ["True\n"] and seconds < 30

    def test_a_failing_page_is_reported_and_the_next_page_runs(self, kernel) -> None:
        with pytest.raises(execute.PageFailed, match="boom"):
            kernel.execute(_notebook("y = 1", "raise ValueError('boom')"), "/", "k", 60)
        after, _ = kernel.execute(_notebook("print('y' in dir())"), "/", "k", 60)
        assert _text(after) == ["False\n"]

    def test_new_sources_are_imported_again(self, kernel) -> None:
        """Another execution key (lmnotes changed): the page imports lmnotes afresh."""
        probe = _notebook(
            "import sys, lmnotes.masks\nsys.modules['lmnotes.masks'].marker = 1",
            "import lmnotes.masks as m; print(hasattr(m, 'marker'))",
        )
        same, _ = kernel.execute(probe, "/", "key-1", 60)
        assert _text(same) == ["", "True\n"]
        again, _ = kernel.execute(probe.copy(), "/", "key-1", 60)
        assert _text(again)[1] == "True\n"  # same key: the module object is kept
        check = _notebook("import lmnotes.masks as m; print(hasattr(m, 'marker'))")
        changed, _ = kernel.execute(check, "/", "key-2", 60)
        assert _text(changed) == ["False\n"]

    def test_a_running_kernel_is_reached_through_its_connection_file(self, tmp_path: Path) -> None:
        """``--existing``: pages run in a kernel started elsewhere, which outlives the step."""
        from jupyter_client.manager import KernelManager

        connection = tmp_path / "kernel.json"
        manager = KernelManager(kernel_name="python3", connection_file=str(connection))
        manager.start_kernel(cwd=str(tmp_path))
        try:
            attached = execute.Kernel(str(tmp_path), str(connection))
            executed, _ = attached.execute(_notebook("print(6 * 7)"), "/", "k", 60)
            attached.shutdown()
            assert _text(executed) == ["42\n"]
            assert manager.is_alive()
        finally:
            manager.shutdown_kernel(now=True)
        with pytest.raises(FileNotFoundError, match="--existing: no connection file"):
            execute.Kernel(str(tmp_path), str(tmp_path / "missing.json"))


class TestPending:
    def _write(self, folder: Path, **status) -> None:
        import json

        (folder / lmnotes_execute.PENDING).write_text(json.dumps(status), "utf-8")

    def test_the_list_of_a_running_step(self, tmp_path: Path) -> None:
        assert lmnotes_execute.pending(tmp_path) == []  # no step
        self._write(tmp_path, pid=os.getpid(), timeout=600, pages=["a", "b"])
        assert lmnotes_execute.pending(tmp_path) == ["a", "b"]

    @pytest.mark.skipif(os.name != "posix", reason="a process's liveness is checked on POSIX")
    def test_a_step_that_is_gone_is_not_waited_for(self, tmp_path: Path) -> None:
        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        self._write(tmp_path, pid=int(gone.stdout), timeout=600, pages=["a"])
        assert lmnotes_execute.pending(tmp_path) == []

    def test_a_list_older_than_a_page_may_take_is_not_waited_for(self, tmp_path: Path) -> None:
        self._write(tmp_path, pid=os.getpid(), timeout=1, pages=["a"])
        old = time.time() - 120
        os.utime(tmp_path / lmnotes_execute.PENDING, (old, old))
        assert lmnotes_execute.pending(tmp_path) == []


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

        lmnotes_bibliography.speed_up_pybtex(None, None)
        for group, name in lmnotes_bibliography.PYBTEX_PLUGINS:
            points = [*entry_points(group=group, name=name)]
            points += entry_points(group=f"{group}.aliases", name=name)
            assert find_plugin(group, name) is points[0].load(), (group, name)

    def test_cached_latex_decoding_gives_the_same_text(self) -> None:
        """Every field of references.bib decodes to the same rich text, cached or not."""
        from pybtex.database import parse_file
        from pybtex.richtext import Text

        lmnotes_bibliography.speed_up_pybtex(None, None)
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


@pytest.mark.site
class TestBothLanguagesAtOnce:
    def test_the_step_executes_and_the_builds_wait_and_execute_nothing(
        self, tmp_path: Path
    ) -> None:
        """docs/_tools/build.py: the execute step runs both pages; each language waits for them
        (they run long enough for both builds to get there first) and executes no cell."""
        pages = {
            "index": "# Fixture\n\n```{toctree}\nother\n```\n\n```{code-cell} ipython3\n"
            "import time\ntime.sleep(6)\nprint(1 + 1)\n```\n",
            "other": "# Other\n\n```{code-cell} ipython3\nprint(40 + 2)\n```\n",
        }
        src = fixture_sources(tmp_path, pages)
        result = self._build(src, tmp_path / "both", tmp_path / "both-cache")
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        assert "[execute] execute [2/2]" in log
        for language in ("en", "fr"):
            assert f"[{language}] execute step running: 2 page(s) read last" in log
            assert f"[{language}] index: waited" in log
            assert not [
                line
                for line in log.splitlines()
                if line.startswith(f"[{language}]") and "Executing notebook" in line
            ]
            other = (tmp_path / "both" / language / "other.html").read_text("utf-8")
            assert "42" in other
        assert not (tmp_path / "both-cache" / lmnotes_execute.PENDING).exists()

    def test_a_page_that_raises_fails_the_build_with_its_traceback(self, tmp_path: Path) -> None:
        """The step prints the page and traceback; each build then executes the page itself
        and fails strictly, as a plain build would."""
        pages = {"index": "# Broken\n\n```{code-cell} ipython3\n1 / 0\n```\n"}
        src = fixture_sources(tmp_path, pages)
        result = self._build(src, tmp_path / "out", tmp_path / "cache-broken")
        log = result.stdout + result.stderr
        assert result.returncode == 1, log[-3000:]
        assert "execute: index raised" in log and "ZeroDivisionError" in log
        assert "[en] sphinx-build exited with code" in log

    @staticmethod
    def _build(src: Path, out: Path, cache: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(src / "_tools" / "build.py"), str(src), str(out)]
            + ["--languages", "en,fr", "-E", "-n", "-W", "--keep-going"],
            capture_output=True,
            text=True,
            env={**os.environ, "LMNOTES_NB_CACHE": str(cache)},
            check=False,
        )

    def test_a_failing_build_fails_the_command(self, tmp_path: Path) -> None:
        src = fixture_sources(tmp_path, {"index": "# Broken\n\n{ref}`nowhere`\n"})
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


class TestPortable:
    def test_every_extension_and_tool_imports_without_posix_only_modules(self) -> None:
        """docs/_ext and docs/_tools import where fcntl, resource and termios do not exist
        (Windows): POSIX-only speed-ups are optional."""
        names = [p.stem for p in (DOCS / "_ext").glob("*.py")]
        names += [p.stem for p in (DOCS / "_tools").glob("*.py")]
        code = (
            "import sys\n"
            "for gone in ('fcntl', 'resource', 'termios', 'grp', 'pwd'):\n"
            "    sys.modules[gone] = None\n"
            f"sys.path[:0] = [{str(DOCS / '_ext')!r}, {str(DOCS / '_tools')!r}]\n"
            f"for name in {sorted(names)!r}:\n"
            "    __import__(name)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr[-3000:]
