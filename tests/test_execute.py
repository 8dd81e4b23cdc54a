"""The execute step (docs/_tools/execute.py) gives the outputs each page gives alone.

The execute step runs every page in one kernel. The hosted build (tests/hosted_build.py, a
plain French build as Read the Docs runs it, from an empty cache) runs each page again in a
kernel of its own, MyST-NB's way; every output must be the same in both execution caches,
except the cells tagged ``measured`` (timings of this machine).
"""

from __future__ import annotations

from pathlib import Path

import execute
import nbformat
import pytest
from conftest import DOCS

from lmnotes.messages import render


def _cache_path() -> Path:
    root = DOCS / "_build" / ".jupyter_cache"
    keys = sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []
    if len(keys) != 1:
        pytest.skip("no execution cache of a site build in docs/_build/.jupyter_cache")
    return keys[0]


def _pages() -> list[Path]:
    return sorted(
        p
        for p in DOCS.rglob("*.md")
        if "_build" not in p.parts and "{code-cell}" in p.read_text("utf-8")
    )


def _outputs(cell) -> list[dict]:
    """A cell's outputs as the English site shows them (messages rendered).

    stderr is removed (``nb_output_stderr``) and consecutive stdout chunks are merged
    (``nb_merge_streams``): how a kernel happens to split a stream is not an output.
    """
    kept: list[dict] = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            if output.get("name") == "stderr":
                continue
            if kept and kept[-1].get("output_type") == "stream":
                kept[-1] = {**kept[-1], "text": kept[-1]["text"] + output["text"]}
                continue
            kept.append({"output_type": "stream", "name": output["name"], "text": output["text"]})
            continue
        output = dict(output)
        output.pop("metadata", None)
        data = output.get("data")
        if data:  # marked messages as the English site renders them (lmnotes.messages)
            output["data"] = {
                mime: render(v, html_escaped=mime in ("text/html", "image/svg+xml"))
                if isinstance(v, str)
                else v
                for mime, v in data.items()
            }
        kept.append(output)
    for output in kept:
        if output.get("output_type") == "stream":
            output["text"] = render(output["text"])
    return kept


@pytest.mark.site
@pytest.mark.slow
class TestWarmKernel:
    @pytest.mark.parametrize("page", _pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
    def test_outputs_equal_a_page_executed_alone(
        self, page: Path, site: Path, hosted_french_build
    ) -> None:
        """Every unmeasured cell prints in the site build what it prints in a kernel of its own
        (the hosted build's, started with the environment a build gives its kernels). A note
        page's downloadable notebook (``<page>.ipynb`` beside the English page) holds the
        page's outputs."""
        from jupyter_cache import get_cache
        from myst_nb.core.config import NbParserConfig
        from myst_nb.core.read import create_nb_reader
        from myst_parser.config.main import MdParserConfig

        assert hosted_french_build.returncode == 0, hosted_french_build.log
        text = page.read_text("utf-8")
        notebook = create_nb_reader(str(page), MdParserConfig(), NbParserConfig(), text).read(text)
        notebook.metadata["kernelspec"]["name"] = "python3"
        _, warm = get_cache(str(_cache_path())).merge_match_into_notebook(notebook)
        _, alone = get_cache(str(hosted_french_build.cache)).merge_match_into_notebook(notebook)
        downloaded = site / "en" / page.relative_to(DOCS).with_suffix(".ipynb")
        if downloaded.is_file():
            held = nbformat.read(downloaded, as_version=4)
            assert [_outputs(c) for c in held.cells if c.cell_type == "code"] == [
                _outputs(c) for c in warm.cells if c.cell_type == "code"
            ], f"{downloaded.name} does not hold the page's outputs"
        code = [
            (w, a) for w, a in zip(warm.cells, alone.cells, strict=True) if w.cell_type == "code"
        ]
        differ = [
            index
            for index, (w, a) in enumerate(code)
            if "measured" not in w.metadata.get("tags", []) and _outputs(w) != _outputs(a)
        ]
        assert differ == [], f"code cells {differ} of {page.name} differ"


class TestRenumber:
    def test_cells_and_results_count_from_one(self) -> None:
        """Code cells and their execute_result outputs count 1, 2, ...; markdown is skipped."""
        nb = nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_markdown_cell("# x"),
                nbformat.v4.new_code_cell(
                    "1",
                    execution_count=7,
                    outputs=[
                        nbformat.v4.new_output(
                            "execute_result", {"text/plain": "1"}, execution_count=7
                        )
                    ],
                ),
                nbformat.v4.new_code_cell("print(2)", execution_count=8),
            ]
        )
        execute.renumber(nb)
        assert [c.get("execution_count") for c in nb.cells] == [None, 1, 2]
        assert nb.cells[1].outputs[0].execution_count == 1


def _execute_step(
    src: Path, cache: Path, env: dict[str, str] | None = None, tools: Path | None = None
):
    """Run the execute step of ``tools`` (default: the project's own copy) on ``src``."""
    import os
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, str((tools or src / "_tools") / "execute.py"), str(src)],
        capture_output=True,
        text=True,
        env={**os.environ, "LMNOTES_NB_CACHE": str(cache), **(env or {})},
        check=False,
    )


@pytest.mark.site
class TestExecuteStep:
    def test_pages_run_in_one_kernel_and_myst_nb_reads_the_cache(self, tmp_path: Path) -> None:
        """Two pages: both run by the execute step, then a plain build executes neither."""
        from conftest import fixture_sources, sphinx_build

        pages = {
            "index": "# Fixture\n\n```{toctree}\nother\n```\n\n```{code-cell} ipython3\n"
            "x = 41\nprint(x + 1)\n```\n",
            "other": "# Other\n\n```{code-cell} ipython3\nprint('x' in dir())\n```\n",
        }
        src = fixture_sources(tmp_path, pages)
        step = _execute_step(src, tmp_path / "cache")
        assert step.returncode == 0, step.stdout[-3000:] + step.stderr[-3000:]
        assert "execute [2/2] other" in step.stdout
        again = _execute_step(src, tmp_path / "cache")
        assert "every page is in the execution cache" in again.stdout
        result = sphinx_build(
            src, tmp_path / "html2", env={"LMNOTES_NB_CACHE": str(tmp_path / "cache")}
        )
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        assert "Executing notebook" not in log
        other = (tmp_path / "html2" / "other.html").read_text("utf-8")
        assert "False" in other  # the namespace of the page before is gone

    def test_a_bad_source_folder_is_named(self, tmp_path: Path) -> None:
        step = _execute_step(tmp_path, tmp_path / "cache", tools=DOCS / "_tools")
        assert step.returncode != 0 and f"SOURCEDIR: no conf.py in {tmp_path}" in step.stderr

    @pytest.mark.parametrize("how", ["step", "plain"])
    def test_kernels_compute_on_one_thread(self, tmp_path: Path, how: str) -> None:
        """The execute step's kernel and MyST-NB's own kernels (a plain build) both run torch
        on one thread, whatever the machine's cores, so printed float sums do not depend on
        them."""
        from conftest import fixture_sources, sphinx_build

        page = (
            "# Fixture\n\n```{code-cell} ipython3\nimport torch\n"
            "print('threads:', torch.get_num_threads())\n```\n"
        )
        src = fixture_sources(tmp_path, {"index": page})
        env = {"OMP_NUM_THREADS": "2"}
        if how == "step":
            step = _execute_step(src, tmp_path / "cache", env)
            assert step.returncode == 0, step.stderr[-3000:]
        result = sphinx_build(
            src, tmp_path / "html2", env={"LMNOTES_NB_CACHE": str(tmp_path / "cache"), **env}
        )
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        assert ("Executing notebook" in log) == (how == "plain")
        assert "threads: 1" in (tmp_path / "html2" / "index.html").read_text("utf-8")
