"""Execute the pages that miss the execution cache in one warm kernel, while Sphinx reads.

MyST-NB (``nb_execution_mode = "cache"``) starts a new kernel for every page whose code is
not in the jupyter-cache, and each kernel imports torch, transformers and lmnotes again.
This extension takes over before Sphinx reads (``env-before-read-docs``):

- it finds the pages that miss the cache and executes them one after the other in a single
  kernel, in a background thread, while Sphinx reads the pages that need no execution
  (those are moved to the front of the reading order);
- when Sphinx comes to a page that was executed (``source-read``), it waits for it and
  stores the result in the same cache, under the same key MyST-NB looks up; MyST-NB then
  reads the page from the cache and executes nothing.

Each page still starts from a clean state: the kernel's namespace is emptied
(``%reset -f``), the working directory is the page's folder (MyST-NB's "local CWD"),
torch's global generator gets the seed a new process starts with, and the cells are
numbered from 1. Modules stay imported: that is the saving. The objects alive after the
reset (the imported modules) are moved out of the garbage collector's reach
(``gc.freeze``), so that emptying the namespace of the next page does not walk through
torch and transformers again. A page whose execution fails here is not cached, so MyST-NB
executes it on its own and fails the strict build with the page and its traceback, exactly
as without this extension.

A kernel that outlives the build makes a code edit cheap: ``python
docs/_ext/lmnotes_execute.py serve SOCKET`` starts a kernel server (``nox -s preview``
starts one), and a build run with ``LMNOTES_KERNEL_SERVER=SOCKET`` executes its pages
there. The server restarts its kernel when the ``lmnotes`` sources or the keyed library
versions change (the execution cache key), and after a page fails.

``LMNOTES_WARM_KERNEL=0`` turns the extension off (each page in its own kernel, MyST-NB
alone).

Whichever way a page runs, its kernel computes on one thread (:data:`KERNEL_ENVIRONMENT`,
set in the build's environment, which every kernel it starts inherits): torch splits a
float reduction by thread, so a loss printed in full gives other last digits on a machine
with another number of cores (4.982818603515625 with two threads, 4.982819080352783 with
one); and two builds at once do not oversubscribe the cores.
"""

from __future__ import annotations

import concurrent.futures
import fcntl
import hashlib
import json
import os
import re
import secrets
import signal
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

#: torch.initial_seed() of a new process (torch's default generator seed).
TORCH_DEFAULT_SEED = 67280421310721

#: Code run before each page, in the same kernel; it leaves no name behind.
SETUP = """\
get_ipython().run_line_magic("reset", "-f")
__import__("gc").freeze()
__import__("os").chdir({cwd!r})
if "torch" in __import__("sys").modules:
    __import__("torch").manual_seed({seed})
"""

#: Run once when a kernel server starts its kernel: what the first page pays otherwise, the
#: imports and lmnotes' probe of the Hugging Face Hub (seconds when the Hub does not answer;
#: lmnotes.assets keeps the answer for five minutes), made by loading one tokenizer.
WARM_UP = """\
import importlib, pkgutil
import torch, transformers, lmnotes
for _module in pkgutil.iter_modules(lmnotes.__path__):
    importlib.import_module(f"lmnotes.{_module.name}")
lmnotes.assets.load_tokenizer("bert-base-cased")
"""


#: The environment every kernel of a build starts with (applied by :func:`setup`).
KERNEL_ENVIRONMENT = {"OMP_NUM_THREADS": "1"}


def enabled() -> bool:
    """Whether the warm kernel is on (``LMNOTES_WARM_KERNEL`` unset or not ``0``)."""
    return os.environ.get("LMNOTES_WARM_KERNEL", "1") != "0"


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


class PageFailed(Exception):
    """A page raised in the warm kernel; MyST-NB executes it alone and reports the traceback."""


class WarmKernel:
    """One kernel that executes pages one after the other, each from a clean state.

    Parameters
    ----------
    kernel_name : str
        Jupyter kernel to start (``python3``).
    cwd : str
        Working directory of the kernel process.
    warm_up : bool
        Import torch, transformers and every lmnotes module as soon as the kernel starts.
    """

    def __init__(self, kernel_name: str, cwd: str, *, warm_up: bool = False) -> None:
        from jupyter_client.manager import KernelManager

        self.kernel_name = kernel_name
        # Unix sockets in a folder of their own: no TCP port to find, no warning about
        # unencrypted TCP, and nothing written next to the sources.
        self.sockets = tempfile.TemporaryDirectory(prefix="lmnotes-kernel-")
        self.manager = KernelManager(
            kernel_name=kernel_name, transport="ipc", ip=str(Path(self.sockets.name) / "kernel")
        )
        self.manager.start_kernel(cwd=cwd)
        self._connect()
        if warm_up:
            warm = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(WARM_UP)])
            self._client(warm, cwd, timeout=600).execute()

    def _connect(self) -> None:
        """One client for every page: its channels are closed by :meth:`shutdown`."""
        self.connection = self.manager.client()
        self.connection.start_channels()
        self.connection.wait_for_ready(timeout=60)
        self.connection.allow_stdin = False

    def _client(self, notebook: Any, cwd: str, timeout: int) -> Any:
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
        client.kc = self.connection  # nbclient starts no client of its own
        return client

    def execute(self, notebook: Any, cwd: str, timeout: int) -> tuple[Any, float]:
        """Execute ``notebook`` with ``cwd`` as working directory; return it and the seconds.

        Raises
        ------
        PageFailed
            A cell raised; the kernel is restarted, so the next page starts clean.
        """
        from nbclient.exceptions import CellExecutionError

        setup = nbformat.v4.new_code_cell(SETUP.format(cwd=cwd, seed=TORCH_DEFAULT_SEED))
        run = nbformat.from_dict({**notebook, "cells": [setup, *notebook.cells]})
        start = time.perf_counter()
        try:
            self._client(run, cwd, timeout).execute()
        except CellExecutionError as error:
            self.connection.stop_channels()
            self.manager.restart_kernel(now=True)
            self._connect()
            raise PageFailed(str(error).splitlines()[0] if str(error) else "") from error
        seconds = time.perf_counter() - start
        executed = nbformat.from_dict({**notebook, "cells": run.cells[1:]})
        executed.metadata = run.metadata  # language_info, set by the kernel
        renumber(executed)
        return executed, seconds

    def shutdown(self) -> None:
        self.connection.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self.sockets.cleanup()


# -- Kernel server: a warm kernel that outlives the build ------------------------------------


def _key_file(socket: Path) -> Path:
    return socket.with_name(socket.name + ".key")


def _current_key() -> str:
    """The execution cache key of the lmnotes the kernel imports (see lmnotes_site)."""
    import importlib.util

    from lmnotes_site import execution_key

    spec = importlib.util.find_spec("lmnotes")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("lmnotes is not installed in this environment")
    return execution_key(Path(next(iter(spec.submodule_search_locations))))


def _terminate(signum: int, frame: Any) -> None:
    sys.exit(0)  # SystemExit: the server's ``finally`` shuts the kernel down


def serve(socket: Path, *, kernel_name: str = "python3") -> None:
    """Serve a warm kernel on the Unix socket ``socket`` until interrupted.

    The kernel starts at once and imports torch, transformers and lmnotes. Requests are
    JSON: the execution cache key, the page's folder, the timeout and the notebook. The
    kernel is started again when a request's key differs from the key of the sources it
    imported (lmnotes or a keyed library changed), and after a page fails.
    """
    from multiprocessing.connection import Listener

    socket = socket.resolve()
    socket.parent.mkdir(parents=True, exist_ok=True)
    socket.unlink(missing_ok=True)
    cwd = str(Path(__file__).resolve().parents[1])

    def start() -> tuple[WarmKernel, str]:
        begin = time.perf_counter()
        key = _current_key()
        kernel = WarmKernel(kernel_name, cwd, warm_up=True)
        print(
            f"lmnotes kernel server: kernel ready in {time.perf_counter() - begin:.1f} s",
            flush=True,
        )
        return kernel, key

    kernel, kernel_key = start()
    authkey = secrets.token_bytes(32)
    key_file = _key_file(socket)
    try:
        with Listener(str(socket), family="AF_UNIX", authkey=authkey) as listener:
            key_file.touch(mode=0o600)
            key_file.write_bytes(authkey)  # clients connect once this file exists
            print(f"lmnotes kernel server: listening on {socket}", flush=True)
            while True:
                # nbclient replaces the SIGTERM handler while it executes (and restores the
                # default, which would leave the socket behind): put ours back each time.
                signal.signal(signal.SIGTERM, _terminate)
                with listener.accept() as connection:
                    request = json.loads(connection.recv_bytes())
                    if request["key"] != kernel_key:
                        kernel.shutdown()
                        print("lmnotes kernel server: sources changed, new kernel", flush=True)
                        kernel, kernel_key = start()
                    notebook = nbformat.from_dict(request["notebook"])
                    try:
                        executed, seconds = kernel.execute(
                            notebook, request["cwd"], request["timeout"]
                        )
                    except PageFailed as error:
                        reply = {"ok": False, "error": str(error)}
                    else:
                        reply = {"ok": True, "notebook": executed, "seconds": seconds}
                    try:
                        connection.send_bytes(json.dumps(reply).encode())
                    except OSError:  # the build was interrupted: keep serving
                        continue
                    state = f"{reply['seconds']:.1f} s" if reply["ok"] else "failed"
                    print(f"lmnotes kernel server: {request['cwd']}: {state}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        kernel.shutdown()
        socket.unlink(missing_ok=True)
        key_file.unlink(missing_ok=True)


def start_server(socket: Path, *, stdout: Any = None, timeout: float = 300.0) -> Any:
    """Start ``serve`` on ``socket`` in a new process; return it once it listens.

    The server warms its kernel up before it listens, which takes seconds. Used by the
    preview (docs/_tools/preview.py), the benchmark and the tests.

    Raises
    ------
    RuntimeError
        The server stopped, or did not listen within ``timeout`` seconds.
    """
    import subprocess

    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "serve", str(socket)], stdout=stdout
    )
    deadline = time.monotonic() + timeout
    while not _key_file(socket).exists():
        if server.poll() is not None:
            raise RuntimeError(f"the kernel server on {socket} stopped (exit code {server.poll()})")
        if time.monotonic() > deadline:
            server.terminate()
            raise RuntimeError(f"the kernel server on {socket} did not listen within {timeout:g} s")
        time.sleep(0.05)
    return server


class RemoteKernel:
    """The client side of :func:`serve`: same ``execute`` as :class:`WarmKernel`."""

    def __init__(self, socket: Path, key: str) -> None:
        self.socket = socket
        self.key = key
        if not socket.exists() or not _key_file(socket).exists():
            raise RuntimeError(
                f"LMNOTES_KERNEL_SERVER={socket}: no kernel server listens there; start one "
                f"with `python docs/_ext/lmnotes_execute.py serve {socket}` or unset the variable"
            )

    def execute(self, notebook: Any, cwd: str, timeout: int) -> tuple[Any, float]:
        from multiprocessing.connection import Client

        request = {"key": self.key, "cwd": cwd, "timeout": timeout, "notebook": notebook}
        authkey = _key_file(self.socket).read_bytes()
        with Client(str(self.socket), family="AF_UNIX", authkey=authkey) as connection:
            connection.send_bytes(json.dumps(request).encode())
            reply = json.loads(connection.recv_bytes())
        if not reply["ok"]:
            raise PageFailed(reply["error"])
        return nbformat.from_dict(reply["notebook"]), reply["seconds"]

    def shutdown(self) -> None:
        """The server's kernel outlives the build."""


# -- The Sphinx side ---------------------------------------------------------------------------


@dataclass
class Page:
    docname: str
    path: Path
    reader: Any
    notebook: Any
    result: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)
    claim: int | None = None  # file descriptor of the claim this build holds on the page


@dataclass
class Run:
    """The pages one build executes, the thread executing them, the pages others execute."""

    pages: dict[str, Page]
    elsewhere: dict[str, Page] = field(default_factory=dict)
    thread: threading.Thread | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    done: int = 0


_RUNS: weakref.WeakKeyDictionary[Any, Run] = weakref.WeakKeyDictionary()


def _pages_to_execute(env: Any, docnames: list[str]) -> list[Page]:
    """The pages with code that miss the cache, in reading order."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    nb_config = env.mystnb_config
    cache = get_cache(nb_config.execution_cache_path or ".jupyter_cache")
    todo = []
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        if path.suffix != ".md":
            continue
        text = path.read_text(encoding="utf-8")
        reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
        if reader is None:
            continue
        notebook = reader.read(text)
        if not any(cell.cell_type == "code" for cell in notebook.cells):
            continue
        _alias_kernel(notebook, nb_config.kernel_rgx_aliases)
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            todo.append(Page(docname, path, reader, notebook))
    return todo


def _alias_kernel(notebook: Any, aliases: dict[str, str]) -> None:
    """Apply ``nb_kernel_rgx_aliases`` to the kernel name, as MyST-NB's parser does."""
    spec = notebook.metadata.get("kernelspec", {})
    name = spec.get("name")
    for pattern, alias in (aliases or {}).items():
        if name is not None and re.fullmatch(pattern, name):
            spec["name"] = alias
            return


def _claim_file(cache_path: str, notebook: Any) -> Path:
    """The lock file of a page's code, in the execution cache's folder."""
    code = "\x00".join(c.source for c in notebook.cells if c.cell_type == "code")
    digest = hashlib.sha256(code.encode()).hexdigest()[:24]
    # Inside the cache folder: lmnotes_site removes the folders of other keys beside it.
    folder = Path(cache_path) / "claims"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{digest}.lock"


def _claim(cache_path: str, page: Page) -> bool:
    """Take the page for this build, unless another build running now holds it.

    Two builds on one cache (English and French at once: docs/_tools/build.py) must not
    execute a page twice: the first to claim a page executes it and holds an exclusive
    ``flock`` until the result is cached; the other waits for that lock, then reads the
    cache. A lock dies with its process, so a crashed build blocks nobody.
    """
    descriptor = os.open(_claim_file(cache_path, page.notebook), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return False
    page.claim = descriptor
    return True


def _release(page: Page) -> None:
    if page.claim is not None:
        fcntl.flock(page.claim, fcntl.LOCK_UN)
        os.close(page.claim)
        page.claim = None


def _split(cache_path: str, todo: list[Page]) -> tuple[dict[str, Page], dict[str, Page]]:
    """The pages this build executes and the pages another build is executing.

    A page is checked against the cache again once claimed: another build may have cached
    it (and let its claim go) between the first look and the claim.
    """
    from jupyter_cache import get_cache

    cache = get_cache(cache_path)
    mine: dict[str, Page] = {}
    elsewhere: dict[str, Page] = {}
    for page in todo:
        if not _claim(cache_path, page):
            elsewhere[page.docname] = page
            continue
        try:
            cache.match_cache_notebook(page.notebook)
        except KeyError:
            mine[page.docname] = page
        else:
            _release(page)  # cached meanwhile: nothing to execute
    return mine, elsewhere


def _wait_for_claim(cache_path: str, page: Page) -> None:
    """Block until the build that claimed the page has cached it (or stopped)."""
    descriptor = os.open(_claim_file(cache_path, page.notebook), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
    finally:
        os.close(descriptor)  # closing releases the lock


def _remote(app: Any) -> RemoteKernel | None:
    """The kernel server named by ``LMNOTES_KERNEL_SERVER``, if the variable is set."""
    server = os.environ.get("LMNOTES_KERNEL_SERVER")
    if not server:
        return None
    from lmnotes_site import execution_key

    return RemoteKernel(Path(server), execution_key(Path(app.config.lmnotes_package_dir)))


def _execute_all(
    app: Any, run: Run, remote: RemoteKernel | None, kernel_name: str, timeout: int
) -> None:
    """The thread: execute every page in order, each result into its future."""
    pages = list(run.pages.values())
    try:
        executor = remote or WarmKernel(kernel_name, str(app.srcdir))
    except BaseException as error:  # noqa: BLE001 - handed to the reading thread
        for page in pages:
            page.result.set_exception(error)
        return
    try:
        for page in pages:
            if run.stop.is_set():
                page.result.cancel()
                continue
            try:
                page.result.set_result(
                    executor.execute(page.notebook, str(page.path.parent), timeout)
                )
            except BaseException as error:  # noqa: BLE001 - handed to the reading thread
                page.result.set_exception(error)
    finally:
        executor.shutdown()


def _start(app: Any, env: Any, docnames: list[str]) -> None:
    """Start executing the pages that miss the cache; read the other pages first."""
    if not enabled() or app.config.nb_execution_mode != "cache":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    todo = _pages_to_execute(env, docnames)
    if not todo:
        return
    remote = _remote(app)  # a missing server fails the build here, before any reading
    run = Run(*_split(env.mystnb_config.execution_cache_path or ".jupyter_cache", todo))
    if not run.pages and not run.elsewhere:
        return
    _RUNS[app] = run
    # Sphinx reads the pages without execution while the kernel works.
    waiting = [*run.pages, *run.elsewhere]
    docnames[:] = [d for d in docnames if d not in waiting] + waiting
    if run.elsewhere:
        logger.info(f"warm kernel: {len(run.elsewhere)} page(s) being executed by another build")
    if not run.pages:
        return
    kernel = todo[0].notebook.metadata.get("kernelspec", {}).get("name", "python3")
    timeout = env.mystnb_config.execution_timeout
    where = os.environ.get("LMNOTES_KERNEL_SERVER") or "one kernel"
    logger.info(f"warm kernel: {len(run.pages)} page(s) to execute in {where}, while Sphinx reads")
    run.thread = threading.Thread(
        target=_execute_all,
        args=(app, run, remote, kernel, timeout),
        name="lmnotes-warm",
        daemon=True,
    )
    run.thread.start()


def _collect(app: Any, docname: str, source: list[str]) -> None:
    """Before Sphinx parses an executed page: wait for it and put it in the cache."""
    run = _RUNS.get(app)
    if run is None:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    cache_path = app.env.mystnb_config.execution_cache_path or ".jupyter_cache"
    if docname in run.elsewhere:
        start = time.perf_counter()
        _wait_for_claim(cache_path, run.elsewhere[docname])
        waited = time.perf_counter() - start
        logger.info(f"warm kernel: {docname} executed by another build (waited {waited:.1f} s)")
        return  # in the cache now; if that build failed, MyST-NB executes it and fails
    page = run.pages.get(docname)
    if page is None:
        return
    run.done += 1
    index = f"[{run.done}/{len(run.pages)}]"
    try:
        notebook, seconds = page.result.result()
    except PageFailed:
        _release(page)
        logger.info(f"warm kernel {index} {docname}: failed, left to MyST-NB")
        return
    except BaseException:
        _release(page)
        raise
    cache = get_cache(cache_path)
    if page.reader.read_fmt is not None:
        record = cache.add_nb_to_project(str(page.path), read_data=page.reader.read_fmt)
    else:
        record = cache.add_nb_to_project(str(page.path))
    cache.cache_notebook_bundle(
        CacheBundleIn(notebook, record.uri, data={"execution_seconds": seconds}),
        check_validity=False,
        overwrite=True,
    )
    _release(page)  # another build waiting for this page reads it from the cache now
    logger.info(f"warm kernel {index} {docname}: {seconds:.1f} s")


def _finish(app: Any, exception: Exception | None) -> None:
    """Stop the thread (a build that ends early leaves no kernel behind)."""
    run = _RUNS.pop(app, None)
    if run is None:
        return
    run.stop.set()
    if run.thread is not None:
        run.thread.join()
    for page in run.pages.values():
        _release(page)


def setup(app: Any) -> dict[str, Any]:
    os.environ.update(KERNEL_ENVIRONMENT)  # inherited by MyST-NB's kernels and the warm one
    app.connect("env-before-read-docs", _start, priority=900)
    app.connect("source-read", _collect, priority=100)
    app.connect("build-finished", _finish)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "serve":
        sys.exit("usage: python docs/_ext/lmnotes_execute.py serve SOCKET")
    os.environ.update(KERNEL_ENVIRONMENT)
    serve(Path(sys.argv[2]))
