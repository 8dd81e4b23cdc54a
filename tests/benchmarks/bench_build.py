"""Build benchmark: prints a table of build times, cells executed and page weights.

Run with ``python3 -m nox -s bench`` (or ``python tests/benchmarks/bench_build.py`` inside
an environment that has the docs stack); ``-- --before REV`` adds the cold build of both
languages as git revision REV built them, in the same run. It works on a temporary copy of
``docs/`` so the repository is never touched, and prints, in seconds:

- floor: every page's code executed once, in one process (no Sphinx, no kernel); with
  ``--before``, the floor and both cold builds are measured in turns, twice, each cold build
  compared with the floor measured next to it (the machine's speed drifts over minutes);
- cold build of both languages as nox builds them (docs/_tools/build.py: the execute step
  and one plain sphinx-build per language at once), and who executed how many cells
  (target: the execute step all of them, each language 0);
- no-change rebuild, per language (target <= 3 s);
- prose-only edit, and a code edit of one page (the execute step, then the build);
- the live preview (``nox -s preview``, docs/_tools/preview.py): seconds from saving a code
  edit to the served page showing its new output (target <= 3 s);
- cold build with plain sphinx-builds alone, English then French (as Read the Docs builds:
  MyST-NB executes each page in a kernel of its own);
- doctests: ``pytest --doctest-modules lmnotes`` plus the Sphinx doctest builder;
- page weight: bytes of HTML plus its images, per page (target < 500 KB).

Target: cold build of both languages <= 1.5 x floor.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bs4 import BeautifulSoup
from myst_nb.core.read import read_myst_markdown_notebook

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def code_cells(page: Path) -> list[str]:
    """The code cells of a MyST-NB page, in order."""
    notebook = read_myst_markdown_notebook(page.read_text("utf-8"))
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def executed_pages(srcdir: Path) -> list[Path]:
    return sorted(p for p in srcdir.rglob("*.md") if "_build" not in p.parts and code_cells(p))


def fresh_floor(srcdir: Path) -> float:
    """:func:`floor` in a new process: nothing imported or cached by an earlier measure."""
    result = subprocess.run(
        [sys.executable, __file__, "--floor", str(srcdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(result.stdout[-3000:] + result.stderr[-3000:])
    return float(result.stdout.split()[-1])


def floor(srcdir: Path) -> float:
    """Execute every page's code once in this process, each page in its own namespace."""
    start = time.perf_counter()
    cwd = os.getcwd()
    for page in executed_pages(srcdir):
        os.chdir(page.parent)
        namespace: dict[str, object] = {"__name__": "__main__"}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for source in code_cells(page):
                exec(compile(source, str(page), "exec"), namespace)  # noqa: S102
    os.chdir(cwd)
    return time.perf_counter() - start


def _cells(srcdir: Path, log: str) -> dict[str, int]:
    """Cells executed, by who executed them: the execute step, or a build (by language)."""
    cells: dict[str, int] = {}
    for match in re.finditer(r"^(?:\[(\w+)\] )?(\S+\.md): Executing notebook", log, re.M):
        who = match.group(1) or "build"
        cells[who] = cells.get(who, 0) + len(code_cells(Path(match.group(2))))
    for match in re.finditer(r"execute \[\d+/\d+\] (\S+): [\d.]+ s", log):
        cells["execute"] = cells.get("execute", 0) + len(
            code_cells(srcdir / f"{match.group(1)}.md")
        )
    return cells


def _run(command: list[str], cache: Path) -> tuple[float, str]:
    env = {**os.environ, "LMNOTES_NB_CACHE": str(cache)}
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode:
        sys.exit(" ".join(command) + "\n" + result.stdout[-3000:] + result.stderr[-3000:])
    return elapsed, result.stdout + result.stderr


def sphinx(
    srcdir: Path, outdir: Path, language: str, cache: Path, *, fresh: bool
) -> tuple[float, int]:
    """A plain sphinx-build: seconds, and the cells MyST-NB executed (what the cache missed)."""
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-D", f"language={language}", "-n"]
    elapsed, log = _run([*command, *(["-E"] if fresh else []), str(srcdir), str(outdir)], cache)
    return elapsed, sum(_cells(srcdir, log).values())


def execute_then_sphinx(srcdir: Path, outdir: Path, cache: Path) -> tuple[float, int]:
    """The execute step, then a plain English build: a code edit as the nox sessions build it."""
    t_step, log = _run([sys.executable, str(srcdir / "_tools" / "execute.py"), str(srcdir)], cache)
    t_build, cells = sphinx(srcdir, outdir, "en", cache, fresh=False)
    return t_step + t_build, sum(_cells(srcdir, log).values()) + cells


def both_languages(srcdir: Path, outdir: Path, cache: Path) -> tuple[float, dict[str, int]]:
    """A cold build of both languages as nox builds them (docs/_tools/build.py)."""
    build = [sys.executable, str(srcdir / "_tools" / "build.py"), str(srcdir), str(outdir), "-n"]
    elapsed, log = _run(build, cache)
    return elapsed, _cells(srcdir, log)


def page_weights(html: Path) -> dict[str, int]:
    """Bytes of each page's HTML plus the images it shows."""
    weights = {}
    for page in sorted(html.rglob("*.html")):
        if page.name in {"genindex.html", "search.html", "py-modindex.html"}:
            continue
        soup = BeautifulSoup(page.read_text("utf-8"), "html.parser")
        size = page.stat().st_size
        for img in soup.find_all("img"):
            target = (page.parent / img.get("src", "")).resolve()
            if target.is_file():
                size += target.stat().st_size
        weights[page.relative_to(html).as_posix()] = size
    return weights


def code_edit(text: str, marker: str = "# benchmark edit") -> str:
    """The page with ``marker`` added as the first line of its first code cell."""
    cell = "```{code-cell} ipython3\n"
    return text.replace(cell, f"{cell}{marker}\n", 1)


def edited_page(src: Path) -> Path:
    return next(p for p in executed_pages(src) if "notes" in p.parts)


def preview(src: Path, tmp: Path, edits: int = 3) -> list[float]:
    """Seconds from saving a code edit to the preview serving the page with its new output."""
    import socket as sockets

    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            str(src / "_tools" / "preview.py"),
            str(src),
            str(tmp / "html" / "en"),
            "-D",
            "language=en",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**os.environ, "LMNOTES_NB_CACHE": str(tmp / "cache")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    page = edited_page(src)
    url = f"http://127.0.0.1:{port}/{page.relative_to(src).with_suffix('.html').as_posix()}"

    def served() -> str:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode("utf-8")
        except (OSError, http.client.HTTPException):  # the server rewrites the page meanwhile
            return ""

    text = page.read_text("utf-8")
    times = []
    try:
        deadline = time.monotonic() + 600
        while not served():
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit("the preview did not start")
            time.sleep(0.5)
        time.sleep(2)  # let the watcher settle after the first build
        for n in range(edits):
            marker = f"preview-edit-{n}-{time.time_ns()}"
            start = time.perf_counter()
            page.write_text(code_edit(text, f"print({marker!r})"), "utf-8")
            # The marker shows twice once the page is rebuilt: in the cell and in its output.
            while served().count(marker) < 2:
                if time.perf_counter() - start > 120:
                    sys.exit("the preview did not show the edit within 120 s")
                time.sleep(0.05)
            times.append(time.perf_counter() - start)
            time.sleep(2)
    finally:
        page.write_text(text, "utf-8")
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    return times


def cold_row(
    step: str, seconds: float, floor_s: float, cells: dict[str, int], target: str = ""
) -> tuple[str, float, str]:
    """A row of the table for a cold build: its ratio to the floor and who executed cells."""
    executed = ", ".join(f"{who} {n}" for who, n in sorted(cells.items()))
    return step, seconds, f"{seconds / floor_s:.2f} x floor{target}; cells executed: {executed}"


def before(revision: str, tmp: Path, turn: int) -> tuple[float, dict[str, int]]:
    """The cold build of both languages as ``revision`` built them (its docs and build.py)."""
    tree = tmp / f"before-{revision}-{turn}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), revision],
        check=True,
        capture_output=True,
    )
    try:
        elapsed, log = _run(
            [sys.executable, str(tree / "docs" / "_tools" / "build.py"), str(tree / "docs")]
            + [str(tmp / f"html-before-{turn}"), "-n"],
            tmp / f"cache-before-{turn}",
        )
        cells = _cells(tree / "docs", log)
        # That revision executed in the English build: "[en] warm kernel [3/14] notes/mlm: 2.1 s".
        for match in re.finditer(r"\[(\w+)\] warm kernel \[\d+/\d+\] (\S+): [\d.]+ s", log):
            page = tree / "docs" / f"{match.group(2)}.md"
            cells[match.group(1)] = cells.get(match.group(1), 0) + len(code_cells(page))
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True
        )
    return elapsed, cells


def main(argv: list[str]) -> None:
    if argv[:1] == ["--floor"]:
        print(f"{floor(Path(argv[1])):.3f}")
        return
    revision = None
    if "--before" in argv:
        at = argv.index("--before")
        if at + 1 >= len(argv):
            sys.exit("--before: give a git revision to compare with, e.g. --before 7ec1376")
        revision = argv[at + 1]
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="lmnotes-bench-") as tmp:
        tmp = Path(tmp)
        src = tmp / "docs"
        shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "jupyter_execute"))
        for name in ("lmnotes", "CITATION.cff", "pyproject.toml"):  # what the pages read
            (tmp / name).symlink_to(ROOT / name)

        # The machine's speed drifts over minutes (a shared virtual machine): the floor and,
        # with --before, both pipelines are measured in turns, each twice, and every cold
        # build is compared with the floor measured next to it.
        rounds = 2 if revision else 1
        for turn in range(1, rounds + 1):
            t_floor = fresh_floor(src)
            rows.append((f"floor: every page's code once, one process ({turn})", t_floor, ""))
            if revision:
                t_before, cells = before(revision, tmp, turn)
                step = f"before ({revision}): cold build, both languages ({turn})"
                rows.append(cold_row(step, t_before, t_floor, cells))
            html = tmp / "html" if turn == rounds else tmp / f"html-{turn}"
            cache = tmp / "cache" if turn == rounds else tmp / f"cache-{turn}"
            t_both, cells = both_languages(src, html, cache)
            step = f"cold build, both languages (execute step + builds) ({turn})"
            rows.append(cold_row(step, t_both, t_floor, cells, " (target <= 1.5)"))
        for language in ("en", "fr"):
            t, n = sphinx(src, tmp / "html" / language, language, tmp / "cache", fresh=False)
            rows.append((f"no-change rebuild, {language}", t, f"{n} cells (target <= 3 s)"))
        page = edited_page(src)
        text = page.read_text("utf-8")
        page.write_text(text + "\nA sentence added by the benchmark.\n", "utf-8")
        t, n = sphinx(src, tmp / "html" / "en", "en", tmp / "cache", fresh=False)
        rows.append((f"prose-only edit ({page.name}), en", t, f"{n} cells executed"))
        page.write_text(code_edit(text), "utf-8")
        t, n = execute_then_sphinx(src, tmp / "html" / "en", tmp / "cache")
        rows.append((f"code edit ({page.name}), execute step + en build", t, f"{n} cells"))
        page.write_text(text, "utf-8")
        previews = preview(src, tmp)
        runs = ", ".join(f"{t:.1f}" for t in previews)
        rows.append(
            (
                f"preview, save to page ({page.name})",
                max(previews),
                f"slowest of {runs} s (target <= 3 s)",
            )
        )
        t_plain = 0.0
        plain_cells = 0
        for language in ("en", "fr"):
            t, n = sphinx(src, tmp / "plain" / language, language, tmp / "cache-plain", fresh=True)
            t_plain += t
            plain_cells += n
        rows.append(
            (
                "cold build, plain sphinx-build en then fr (Read the Docs)",
                t_plain,
                f"{t_plain / t_floor:.2f} x floor; {plain_cells} cells, a kernel per page",
            )
        )

        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "--doctest-modules",
                str(ROOT / "lmnotes"),
                "-p",
                "no:cacheprovider",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [sys.executable, "-m", "sphinx", "-b", "doctest", "-q", str(src), str(tmp / "doctest")],
            env={**os.environ, "LMNOTES_NB_CACHE": str(tmp / "cache")},
            check=True,
            capture_output=True,
        )
        rows.append(("doctests (docstrings + pages)", time.perf_counter() - start, ""))
        weights = {
            f"{lang}/{k}": v
            for lang in ("en", "fr")
            for k, v in page_weights(tmp / "html" / lang).items()
        }

    width = max(len(step) for step, _, _ in rows)
    print(f"\n| {'step':{width}} | seconds | notes |")
    print(f"|{'-' * (width + 2)}|--------:|-------|")
    for step, seconds, note in rows:
        print(f"| {step:{width}} | {seconds:7.1f} | {note} |")
    print(f"\n{'page':44} {'KB':>8}")
    for name, size in sorted(weights.items(), key=lambda kv: -kv[1]):
        flag = "  OVER 500 KB" if size > 500_000 else ""
        print(f"{name:44} {size / 1000:8.1f}{flag}")
    print(
        f"\nheaviest page: {max(weights.values()) / 1000:.1f} KB; "
        f"machine: {os.cpu_count()} cores, {sys.platform}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
