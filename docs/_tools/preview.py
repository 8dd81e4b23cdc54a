"""Live preview of one language: sphinx-autobuild with a warm kernel and a warm Sphinx.

``python3 -m nox -s preview [-- fr] [sphinx-autobuild options]`` runs this script. On
every save, sphinx-autobuild rebuilds and the browser reloads. Two things make a rebuild
take seconds rather than tens of seconds:

- a kernel server (``docs/_ext/lmnotes_execute.py serve``) keeps one kernel, with torch,
  transformers and lmnotes imported, for the whole session: a page whose code changed
  executes there (``LMNOTES_KERNEL_SERVER``) instead of in a new kernel;
- each rebuild runs Sphinx in a process forked from this one, which has already imported
  Sphinx and the site's extensions, instead of starting ``python -m sphinx`` afresh.
  Every rebuild still starts from a clean Sphinx state (the fork happens before any build).

Usage: ``python docs/_tools/preview.py SOURCEDIR OUTDIR [sphinx-autobuild arguments]``.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import sphinx_autobuild.__main__ as autobuild
from sphinx_autobuild.build import Builder
from sphinx_autobuild.utils import show_message

EXTENSIONS = Path(__file__).resolve().parents[1] / "_ext"


def _preload(sourcedir: Path) -> None:
    """Import Sphinx and every extension of the site's conf.py, so that forks start warm."""
    import sphinx.cmd.build  # noqa: F401

    sys.path.insert(0, str(EXTENSIONS))
    namespace: dict[str, object] = {"__file__": str(sourcedir / "conf.py")}
    exec(compile((sourcedir / "conf.py").read_text("utf-8"), "conf.py", "exec"), namespace)  # noqa: S102
    for name in namespace.get("extensions", []):
        importlib.import_module(str(name))
    importlib.import_module(str(namespace.get("html_theme", "alabaster")))


def _forked_build(sphinx_args: Sequence[str]) -> int:
    """Run one Sphinx build in a child forked from this (preloaded) process."""
    pid = os.fork()
    if pid == 0:  # the child: build, then leave without running this process's cleanup
        from sphinx.cmd.build import build_main

        try:
            code = build_main(list(sphinx_args))
        except BaseException:  # noqa: BLE001 - reported by Sphinx; the child must exit
            code = 2
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


class ForkingBuilder(Builder):
    """sphinx-autobuild's builder, with Sphinx run in a fork instead of a new interpreter."""

    def __call__(self, *, changed_paths: Sequence[Path]) -> None:
        if changed_paths:
            names = ", ".join(str(p) for p in changed_paths[:5])
            show_message(f"Detected changes ({names})")
        start = time.perf_counter()
        code = _forked_build(self.sphinx_args)
        seconds = time.perf_counter() - start
        if code:
            show_message(f"Sphinx exited with code {code}: the served pages are out of date")
        else:
            show_message(f"Rebuilt in {seconds:.1f} s; serving on {self.uri}")


def main(argv: Sequence[str]) -> None:
    if len(argv) < 2:
        sys.exit(
            "usage: python docs/_tools/preview.py SOURCEDIR OUTDIR [sphinx-autobuild arguments]"
        )
    sourcedir = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory(prefix="lmnotes-preview-") as folder:
        socket = Path(folder) / "kernel.sock"
        sys.path.insert(0, str(EXTENSIONS))
        from lmnotes_execute import start_server

        try:
            server = start_server(socket)
        except RuntimeError as error:
            sys.exit(f"preview: {error}")
        os.environ["LMNOTES_KERNEL_SERVER"] = str(socket)
        try:
            _preload(sourcedir)
            autobuild.Builder = ForkingBuilder  # sphinx-autobuild builds with ours
            autobuild.main(list(argv))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1:])
