"""The execute step: run every page that misses the execution cache, once, in one kernel.

``python docs/_tools/execute.py SOURCEDIR [--existing CONNECTION_FILE]``

MyST-NB (``nb_execution_mode = "cache"``) starts a new kernel for every page whose code is
not in the jupyter-cache, and each kernel imports torch, transformers and lmnotes again.
This step executes those pages one after the other in a single kernel and writes each
result into the same cache, under the key MyST-NB looks up; the Sphinx builds that follow
(one per language, ``docs/_tools/build.py``) then read every page from the cache and execute
nothing. A build that runs while this step works waits for the pages it has not finished
(docs/_ext/lmnotes_execute.py reads the list this step keeps in the cache folder).

Each page still starts from a clean state: the kernel's namespace is emptied (``%reset
-f``), the working directory is the page's folder (MyST-NB's "local CWD"), torch's global
generator gets the seed a new process starts with, and the cells are numbered from 1.
Modules stay imported: that is the saving. A page that raises is not cached: this step
prints its traceback and exits with 1, and a build that comes to the page executes it on
its own and fails the same way.

``--existing`` runs the pages in a kernel that is already running, named by its Jupyter
connection file: the live preview (docs/_tools/preview.py) keeps one for the whole session
and runs this step before each rebuild (sphinx-autobuild's ``--pre-build``). When the
``lmnotes`` sources have changed since that kernel imported them, the next page imports
them again.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager

# The site's extensions: the build side of this step (lmnotes_execute) and the cache key.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))
from lmnotes_execute import KERNEL_ENVIRONMENT, PENDING  # noqa: E402
from lmnotes_site import execution_key  # noqa: E402

#: torch.initial_seed() of a new process (torch's default generator seed).
TORCH_DEFAULT_SEED = 67280421310721

#: What each page starts with, run in the kernel with names of its own (the page's
#: namespace gets none of them). A changed ``key`` (the lmnotes sources changed since the
#: kernel imported them) makes the page import lmnotes again.
PREPARE = """\
import gc, os, sys
from IPython import get_ipython
if getattr(sys, "lmnotes_key", key) != key:
    for name in [n for n in sys.modules if n == "lmnotes" or n.startswith("lmnotes.")]:
        del sys.modules[name]
    get_ipython().extension_manager.loaded.discard("lmnotes.display")
sys.lmnotes_key = key
gc.freeze()
os.chdir(cwd)
if "torch" in sys.modules:
    sys.modules["torch"].manual_seed(seed)
"""

#: The cell run before each page. ``gc.freeze`` moves the objects alive after the reset (the
#: imported modules) out of the collector's reach, so that emptying the namespace of the
#: next page does not walk through torch and transformers again.
SETUP = """\
get_ipython().run_line_magic("reset", "-f")
exec({prepare!r}, {{"key": {key!r}, "cwd": {cwd!r}, "seed": {seed}}})
"""

#: What a kernel kept for a preview imports as soon as it starts, so the first page does not
#: pay it: torch, transformers, every lmnotes module, and one tokenizer (lmnotes' probe of the
#: Hugging Face Hub, seconds when the Hub does not answer).
WARM_UP = """\
import importlib, pkgutil
import torch, transformers, lmnotes
for _module in pkgutil.iter_modules(lmnotes.__path__):
    importlib.import_module(f"lmnotes.{_module.name}")
lmnotes.assets.load_tokenizer("bert-base-cased")
"""


class PageFailed(Exception):
    """A cell of the page raised; the message holds the cell and its traceback."""


def renumber(notebook: nbformat.NotebookNode) -> None:
    """Number the code cells and their results 1, 2, ... as a new kernel would."""
    count = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output.execution_count = count


class _Attached(KernelManager):
    """A kernel started by another process, reached through its connection file.

    nbclient asks its kernel manager whether a kernel runs before it starts one: this one
    always runs, and is never started, restarted or shut down from here.
    """

    @property
    def has_kernel(self) -> bool:
        return True


class Kernel:
    """One kernel that executes pages one after the other, each from a clean state.

    Parameters
    ----------
    cwd : str
        Working directory of a kernel started here.
    connection_file : str or None
        A running kernel's Jupyter connection file; ``None`` starts a new kernel.
    kernel_name : str
        Jupyter kernel to start (``python3``).
    """

    def __init__(
        self, cwd: str, connection_file: str | None = None, kernel_name: str = "python3"
    ) -> None:
        self.kernel_name = kernel_name
        self.owned = connection_file is None
        if self.owned:
            # Unix sockets in a folder of their own where they exist: no TCP port to find,
            # no warning about unencrypted TCP, nothing written next to the sources.
            self.sockets = tempfile.TemporaryDirectory(prefix="lmnotes-kernel-")
            ipc = os.name == "posix"
            self.manager = KernelManager(
                kernel_name=kernel_name,
                **({"transport": "ipc", "ip": str(Path(self.sockets.name) / "k")} if ipc else {}),
            )
            self.manager.start_kernel(cwd=cwd, env={**os.environ, **KERNEL_ENVIRONMENT})
        else:
            if not Path(connection_file).is_file():
                raise FileNotFoundError(
                    f"--existing: no connection file at {connection_file} (is the kernel running?)"
                )
            self.manager = _Attached(kernel_name=kernel_name)
            self.manager.load_connection_file(connection_file)
        self._connect()

    def _connect(self) -> None:
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)
        self.client.allow_stdin = False

    def run(self, source: str, cwd: str, timeout: int = 600) -> None:
        """Run ``source`` as one cell (the preview's warm-up)."""
        self._execute(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), cwd, timeout
        )

    def _execute(self, notebook: Any, cwd: str, timeout: int) -> None:
        from nbclient import NotebookClient

        client = NotebookClient(
            notebook,
            km=self.manager,
            timeout=timeout,
            allow_errors=False,
            record_timing=False,  # timing metadata would change the cache key
            kernel_name=self.kernel_name,
            resources={"metadata": {"path": cwd}},
        )
        client.kc = self.client  # nbclient starts no client of its own
        client.execute()

    def execute(self, notebook: Any, cwd: str, key: str, timeout: int) -> tuple[Any, float]:
        """Execute ``notebook`` in ``cwd``; return it executed and the seconds it took.

        Raises
        ------
        PageFailed
            A cell raised. A kernel started here is restarted, so the next page starts clean.
        """
        from nbclient.exceptions import CellExecutionError

        setup = SETUP.format(prepare=PREPARE, key=key, cwd=cwd, seed=TORCH_DEFAULT_SEED)
        run = nbformat.from_dict(
            {**notebook, "cells": [nbformat.v4.new_code_cell(setup), *notebook.cells]}
        )
        start = time.perf_counter()
        try:
            self._execute(run, cwd, timeout)
        except CellExecutionError as error:
            if self.owned:
                self.client.stop_channels()
                self.manager.restart_kernel(now=True)
                self._connect()
            raise PageFailed(str(error)) from error
        seconds = time.perf_counter() - start
        executed = nbformat.from_dict({**notebook, "cells": run.cells[1:]})
        executed.metadata = run.metadata  # language_info, set by the kernel
        renumber(executed)
        return executed, seconds

    def shutdown(self) -> None:
        """Close the channels; shut a kernel started here down."""
        self.client.stop_channels()
        if self.owned:
            self.manager.shutdown_kernel(now=True)
            self.sockets.cleanup()


@dataclass
class Page:
    docname: str
    path: Path
    reader: Any
    notebook: Any


@dataclass
class Plan:
    """The pages that miss the execution cache, the cache they go to and its key."""

    cache_path: Path
    key: str
    timeout: int
    pages: list[Page]


def plan(srcdir: Path, confoverrides: dict[str, Any] | None = None) -> Plan:
    """The pages with code that miss the cache, read as MyST-NB reads them in a build.

    The site's configuration is loaded by Sphinx itself (no page is read), so the notebooks,
    the kernel name and the cache folder are those of the builds. Only the two extensions
    they depend on are loaded, MyST-NB and lmnotes_site (the cache folder): it halves the
    time this step takes when nothing is to execute, which the preview pays on every save.
    If the notebooks read here differed from a build's, the build would execute them:
    tests/test_build_speed.py checks that the builds execute nothing.
    """
    import io
    import re

    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader
    from sphinx.application import Sphinx

    with tempfile.TemporaryDirectory(prefix="lmnotes-plan-") as scratch:
        app = Sphinx(
            str(srcdir),
            str(srcdir),
            str(Path(scratch) / "out"),
            str(Path(scratch) / "doctrees"),
            "dummy",
            confoverrides={"extensions": "myst_nb,lmnotes_site", **(confoverrides or {})},
            status=None,
            warning=io.StringIO(),
            freshenv=True,
        )
    env = app.env
    env.find_files(app.config, app.builder)
    nb_config, md_config = env.mystnb_config, env.myst_config
    cache_path = Path(nb_config.execution_cache_path or srcdir / ".jupyter_cache")
    cache = get_cache(str(cache_path))
    pages = []
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix != ".md":
            continue
        text = path.read_text(encoding="utf-8")
        reader = create_nb_reader(str(path), md_config, nb_config, text)
        if reader is None:
            continue
        notebook = reader.read(text)
        if not any(cell.cell_type == "code" for cell in notebook.cells):
            continue
        spec = notebook.metadata.get("kernelspec", {})
        for pattern, alias in (nb_config.kernel_rgx_aliases or {}).items():
            if spec.get("name") is not None and re.fullmatch(pattern, spec["name"]):
                spec["name"] = alias  # as MyST-NB's parser does
                break
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            pages.append(Page(docname, path, reader, notebook))
    key = execution_key(Path(app.config.lmnotes_package_dir))
    return Plan(cache_path, key, nb_config.execution_timeout, pages)


def _write_pending(plan: Plan, docnames: Sequence[str]) -> None:
    """List the pages still to execute, atomically (a build may read the file at any time)."""
    plan.cache_path.mkdir(parents=True, exist_ok=True)
    status = {"pid": os.getpid(), "timeout": plan.timeout, "pages": list(docnames)}
    scratch = plan.cache_path / f".{PENDING}.{os.getpid()}"
    scratch.write_text(json.dumps(status), "utf-8")
    os.replace(scratch, plan.cache_path / PENDING)


@contextmanager
def pending(plan: Plan) -> Iterator[None]:
    """While inside: the builds know which pages to wait for. The list goes at the end."""
    _write_pending(plan, [page.docname for page in plan.pages])
    try:
        yield
    finally:
        (plan.cache_path / PENDING).unlink(missing_ok=True)


def run(plan: Plan, kernel: Kernel, *, log: Any = print) -> list[tuple[str, str]]:
    """Execute the plan's pages in ``kernel``, caching each; return the failed pages.

    Returns
    -------
    list of (str, str)
        ``(docname, error)`` for each page that raised, with the cell and its traceback.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(plan.cache_path))
    failed = []
    left = [page.docname for page in plan.pages]
    for number, page in enumerate(plan.pages, start=1):
        index = f"[{number}/{len(plan.pages)}]"
        try:
            notebook, seconds = kernel.execute(
                page.notebook, str(page.path.parent), plan.key, plan.timeout
            )
        except PageFailed as error:
            failed.append((page.docname, str(error)))
            log(f"execute {index} {page.docname}: failed")
        else:
            if page.reader.read_fmt is not None:
                record = cache.add_nb_to_project(str(page.path), read_data=page.reader.read_fmt)
            else:
                record = cache.add_nb_to_project(str(page.path))
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, record.uri, data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            log(f"execute {index} {page.docname}: {seconds:.1f} s")
        left.remove(page.docname)
        _write_pending(plan, left)
    return failed


def report(failed: list[tuple[str, str]]) -> int:
    """Print each failed page with its traceback; return the exit code (1 if any failed)."""
    for docname, error in failed:
        print(f"\nexecute: {docname} raised:\n{error}", file=sys.stderr, flush=True)
    return 1 if failed else 0


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    connection = None
    if "--existing" in args:
        at = args.index("--existing")
        if at + 1 >= len(args):
            sys.exit("--existing: give a kernel's connection file, e.g. --existing kernel.json")
        connection = args[at + 1]
        del args[at : at + 2]
    if len(args) != 1:
        sys.exit("usage: python docs/_tools/execute.py SOURCEDIR [--existing CONNECTION_FILE]")
    srcdir = Path(args[0]).resolve()
    if not (srcdir / "conf.py").is_file():
        sys.exit(f"SOURCEDIR: no conf.py in {srcdir}")
    start = time.perf_counter()
    work = plan(srcdir)
    if not work.pages:
        print("execute: every page is in the execution cache", flush=True)
        return 0
    print(f"execute: {len(work.pages)} page(s) to execute in one kernel", flush=True)
    with pending(work):
        kernel = Kernel(str(srcdir), connection)
        try:
            failed = run(work, kernel, log=lambda line: print(line, flush=True))
        finally:
            kernel.shutdown()
    print(f"execute: done in {time.perf_counter() - start:.1f} s", flush=True)
    return report(failed)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
