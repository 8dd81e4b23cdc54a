"""The execution cache of the site's pages, keyed on what their outputs depend on.

``nb_execution_cache_path``: jupyter-cache keys a page on its code cells only, so the cache
folder is keyed on a hash of the ``lmnotes`` sources, of the execute step (_tools/execute.py)
and of the versions of the libraries they call; a change there re-executes every page, a
prose edit (or the French build) reuses the outputs. Folders of older keys are removed when
the build starts.

The other behaviours of the site have their own extensions: lmnotes_languages (titles,
language links, what is not translated), lmnotes_viewcode (sources without imports) and
lmnotes_mathjax (MathJax served by the site).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

from lmnotes_execute import KERNEL_ENVIRONMENT
from sphinx.application import Sphinx

#: Libraries whose version is part of the execution cache key.
KEYED_DISTRIBUTIONS = ("torch", "transformers", "tokenizers", "numpy", "matplotlib")


#: The execute step (docs/_tools/execute.py: how each page starts) is part of the key too.
EXECUTOR = Path(__file__).resolve().parents[1] / "_tools" / "execute.py"


def execution_key(package_dir: Path) -> str:
    """Hash of the package's ``.py`` sources (paths and bytes), the executor and the versions."""
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir.parent).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(EXECUTOR.read_bytes())
    # The outputs depend on the kernels' environment (not on where the checkout lies).
    digest.update(
        repr(sorted((k, v) for k, v in KERNEL_ENVIRONMENT.items() if k != "PYTHONSTARTUP")).encode()
    )
    for dist in KEYED_DISTRIBUTIONS:
        digest.update(f"{dist}=={importlib.metadata.version(dist)}".encode())
    return digest.hexdigest()[:16]


def _set_execution_cache(app: Sphinx, config: Any) -> None:
    """Point MyST-NB at ``_build/.jupyter_cache/<key>`` or ``LMNOTES_NB_CACHE``; prune."""
    if os.environ.get("LMNOTES_NB_CACHE"):
        config.nb_execution_cache_path = os.environ["LMNOTES_NB_CACHE"]
        return
    root = Path(app.confdir) / "_build" / ".jupyter_cache"
    key = execution_key(Path(config.lmnotes_package_dir))
    if root.is_dir():
        for stale in root.iterdir():
            if stale.is_dir() and stale.name != key:
                shutil.rmtree(stale, ignore_errors=True)
    config.nb_execution_cache_path = str(root / key)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("lmnotes_package_dir", "", "env", types=frozenset({str}))
    app.connect("config-inited", _set_execution_cache)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
