"""Execute the pages that miss the execution cache in one warm kernel, before Sphinx reads them.

MyST-NB (``nb_execution_mode = "cache"``) starts a new kernel for every page whose code is
not in the jupyter-cache, and each kernel imports torch, transformers and lmnotes again.
This extension runs first (``env-before-read-docs``): it finds those pages, executes them
one after the other in a single kernel and stores each result in the same cache, under the
same key MyST-NB looks up; MyST-NB then reads every page from the cache.

Each page still starts from a clean state: the kernel's namespace is emptied
(``%reset -f``), the working directory is the page's folder (MyST-NB's "local CWD"), torch's
global generator gets the seed a new process starts with, and the cells are numbered from 1.
Modules stay imported: that is the saving. A page whose execution fails here is not cached,
so MyST-NB executes it on its own and fails the strict build with the page and its
traceback, exactly as without this extension.

``LMNOTES_WARM_KERNEL=0`` turns the extension off (each page in its own kernel).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: torch.initial_seed() of a new process (torch's default generator seed).
TORCH_DEFAULT_SEED = 67280421310721

#: Code run before each page, in the same kernel; it leaves no name behind.
SETUP = """\
get_ipython().run_line_magic("reset", "-f")
__import__("os").chdir({cwd!r})
if "torch" in __import__("sys").modules:
    __import__("torch").manual_seed({seed})
"""


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


def _pages_to_execute(
    app: Sphinx, env: Any, docnames: list[str]
) -> list[tuple[str, Path, Any, Any]]:
    """(docname, path, reader, notebook) of the pages with code that miss the cache."""
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
            todo.append((docname, path, reader, notebook))
    return todo


def _alias_kernel(notebook: Any, aliases: dict[str, str]) -> None:
    """Apply ``nb_kernel_rgx_aliases`` to the kernel name, as MyST-NB's parser does."""
    spec = notebook.metadata.get("kernelspec", {})
    name = spec.get("name")
    for pattern, alias in (aliases or {}).items():
        if name is not None and re.fullmatch(pattern, name):
            spec["name"] = alias
            return


def _execute_warm(app: Sphinx, env: Any, docnames: list[str]) -> None:
    """Execute every page that misses the cache in one kernel and cache the results."""
    if not enabled() or app.config.nb_execution_mode != "cache":
        return
    todo = _pages_to_execute(app, env, docnames)
    if not todo:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb_config = env.mystnb_config
    cache = get_cache(nb_config.execution_cache_path or ".jupyter_cache")
    kernel = todo[0][3].metadata.get("kernelspec", {}).get("name", "python3")
    manager = KernelManager(kernel_name=kernel)
    manager.start_kernel(cwd=str(app.srcdir))
    logger.info(f"warm kernel: {len(todo)} page(s) to execute")
    try:
        for index, (docname, path, reader, notebook) in enumerate(todo, 1):
            setup = nbformat.v4.new_code_cell(
                SETUP.format(cwd=str(path.parent), seed=TORCH_DEFAULT_SEED)
            )
            run = nbformat.from_dict({**notebook, "cells": [setup, *notebook.cells]})
            client = NotebookClient(
                run,
                km=manager,
                timeout=nb_config.execution_timeout,
                allow_errors=False,
                record_timing=False,  # timing metadata would change the cache key
                kernel_name=kernel,
                resources={"metadata": {"path": str(path.parent)}},
            )
            start = time.perf_counter()
            try:
                client.execute()
            except CellExecutionError:
                # Left to MyST-NB: it executes the page alone and reports the traceback.
                logger.info(f"warm kernel [{index}/{len(todo)}] {docname}: failed, left to MyST-NB")
                manager.restart_kernel(now=True)
                continue
            seconds = time.perf_counter() - start
            notebook.cells = run.cells[1:]
            notebook.metadata = run.metadata  # language_info, set by the kernel
            renumber(notebook)
            if reader.read_fmt is not None:
                record = cache.add_nb_to_project(str(path), read_data=reader.read_fmt)
            else:
                record = cache.add_nb_to_project(str(path))
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, record.uri, data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            logger.info(f"warm kernel [{index}/{len(todo)}] {docname}: {seconds:.1f} s")
    finally:
        manager.shutdown_kernel(now=True)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-before-read-docs", _execute_warm, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
