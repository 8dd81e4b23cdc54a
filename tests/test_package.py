"""The package's layout: one concept per module, no module reaching into another's insides."""

from __future__ import annotations

import ast
import builtins
import doctest
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import lmnotes

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(
    m.name for m in pkgutil.iter_modules(lmnotes.__path__) if not m.name.startswith("_")
)
# Every module, those of subpackages included ("assets.cache"), relative to lmnotes.
ALL_MODULES = sorted(
    m.name.removeprefix("lmnotes.") for m in pkgutil.walk_packages(lmnotes.__path__, "lmnotes.")
)
PUBLIC_MODULES = [m for m in ALL_MODULES if not any(part.startswith("_") for part in m.split("."))]


class TestModules:
    @pytest.mark.parametrize("module", PUBLIC_MODULES)
    def test_module_says_its_concept_and_exports_what_it_defines(self, module: str) -> None:
        """Each public module has a one-line summary, an __all__, and defines every name in it
        (a package: one of its modules does)."""
        mod = importlib.import_module(f"lmnotes.{module}")
        assert mod.__doc__ and mod.__doc__.strip().splitlines()[0].endswith(".")
        is_package = hasattr(mod, "__path__")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                home = obj.__module__
                assert home == mod.__name__ or (
                    is_package and home.startswith(f"{mod.__name__}.")
                ), f"{module}.{name}"
        defined = {
            name
            for name, obj in vars(mod).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == mod.__name__
        }
        assert defined <= set(mod.__all__), (
            f"public but not in __all__: {defined - set(mod.__all__)}"
        )

    def test_no_module_imports_another_modules_private_names(self) -> None:
        """Only the _-prefixed helper modules are shared: no ``from lmnotes.x import _y``
        (nor ``from .x import _y`` inside a subpackage)."""
        bad = []
        package = Path(lmnotes.__file__).parent
        for path in sorted(package.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ImportFrom):
                    continue
                module = "." * node.level + (node.module or "")
                if node.level or module.startswith("lmnotes"):
                    if not module.rsplit(".", 1)[-1].startswith("_"):
                        bad += [
                            f"{path.relative_to(package)}: {a.name} from {module}"
                            for a in node.names
                            if a.name.startswith("_")
                        ]
        assert bad == []

    def test_the_index_names_every_module(self) -> None:
        """The package docstring lists every public module with its concept; a subpackage's
        docstring lists its own modules (``lmnotes.assets.cache``)."""
        for module in PUBLIC_MODULES:
            parent = module.rpartition(".")[0]
            if parent:
                doc = importlib.import_module(f"lmnotes.{parent}").__doc__
                assert f"``lmnotes.{module}``" in doc, module
            else:
                assert f":mod:`lmnotes.{module}`" in lmnotes.__doc__, module

    def test_import_is_lazy(self) -> None:
        """``import lmnotes`` loads neither torch nor transformers."""
        code = "import sys, lmnotes; print('torch' in sys.modules, 'transformers' in sys.modules)"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == ["False", "False"]

    def test_every_imported_distribution_is_declared(self) -> None:
        """Each third-party module lmnotes imports comes from a distribution that pyproject
        declares: a dependency, or the ``assets``/``docs`` group for the optional ones (the
        GGUF reader, IPython's display)."""
        import re
        import tomllib
        from importlib.metadata import packages_distributions

        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
        declared = pyproject["project"]["dependencies"] + [
            req
            for group in ("assets", "docs")
            for req in pyproject["dependency-groups"][group]
            if isinstance(req, str)
        ]

        def name(req: str) -> str:
            return re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower().replace("_", "-")

        names = {name(req) for req in declared}
        # ipykernel brings IPython for the pages' kernel.
        provided_by = {"ipython": "ipykernel"}
        imported: set[str] = set()
        for path in (ROOT / "lmnotes").rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    imported.add(node.module.split(".")[0])
        third_party = sorted(imported - set(sys.stdlib_module_names) - {"lmnotes"})
        distributions = packages_distributions()
        undeclared = []
        for module in third_party:
            dists = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
            if not any(d in names or provided_by.get(d) in names for d in dists):
                undeclared.append(f"{module} ({', '.join(sorted(dists))})")
        assert undeclared == []

    def test_version_has_one_source(self) -> None:
        """The distribution's version is the package's ``__version__`` (pyproject reads it)."""
        from importlib.metadata import version

        assert version("lmnotes") == lmnotes.__version__


def _examples(module) -> list[tuple[str, str]]:
    """(qualified name, example source) of every docstring example in ``module``."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [
        (test.name, "\n".join(example.source for example in test.examples))
        for test in finder.find(module, globs={})
    ]


def _free_names(source: str) -> set[str]:
    """Names an example reads without binding or importing them first (builtins excluded)."""
    tree = ast.parse(source)
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                bound.add(node.name)
            bound |= {a.arg for a in ast.walk(node.args)} if hasattr(node, "args") else set()
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return used - bound - set(dir(builtins))


class TestDocstringExamples:
    @pytest.mark.parametrize("module", ALL_MODULES)
    def test_examples_import_what_they_use(self, module: str) -> None:
        """Every docstring example imports each name it uses (it runs pasted in a fresh session)."""
        mod = importlib.import_module(f"lmnotes.{module}")
        missing = {
            name: sorted(free) for name, source in _examples(mod) if (free := _free_names(source))
        }
        assert missing == {}

    def test_the_check_catches_a_missing_import(self) -> None:
        """An example using torch without importing it is caught; one importing it is not."""
        assert _free_names("x = torch.ones(2)\nprint(x)") == {"torch"}
        assert _free_names("import torch\nx = torch.ones(2)") == set()
