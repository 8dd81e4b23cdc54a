"""A build reads the pages the execute step is still running last, and waits for each.

The execute step (docs/_tools/execute.py) runs the pages that miss the execution cache in one
kernel and writes their outputs into MyST-NB's jupyter-cache. While it works, it keeps the
list of the pages it has still to run in ``executing.json`` in the cache folder. A build
that starts meanwhile (``docs/_tools/build.py`` starts both languages at once):

- reads the other pages first (``env-before-read-docs`` moves the listed pages last);
- before parsing a listed page (``source-read``), waits until the step has left it; MyST-NB
  then finds its outputs in the cache, or, if the page raised, executes it on its own and
  fails the strict build with the page and its traceback.

Without the file (a plain ``sphinx-build``, as Read the Docs runs), this extension does
nothing and MyST-NB executes what the cache misses, each page in a kernel of its own. A file
left by a step that was killed is not waited for: its process is gone (checked where the
platform allows it) or it has not moved for longer than a page may take.

Every kernel of a build computes on one thread (:data:`KERNEL_ENVIRONMENT`, set in the
build's environment, which MyST-NB's kernels inherit; the execute step gives it to its own):
torch splits a float reduction by thread, so a loss printed in full gives other last digits
on a machine with another number of cores (4.982818603515625 with two threads,
4.982819080352783 with one). ``LMNOTES_MESSAGES=1`` makes the kernels mark the words of
outputs as messages (:mod:`lmnotes.messages`), which lmnotes_outputs renders in the page's
language, from the first cell on (``PYTHONSTARTUP``: docs/_ext/lmnotes_kernel_startup.py).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

#: The environment every kernel of a build starts with.
KERNEL_ENVIRONMENT = {
    "OMP_NUM_THREADS": "1",
    "LMNOTES_MESSAGES": "1",
    "PYTHONSTARTUP": str(Path(__file__).with_name("lmnotes_kernel_startup.py")),
}

#: The execute step's list of pages, in the execution cache's folder.
PENDING = "executing.json"

#: How often a waiting build looks at the list again, in seconds.
POLL = 0.1


def pending(cache_path: str | Path) -> list[str]:
    """The pages the execute step has still to run; ``[]`` when no step is running.

    A list whose step is gone counts as empty: its process no longer exists (POSIX), or the
    file has not changed for longer than the page timeout it records, plus a minute.
    """
    path = Path(cache_path) / PENDING
    try:
        status = json.loads(path.read_text("utf-8"))
        changed = path.stat().st_mtime
    except (OSError, ValueError):
        return []
    if time.time() - changed > float(status.get("timeout", 600)) + 60:
        return []
    if os.name == "posix":
        try:
            os.kill(int(status["pid"]), 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass  # alive, owned by someone else
    return [str(name) for name in status.get("pages", [])]


def _cache_path(app: Any) -> str:
    return app.env.mystnb_config.execution_cache_path or ".jupyter_cache"


def _read_last(app: Any, env: Any, docnames: list[str]) -> None:
    """Move the pages still executing to the end of the reading order."""
    waiting = [name for name in pending(_cache_path(app)) if name in docnames]
    if not waiting:
        return
    docnames[:] = [name for name in docnames if name not in waiting] + waiting
    from sphinx.util import logging

    logging.getLogger(__name__).info(
        f"execute step running: {len(waiting)} page(s) read last, once executed"
    )


def _wait(app: Any, docname: str, source: list[str]) -> None:
    """Before Sphinx parses a page the step is still running: wait until it has left it."""
    start = time.perf_counter()
    while docname in pending(_cache_path(app)):
        time.sleep(POLL)
    waited = time.perf_counter() - start
    if waited >= POLL:
        from sphinx.util import logging

        logging.getLogger(__name__).info(f"{docname}: waited {waited:.1f} s for the execute step")


def setup(app: Any) -> dict[str, Any]:
    os.environ.update(KERNEL_ENVIRONMENT)  # inherited by MyST-NB's kernels
    app.connect("env-before-read-docs", _read_last, priority=900)
    app.connect("source-read", _wait, priority=100)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
