"""Live preview of one language: sphinx-autobuild, with one kernel kept for the session.

``python3 -m nox -s preview [-- fr] [sphinx-autobuild options]`` runs this script:
``python docs/_tools/preview.py SOURCEDIR OUTDIR [sphinx-autobuild arguments]``.

It starts a Jupyter kernel, imports torch, transformers and lmnotes in it, and runs
sphinx-autobuild unchanged, with the execute step as its ``--pre-build`` command, pointed at
that kernel by its connection file (``execute.py SOURCEDIR --existing kernel.json``). On
every save, the step runs the pages whose code changed in the kept kernel (a change to
``lmnotes`` makes the pages import it again), then autobuild runs its plain ``sphinx-build``,
which reads the outputs from the cache, and reloads the browser. A page that raises stops
that rebuild with its traceback; the server keeps serving.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import execute
import sphinx_autobuild.__main__ as autobuild
from jupyter_client.manager import KernelManager


def start_kernel(connection_file: Path, cwd: Path) -> KernelManager:
    """Start a kernel whose connection file is ``connection_file``, with the imports done."""
    import os

    start = time.perf_counter()
    manager = KernelManager(kernel_name="python3", connection_file=str(connection_file))
    manager.start_kernel(cwd=str(cwd), env={**os.environ, **execute.KERNEL_ENVIRONMENT})
    kernel = execute.Kernel(str(cwd), str(connection_file))
    try:
        kernel.run(execute.WARM_UP, str(cwd))
    finally:
        kernel.shutdown()  # closes this client only: the kernel keeps running
    print(f"preview: kernel ready in {time.perf_counter() - start:.1f} s", flush=True)
    return manager


def main(argv: Sequence[str]) -> None:
    if len(argv) < 2:
        sys.exit(
            "usage: python docs/_tools/preview.py SOURCEDIR OUTDIR [sphinx-autobuild arguments]"
        )
    sourcedir = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory(prefix="lmnotes-preview-") as folder:
        connection = Path(folder) / "kernel.json"
        manager = start_kernel(connection, sourcedir)
        step = [sys.executable, str(Path(execute.__file__).resolve()), str(sourcedir)]
        try:
            autobuild.main(
                [*argv, "--pre-build", shlex.join([*step, "--existing", str(connection)])]
            )
        finally:
            manager.shutdown_kernel(now=True)


if __name__ == "__main__":
    main(sys.argv[1:])
