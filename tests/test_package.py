"""The package's layout: one concept per module, no module reaching into another's insides."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import lmnotes

MODULES = sorted(m.name for m in pkgutil.iter_modules(lmnotes.__path__) if not m.name.startswith("_"))


class TestModules:
    @pytest.mark.parametrize("module", MODULES)
    def test_module_says_its_concept_and_exports_what_it_defines(self, module: str) -> None:
        """Each public module has a one-line summary, an __all__, and defines every name in it."""
        mod = importlib.import_module(f"lmnotes.{module}")
        assert mod.__doc__ and mod.__doc__.strip().splitlines()[0].endswith(".")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                assert obj.__module__ == mod.__name__, f"{module}.{name}"

    def test_no_module_imports_another_modules_private_names(self) -> None:
        """Only the _-prefixed helper modules are shared: no ``from lmnotes.x import _y``."""
        bad = []
        for path in sorted(Path(lmnotes.__file__).parent.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lmnotes"):
                    if not node.module.rsplit(".", 1)[-1].startswith("_"):
                        bad += [f"{path.name}: {a.name} from {node.module}"
                                for a in node.names if a.name.startswith("_")]
        assert bad == []

    def test_the_index_names_every_module(self) -> None:
        """The package docstring lists every public module with its concept."""
        for module in MODULES:
            assert f":mod:`lmnotes.{module}`" in lmnotes.__doc__, module

    def test_import_is_lazy(self) -> None:
        """``import lmnotes`` loads neither torch nor transformers."""
        code = "import sys, lmnotes; print('torch' in sys.modules, 'transformers' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.split() == ["False", "False"]

    def test_version_has_one_source(self) -> None:
        """The distribution's version is the package's ``__version__`` (pyproject reads it)."""
        from importlib.metadata import version

        assert version("lmnotes") == lmnotes.__version__
