"""Asset errors: a failed SHA-256 check, a source that cannot serve, a missing package.

There is no silent fallback: every failure to provide a verified asset raises one of these.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["AssetChecksumError", "AssetUnavailableError", "MissingAssetPackageError"]


class AssetChecksumError(ValueError):
    """A file's SHA-256 differs from the expected one (or the file is missing/extra).

    Attributes
    ----------
    path : pathlib.Path
        The file that was checked.
    expected : str or None
        Expected SHA-256 (hex); ``None`` when the file should not exist.
    actual : str or None
        SHA-256 of the file on disk (hex); ``None`` when the file is missing.
    """

    def __init__(self, path: Path, expected: str | None, actual: str | None, hint: str = ""):
        self.path, self.expected, self.actual = Path(path), expected, actual
        exp = expected or "no such file"
        act = actual or "file missing"
        message = f"SHA-256 mismatch for {path}: expected {exp}, actual {act}."
        super().__init__(f"{message} {hint}".strip())


class AssetUnavailableError(OSError):
    """The requested ``source`` cannot provide the asset (not cached, offline, ...)."""


class MissingAssetPackageError(ImportError):
    """A package that ships the offline files is not installed."""
