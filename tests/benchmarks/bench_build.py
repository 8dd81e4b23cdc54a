"""Build benchmark: prints a table of build times, cells executed and page weights.

Run with ``python3 -m nox -s bench`` (or ``python tests/benchmarks/bench_build.py``
inside an environment that has the docs stack).  It works on a temporary copy
of ``docs/`` so the repository is never touched, and prints:

- floor: every page's code executed once, in one process (no Sphinx, no kernel);
- each build step twice, side by side: every page in a kernel of its own (MyST-NB alone,
  ``LMNOTES_WARM_KERNEL=0``) and the pages that miss the cache in one warm kernel
  (docs/_ext/lmnotes_execute.py, the default);
- cold build of English then French (empty execution cache), and how many cells
  the French build executed (target 0); with the warm kernel, also both languages at
  once as nox builds them (docs/_tools/build.py);
- warm no-change rebuild, per language (target <= 3 s);
- prose-only edit and code edit of one page: time and cells executed;
- warm kernel only: the same code edit with a kernel server running
  (``LMNOTES_KERNEL_SERVER``), and the live preview (``nox -s preview``, which runs
  docs/_tools/preview.py): seconds from saving a code edit to the served page showing its
  new output;
- doctests: ``pytest --doctest-modules lmnotes`` plus the Sphinx doctest builder;
- page weight: bytes of HTML plus its images, per page (target < 500 KB).

Targets: cold build of both languages <= 2 x floor (stretch 1.5), a code edit on one page
<= 4 s (<= 3 s from save to page in the preview), French after English executes 0 cells,
no-change rebuild <= 3 s per language.
"""

from __future__ import annotations

import contextlib
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


def build(
    srcdir: Path,
    outdir: Path,
    language: str,
    cache: Path,
    *,
    fresh: bool,
    warm: bool = True,
    server: Path | None = None,
) -> tuple[float, int]:
    """Run sphinx-build; return the wall time and the number of cells it executed.

    ``warm``: pages that miss the cache run in one kernel (docs/_ext/lmnotes_execute.py);
    otherwise each in a kernel of its own (``LMNOTES_WARM_KERNEL=0``, MyST-NB alone).
    """
    args = [sys.executable, "-m", "sphinx", "-b", "html", "-D", f"language={language}", "-n"]
    if fresh:
        args.append("-E")
    env = {
        **os.environ,
        "LMNOTES_NB_CACHE": str(cache),
        "LMNOTES_WARM_KERNEL": "1" if warm else "0",
    }
    if server is not None:
        env["LMNOTES_KERNEL_SERVER"] = str(server)
    start = time.perf_counter()
    result = subprocess.run(
        [*args, str(srcdir), str(outdir)], capture_output=True, text=True, env=env, check=False
    )
    elapsed = time.perf_counter() - start
    if result.returncode:
        sys.exit(result.stdout[-3000:] + result.stderr[-3000:])
    executed = 0
    log = result.stdout + result.stderr
    for match in re.finditer(r"(\S+\.md): Executing notebook", log):
        executed += len(code_cells(Path(match.group(1))))
    for match in re.finditer(r"warm kernel \[\d+/\d+\] (\S+): [\d.]+ s", log):
        executed += len(code_cells(srcdir / f"{match.group(1)}.md"))
    return elapsed, executed


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


def with_server(src: Path, tmp: Path) -> tuple[float, int]:
    """A code edit built with a kernel server running (started and warmed up beforehand)."""
    sys.path.insert(0, str(src / "_ext"))
    from lmnotes_execute import start_server

    socket = tmp / "kernel.sock"
    server = start_server(socket, stdout=subprocess.DEVNULL)
    try:
        page = edited_page(src)
        text = page.read_text("utf-8")
        page.write_text(code_edit(text, "# benchmark edit with a kernel server"), "utf-8")
        result = build(
            src, tmp / "html-warm" / "en", "en", tmp / "cache-warm", fresh=False, server=socket
        )
        page.write_text(text, "utf-8")
        return result
    finally:
        server.terminate()
        server.wait(timeout=60)


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
            str(tmp / "html-warm" / "en"),
            "-D",
            "language=en",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**os.environ, "LMNOTES_NB_CACHE": str(tmp / "cache-warm")},
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
        except OSError:
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


def both_at_once(src: Path, tmp: Path) -> tuple[float, dict[str, int]]:
    """Cold build of English and French at once, as nox builds (docs/_tools/build.py).

    Returns the wall time and the cells each language executed.
    """
    env = {**os.environ, "LMNOTES_NB_CACHE": str(tmp / "cache-both")}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(src / "_tools" / "build.py"), str(src), str(tmp / "html-both"), "-n"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode:
        sys.exit(result.stdout[-3000:] + result.stderr[-3000:])
    cells = {"en": 0, "fr": 0}
    for match in re.finditer(r"\[(\w+)\] (\S+\.md): Executing notebook", result.stdout):
        cells[match.group(1)] += len(code_cells(Path(match.group(2))))
    for match in re.finditer(r"\[(\w+)\] warm kernel \[\d+/\d+\] (\S+): [\d.]+ s", result.stdout):
        cells[match.group(1)] += len(code_cells(src / f"{match.group(2)}.md"))
    return elapsed, cells


def scenario(src: Path, tmp: Path, floor_s: float, *, warm: bool) -> list[tuple[str, float, str]]:
    """Cold, no-change, prose-edit and code-edit builds; (step, seconds, note) rows."""
    label = "warm" if warm else "alone"
    out, cache = tmp / f"html-{label}", tmp / f"cache-{label}"
    rows = []
    t_en, cells_en = build(src, out / "en", "en", cache, fresh=True, warm=warm)
    t_fr, cells_fr = build(src, out / "fr", "fr", cache, fresh=True, warm=warm)
    rows.append(("cold build, English", t_en, f"{cells_en} cells executed"))
    rows.append(("French after English", t_fr, f"{cells_fr} cells executed (target 0)"))
    cold = t_en + t_fr
    rows.append(
        (
            "cold build, both languages",
            cold,
            f"{cold / floor_s:.2f} x floor (target <= 2, stretch 1.5)",
        )
    )
    for language in ("en", "fr"):
        t, cells = build(src, out / language, language, cache, fresh=False, warm=warm)
        rows.append((f"no-change rebuild, {language}", t, f"{cells} cells (target <= 3 s)"))
    page = edited_page(src)
    text = page.read_text("utf-8")
    page.write_text(text + "\nA sentence added by the benchmark.\n", "utf-8")
    t, cells = build(src, out / "en", "en", cache, fresh=False, warm=warm)
    rows.append((f"prose-only edit ({page.name}), en", t, f"{cells} cells executed"))
    page.write_text(code_edit(text), "utf-8")
    t, cells = build(src, out / "en", "en", cache, fresh=False, warm=warm)
    rows.append((f"code edit ({page.name}), en", t, f"{cells} cells executed (target <= 4 s)"))
    page.write_text(text, "utf-8")
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lmnotes-bench-") as tmp:
        tmp = Path(tmp)
        src = tmp / "docs"
        shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "jupyter_execute"))
        (tmp / "lmnotes").symlink_to(ROOT / "lmnotes")
        (tmp / "CITATION.cff").symlink_to(ROOT / "CITATION.cff")

        t_floor = floor(src)
        alone = scenario(src, tmp, t_floor, warm=False)
        warm = scenario(src, tmp, t_floor, warm=True)
        t_both, cells_both = both_at_once(src, tmp)
        t_server, cells_server = with_server(src, tmp)
        previews = preview(src, tmp)

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
            env={**os.environ, "LMNOTES_NB_CACHE": str(tmp / "cache-warm")},
            check=True,
            capture_output=True,
        )
        t_doctests = time.perf_counter() - start

        weights = {
            f"{lang}/{k}": v
            for lang in ("en", "fr")
            for k, v in page_weights(tmp / "html-warm" / lang).items()
        }

    width = max(len(r[0]) for r in alone)
    print(f"\nfloor (all pages' code once, one process): {t_floor:.1f} s")
    print(
        f"\n{'step':{width}}  {'one kernel per page':>19}  {'warm kernel':>11}  notes (warm kernel)"
    )
    for (step, t_alone, _), (_, t_warm, note) in zip(alone, warm, strict=True):
        print(f"{step:{width}}  {t_alone:17.1f} s  {t_warm:9.1f} s  {note}")
    step = "cold build, both at once (nox's way)"
    note = (
        f"{t_both / t_floor:.2f} x floor (target <= 2, stretch 1.5); cells executed: "
        f"{cells_both['en']} en, {cells_both['fr']} fr"
    )
    print(f"{step:{width}}  {'':>19}  {t_both:9.1f} s  {note}")
    page = edited_page(DOCS).name
    step = f"code edit ({page}), kernel server"
    note = f"{cells_server} cells executed (target <= 4 s)"
    print(f"{step:{width}}  {'':>19}  {t_server:9.1f} s  {note}")
    step = f"preview, save to page ({page})"
    runs = ", ".join(f"{t:.1f}" for t in previews)
    print(f"{step:{width}}  {'':>19}  {max(previews):9.1f} s  slowest of {runs} s (target <= 3 s)")
    print(f"{'doctests (docstrings + pages)':{width}}  {'':>19}  {t_doctests:9.1f} s")
    print(f"\n{'page':44} {'KB':>8}")
    for name, size in sorted(weights.items(), key=lambda kv: -kv[1]):
        flag = "  OVER 500 KB" if size > 500_000 else ""
        print(f"{name:44} {size / 1000:8.1f}{flag}")
    print(
        f"\nheaviest page: {max(weights.values()) / 1000:.1f} KB; "
        f"machine: {os.cpu_count()} cores, {sys.platform}"
    )


if __name__ == "__main__":
    main()
