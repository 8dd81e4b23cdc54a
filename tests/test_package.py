"""The package's public API: everything modules export is reachable from ``lmnotes``."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import lmnotes

MODULES = sorted(m.name for m in pkgutil.iter_modules(lmnotes.__path__) if not m.name.startswith("_"))


class TestPublicApi:
    @pytest.mark.parametrize("module", MODULES)
    def test_module_exports_are_reexported(self, module: str) -> None:
        """Each name in a module's __all__ is in lmnotes.__all__ and resolves to the same object."""
        mod = importlib.import_module(f"lmnotes.{module}")
        for name in mod.__all__:
            assert name in lmnotes.__all__, f"{module}.{name}"
            assert getattr(lmnotes, name) is getattr(mod, name)

    def test_unknown_attribute_raises(self) -> None:
        """A name that is not exported raises AttributeError naming it."""
        with pytest.raises(AttributeError, match="no_such_name"):
            lmnotes.no_such_name  # noqa: B018

    def test_import_is_lazy(self) -> None:
        """``import lmnotes`` loads neither torch nor transformers."""
        code = "import sys, lmnotes; print('torch' in sys.modules, 'transformers' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.split() == ["False", "False"]
