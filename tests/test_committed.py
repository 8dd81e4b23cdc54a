"""Nothing committed depends on the machine or the day it was written on.

The French catalogs and the committed JSON are rewritten by tools (``nox -s gettext``,
``nox -s compat``); what those tools write must come from the pages and the measured
releases only, so that the same commit gives the same bytes on any machine, any day.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shutil
import socket
import subprocess
from pathlib import Path

import polib
import pytest
from conftest import DOCS, ROOT

LOCALES = DOCS / "locales" / "fr" / "LC_MESSAGES"
CATALOGS = sorted(LOCALES.rglob("*.po"))


def _catalogs_tool():
    spec = importlib.util.spec_from_file_location("catalogs", DOCS / "_tools" / "catalogs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cpu_model() -> str:
    """This machine's CPU model, as :func:`lmnotes.machine.machine_description` reads it."""
    model = platform.processor().strip()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name") and ":" in line:
                model += " " + line.split(":", 1)[1].strip()
                break
    return model.strip()


class TestCatalogHeaders:
    def test_no_date_and_no_tool_version(self) -> None:
        """No catalog header holds a creation or revision date, Babel's version, the year of
        the day or the project's version: only fields that depend on the page."""
        catalogs = _catalogs_tool()
        assert CATALOGS, "no French catalog found"
        for path in CATALOGS:
            po = polib.pofile(str(path))
            name = path.relative_to(LOCALES)
            assert not set(catalogs.VOLATILE) & set(po.metadata), name
            assert po.header == catalogs.HEADER, name
            assert po.metadata["Project-Id-Version"] == "lmnotes", name
            head = path.read_text("utf-8").split("\n\n", 1)[0]
            assert not re.search(r"\b20\d\d\b", head), f"{name}: a year in the header"

    def test_tidy_leaves_every_catalog_byte_identical(self, tmp_path: Path) -> None:
        """``catalogs.py tidy`` (the last step of ``nox -s gettext``) rewrites no committed
        catalog: they are already in the one form it writes."""
        copy = tmp_path / "LC_MESSAGES"
        shutil.copytree(LOCALES, copy)
        _catalogs_tool().tidy(copy)
        changed = [
            path.relative_to(LOCALES).as_posix()
            for path in CATALOGS
            if (copy / path.relative_to(LOCALES)).read_bytes() != path.read_bytes()
        ]
        assert changed == []

    def test_tidy_removes_what_babel_adds(self, tmp_path: Path) -> None:
        """A catalog as sphinx-intl writes it (dates, Babel's version, a year) comes out of
        ``tidy`` with the fixed header."""
        catalogs = _catalogs_tool()
        path = tmp_path / "page.po"
        path.write_text(
            "# SOME DESCRIPTIVE TITLE.\n# FIRST AUTHOR <EMAIL@ADDRESS>, 2031.\n#\n"
            'msgid ""\nmsgstr ""\n"Project-Id-Version: lmnotes 9.9\\n"\n'
            '"POT-Creation-Date: 2031-01-02 03:04+0000\\n"\n'
            '"PO-Revision-Date: YEAR-MO-DA HO:MI+ZONE\\n"\n"Generated-By: Babel 9.0\\n"\n\n'
            'msgid "Mask"\nmsgstr "Masque"\n',
            "utf-8",
        )
        catalogs.tidy(tmp_path)
        text = path.read_text("utf-8")
        assert "2031" not in text and "Babel" not in text and "9.9" not in text
        assert polib.pofile(str(path)).find("Mask").msgstr == "Masque"


class TestNoMachineInCommittedText:
    def test_no_msgid_is_made_of_this_machines_words(self) -> None:
        """No catalog message comes from the build machine: none is made only of the words of
        this CPU's model name, none holds the host name."""
        words = set(re.findall(r"[A-Za-z][\w()-]*", _cpu_model()))
        host = socket.gethostname()
        found = []
        for path in CATALOGS:
            for entry in polib.pofile(str(path)):
                msg_words = set(re.findall(r"[A-Za-z][\w()-]*", entry.msgid))
                if (msg_words and msg_words <= words) or (
                    len(host) > 3 and re.search(rf"\b{re.escape(host)}\b", entry.msgid)
                ):
                    found.append(f"{path.relative_to(LOCALES)}: {entry.msgid!r}")
        assert found == [], f"messages from this machine ({_cpu_model()!r}, {host!r}): {found}"

    @pytest.mark.parametrize(
        "path",
        [p for p in ROOT.joinpath("docs").rglob("*.json") if "_build" not in p.parts],
        ids=lambda p: p.relative_to(ROOT).as_posix(),
    )
    def test_committed_json_holds_no_timing_or_date(self, path: Path) -> None:
        """A committed JSON file holds no duration, date or CPU: no key of those names, no
        ISO date, and not this machine's CPU model."""
        data = json.loads(path.read_text("utf-8"))
        keys: list[str] = []

        def walk(value) -> None:
            if isinstance(value, dict):
                keys.extend(value)
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(data)
        volatile = {"seconds", "time", "elapsed", "duration", "date", "timestamp", "cpu", "machine"}
        assert not volatile & {key.lower() for key in keys}
        text = path.read_text("utf-8")
        assert not re.search(r"\b20\d\d-[01]\d-[0-3]\d", text)
        model = _cpu_model()
        assert not model or model not in text


class TestScriptsAreLinted:
    """`nox -s lint` runs Biome on the site's scripts with tests/biome.jsonc."""

    BIOME = ROOT / "tests" / "node_modules" / ".bin" / "biome"

    def _lint(self, *paths: Path) -> subprocess.CompletedProcess:
        if not self.BIOME.exists():
            if os.environ.get("CI"):
                pytest.fail("Biome is not installed: npm ci --prefix tests")
            pytest.skip("Biome is not installed: npm ci --prefix tests")
        # From tests/, as nox -s lint runs it: tests/biome.jsonc is that folder's configuration.
        return subprocess.run(
            [str(self.BIOME), "lint", "--config-path", "biome.jsonc", "--error-on-warnings"]
            + [str(p) for p in paths],
            cwd=ROOT / "tests",
            capture_output=True,
            text=True,
            check=False,
        )

    def test_the_site_scripts_pass(self) -> None:
        scripts = sorted((DOCS / "_static").glob("*.js"))
        scripts += sorted((ROOT / "tests" / "js").glob("*.mjs"))
        assert scripts
        result = self._lint(*scripts)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_a_real_mistake_fails(self, tmp_path: Path) -> None:
        """An unused variable and an assignment inside a condition fail the lint."""
        bad = tmp_path / "bad.js"
        bad.write_text(
            '(function () {\n  "use strict";\n  var unused = 1;\n  var a;\n'
            "  if ((a = 2)) { a += 1; }\n}());\n"
        )
        result = self._lint(bad)
        assert result.returncode != 0
        assert "noUnusedVariables" in result.stdout + result.stderr
