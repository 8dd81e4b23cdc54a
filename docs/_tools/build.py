"""Build the site: ``python docs/_tools/build.py SRC OUT [--languages en,fr] [sphinx options]``.

1. The execute step (docs/_tools/execute.py) finds the pages that miss the execution cache.
2. One plain ``sphinx-build`` per language starts at once (``OUT/<language>/``), while
3. the execute step runs those pages in one kernel, caching each.

The builds only read the cache: each reads the other pages first, and waits for a page the
step has not finished (docs/_ext/lmnotes_execute.py). On two cores the builds' reading
overlaps the kernel's work.

Each line of output is prefixed with its language (``[en]``, ``[fr]``) or ``[execute]``.
The exit code is 1 if a page raised in the execute step, else the first non-zero exit code of
the builds; every build runs to its end, so each reports its own warnings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import execute

#: sphinx-build, but leaving without the interpreter's teardown (seconds, with torch imported
#: by autodoc); everything is written by the time Sphinx returns.
SPHINX = """\
import os, sys
from sphinx.cmd.build import main
code = main(sys.argv[1:])
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
"""


def _relay(process: subprocess.Popen, prefix: str) -> None:
    """Print the build's lines with its prefix."""
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(f"{prefix} {line}")
        sys.stdout.flush()


def _log(line: str) -> None:
    print(f"[execute] {line}", flush=True)


def _nice() -> None:
    """The builds yield the CPU to the kernel, whose pages they wait for (POSIX)."""
    os.nice(19)


def build(srcdir: Path, outdir: Path, languages: Sequence[str], sphinx_args: Sequence[str]) -> int:
    """Execute what the cache misses and build ``languages`` into ``outdir/<language>``."""
    if not languages:
        raise ValueError("languages: give at least one language, e.g. en,fr")
    work = execute.plan(srcdir)
    _log(f"{len(work.pages)} page(s) to execute in one kernel")
    builds = []
    with execute.pending(work):
        for language in languages:
            command = [
                sys.executable,
                "-c",
                SPHINX,
                "-b",
                "html",
                "-D",
                f"language={language}",
                # Colours only where this script's output goes to a terminal, not into a log.
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
                preexec_fn=_nice if work.pages and hasattr(os, "nice") else None,
            )
            relay = threading.Thread(target=_relay, args=(process, f"[{language}]"), daemon=True)
            relay.start()
            builds.append((language, process, relay))
        failed = []
        if work.pages:
            kernel = execute.Kernel(str(srcdir))
            try:
                failed = execute.run(work, kernel, log=_log)
            finally:
                kernel.shutdown()
    codes = []
    for language, process, relay in builds:
        codes.append(process.wait())
        relay.join()
        if codes[-1]:
            print(f"[{language}] sphinx-build exited with code {codes[-1]}", flush=True)
    return execute.report(failed) or next((code for code in codes if code), 0)


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
    srcdir, outdir, options = Path(args[0]).resolve(), Path(args[1]), args[2:]
    start = time.perf_counter()
    code = build(srcdir, outdir, languages, options)
    print(f"built {', '.join(languages)} in {time.perf_counter() - start:.1f} s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
