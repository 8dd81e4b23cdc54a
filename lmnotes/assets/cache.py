"""The lmnotes cache: where ready tokenizer and model folders live, and how they are kept intact.

A folder is built once into a temporary sibling and renamed into place (:func:`publish`),
then checked file by file against SHA-256 values at every load (:func:`verify_dir`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from lmnotes.assets.errors import AssetChecksumError

__all__ = [
    "RECIPE_VERSION",
    "cache_dir",
    "clear_cache",
    "forget_on_clear",
    "json_bytes",
    "publish",
    "sha256_bytes",
    "sha256_file",
    "verify_dir",
]

#: Version of the layout and recipes of the cached folders: bump it when either changes
#: (folder names are keyed on it, so old folders are left aside, not reused).
RECIPE_VERSION = 2

# Functions clear_cache calls first, to forget what this process holds (forget_on_clear).
_FORGETTERS: list[Callable[[], None]] = []


def cache_dir() -> Path:
    """Folder where lmnotes writes ready tokenizer and model directories.

    ``$LMNOTES_CACHE`` if set, else ``$XDG_CACHE_HOME/lmnotes``, else
    ``~/.cache/lmnotes``. Read at each call; the folder is created on first write.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> from lmnotes.assets import cache_dir
    >>> with mock.patch.dict(os.environ, {"LMNOTES_CACHE": "/tmp/lmnotes-example"}):
    ...     print(cache_dir())
    /tmp/lmnotes-example
    >>> env = {k: v for k, v in os.environ.items() if k != "LMNOTES_CACHE"}
    >>> with mock.patch.dict(os.environ, {**env, "XDG_CACHE_HOME": "/tmp/xdg"}, clear=True):
    ...     print(cache_dir())
    /tmp/xdg/lmnotes
    """
    if env := os.environ.get("LMNOTES_CACHE"):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "lmnotes"


def forget_on_clear(forget: Callable[[], None]) -> Callable[[], None]:
    """Have :func:`clear_cache` call ``forget`` before it deletes anything.

    For what a module keeps in memory from the cache (the loaded causal LM), so that
    clearing the cache also forgets it.

    Parameters
    ----------
    forget : callable
        Called without arguments, in the order of registration.

    Returns
    -------
    callable
        ``forget`` itself.
    """
    _FORGETTERS.append(forget)
    return forget


def clear_cache() -> list[Path]:
    """Delete what lmnotes wrote in :func:`cache_dir` and forget loaded models.

    Only the ``tokenizers`` and ``models`` subfolders are removed (the cache folder
    may be shared, e.g. ``LMNOTES_CACHE=.``); the folder itself goes if left empty.

    Returns
    -------
    list of pathlib.Path
        The subfolders that were removed.

    Examples
    --------
    >>> import os, tempfile
    >>> from unittest import mock
    >>> from lmnotes.assets import clear_cache, load_tokenizer
    >>> with mock.patch.dict(os.environ, {"LMNOTES_CACHE": tempfile.mkdtemp()}):
    ...     _ = load_tokenizer("gpt2", source="packages")
    ...     print([p.name for p in clear_cache()], clear_cache())
    ['tokenizers'] []
    """
    for forget in _FORGETTERS:
        forget()
    root = cache_dir()
    removed = []
    for sub in ("tokenizers", "models"):
        if (root / sub).exists():
            shutil.rmtree(root / sub)
            removed.append(root / sub)
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()
    return removed


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's content, read in chunks.

    Parameters
    ----------
    path : pathlib.Path

    Returns
    -------
    str
        The digest in hex.
    """
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def sha256_bytes(data: bytes) -> str:
    """SHA-256 of ``data``, in hex.

    Parameters
    ----------
    data : bytes

    Returns
    -------
    str

    Examples
    --------
    >>> from lmnotes.assets.cache import sha256_bytes
    >>> sha256_bytes(b"")[:16]
    'e3b0c44298fc1c14'
    """
    return hashlib.sha256(data).hexdigest()


def json_bytes(obj: object) -> bytes:
    """``obj`` as the UTF-8 JSON lmnotes writes (indented, non-ASCII kept, final newline).

    The same object always gives the same bytes, so their SHA-256 can be pinned.

    Parameters
    ----------
    obj : object
        Anything :func:`json.dumps` accepts.

    Returns
    -------
    bytes

    Examples
    --------
    >>> from lmnotes.assets.cache import json_bytes
    >>> json_bytes({"do_lower_case": False, "name": "café"}).decode("utf-8").splitlines()
    ['{', '  "do_lower_case": false,', '  "name": "café"', '}']
    """
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def verify_dir(
    directory: Path,
    expected: Mapping[str, str],
    *,
    ignore: tuple[str, ...] = (),
    only: Collection[str] | None = None,
) -> None:
    """Check that ``directory`` holds exactly ``expected`` (name -> SHA-256).

    ``only`` restricts the hashing to some files (the listing is always checked).

    Parameters
    ----------
    directory : pathlib.Path
        A cached folder.
    expected : mapping of str to str
        File name to SHA-256 (hex) of every file the folder must hold.
    ignore : tuple of str
        Names allowed in the folder without being checked (a manifest).
    only : collection of str, optional
        Hash only these files of ``expected``; ``None`` hashes them all.

    Raises
    ------
    AssetChecksumError
        A file is missing, extra, or has another SHA-256; the message says how to rebuild.
    """
    hint = (
        f"The cached copy in {directory} is corrupt or was edited; delete that folder "
        "(or call lmnotes.assets.clear_cache()) to rebuild it."
    )
    extra = sorted({p.name for p in directory.iterdir()} - set(ignore) - set(expected))
    if extra:
        path = directory / extra[0]
        raise AssetChecksumError(
            path, None, sha256_file(path) if path.is_file() else "a folder", hint
        )
    for name, sha in sorted(expected.items()):
        if only is not None and name not in only:
            continue
        path = directory / name
        actual = sha256_file(path) if path.is_file() else None
        if actual != sha:
            raise AssetChecksumError(path, sha, actual, hint)


def publish(target: Path, build: Callable[[Path], None]) -> None:
    """Build into a temporary sibling folder, then rename it to ``target`` atomically.

    Readers never see a half-written folder; when two processes build at once, the
    first rename wins and the other build is discarded.

    Parameters
    ----------
    target : pathlib.Path
        The folder to create (its parent is created if needed).
    build : callable
        Called with the empty temporary folder; writes the files into it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not target.is_dir():  # not a concurrent build that finished first
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
