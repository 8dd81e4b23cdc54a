"""Build the site in several languages at once: ``python docs/_tools/build.py SRC OUT [options]``.

The languages build in parallel processes (``OUT/<language>/``), the first one started first.
Pages missing the execution cache are executed by the first build that claims them
(docs/_ext/lmnotes_execute.py): the English build claims every page before it reads, so the
French build, started once English has claimed, executes no cell; it reads its other pages
while English executes, then waits for each executed page. On two cores this overlaps the
French build with the English kernel instead of running it after.

Each line of output is prefixed with its language. The exit code is the first non-zero exit
code of the builds; every build runs to its end, so each reports its own warnings.

Options: ``--languages en,fr`` (default), then any ``sphinx-build`` options (``-E -n -W
--keep-going``...).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

#: sphinx-build, but leaving without the interpreter's teardown: with torch and transformers
#: imported (autodoc), tearing the interpreter down takes about two seconds, and everything
#: is written (and the kernel shut down) by the time Sphinx returns.
SPHINX = """\
import os, sys
from sphinx.cmd.build import main
code = main(sys.argv[1:])
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
"""

#: A line the first build prints once its pages are claimed (lmnotes_execute or Sphinx).
CLAIMED = (
    "warm kernel:",
    "reading sources",
    "no targets are out of date",
    "updating environment: 0",
)


def _relay(process: subprocess.Popen, language: str, started: threading.Event) -> None:
    """Print the build's lines with its language; set ``started`` once pages are claimed."""
    assert process.stdout is not None
    for line in process.stdout:
        if any(marker in line for marker in CLAIMED):
            started.set()
        sys.stdout.write(f"[{language}] {line}")
        sys.stdout.flush()
    started.set()


def build(srcdir: Path, outdir: Path, languages: Sequence[str], sphinx_args: Sequence[str]) -> int:
    """Build ``languages`` into ``outdir/<language>``; return the first non-zero exit code."""
    if not languages:
        raise ValueError("languages: give at least one language, e.g. en,fr")
    processes = []
    relays = []
    for index, language in enumerate(languages):
        command = [
            sys.executable,
            "-c",
            SPHINX,
            "-b",
            "html",
            "-D",
            f"language={language}",
            # Colours only where this script's own output goes to a terminal, not into a log.
            *(() if sys.stdout.isatty() else ("--no-color",)),
            *sphinx_args,
            str(srcdir),
            str(outdir / language),
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # The later builds mostly wait for the first one's kernel: they take the CPU it
            # leaves (on two cores, competing with torch's threads slows everything down).
            preexec_fn=(lambda: os.nice(19)) if index else None,
        )
        claimed = threading.Event()
        relay = threading.Thread(target=_relay, args=(process, language, claimed), daemon=True)
        relay.start()
        processes.append((language, process))
        relays.append(relay)
        if index == 0 and len(languages) > 1:
            claimed.wait()  # the others start once the first has claimed the pages to execute
    codes = []
    for (language, process), relay in zip(processes, relays, strict=True):
        codes.append(process.wait())
        relay.join()
        if codes[-1]:
            print(f"[{language}] sphinx-build exited with code {codes[-1]}", flush=True)
    return next((code for code in codes if code), 0)


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    languages = ["en", "fr"]
    if "--languages" in args:
        at = args.index("--languages")
        if at + 1 >= len(args):
            sys.exit("--languages: give a comma-separated list, e.g. --languages en,fr")
        languages = [code for code in args[at + 1].split(",") if code]
        del args[at : at + 2]
    if len(args) < 2:
        sys.exit("usage: python docs/_tools/build.py SRCDIR OUTDIR [--languages en,fr] [options]")
    srcdir, outdir, options = Path(args[0]), Path(args[1]), args[2:]
    start = time.perf_counter()
    code = build(srcdir, outdir, languages, options)
    print(f"built {', '.join(languages)} in {time.perf_counter() - start:.1f} s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
