"""docs/_tools/compat_report.py and the results it keeps: complete, as documented, on the page."""

from __future__ import annotations

import ast
import importlib.util
import json
import textwrap
from pathlib import Path

import pytest
from conftest import DOCS, ROOT

RESULTS = DOCS / "reference" / "compatibility.json"


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        "compat_report", DOCS / "_tools" / "compat_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def _compat_releases() -> list[str]:
    """COMPAT_TRANSFORMERS as written in noxfile.py (nox need not be installed)."""
    for node in ast.parse((ROOT / "noxfile.py").read_text("utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "COMPAT_TRANSFORMERS" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise AssertionError("noxfile.py defines no COMPAT_TRANSFORMERS")


def _claim_ids_in_tests() -> set[str]:
    """The first argument of every @pytest.mark.claim(...) in tests/test_claims.py."""
    ids = set()
    for node in ast.walk(ast.parse((ROOT / "tests" / "test_claims.py").read_text("utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "claim"
            and node.args
        ):
            ids.add(ast.literal_eval(node.args[0]))
    return ids


JUNIT = textwrap.dedent("""\
    <?xml version="1.0" encoding="utf-8"?>
    <testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="5" time="12.34">
    <testcase classname="tests.test_claims.TestA" name="test_one[x]" time="0.1">
      <properties><property name="claim" value="a"/><property name="statement" value="A holds."/>
      <property name="since" value=""/><property name="page" value="notes/mlm"/>
      <property name="outcome" value="holds"/><property name="evidence" value="x ok"/></properties>
    </testcase>
    <testcase classname="tests.test_claims.TestA" name="test_one[y]" time="0.1">
      <properties><property name="claim" value="a"/><property name="statement" value="A holds."/>
      <property name="since" value=""/><property name="page" value="notes/mlm"/>
      <property name="outcome" value="differs"/><property name="evidence" value="y no"/>
      </properties>
      <failure message="claim 'a' is documented to hold">...</failure>
    </testcase>
    <testcase classname="tests.test_claims.TestB" name="test_two" time="0.1">
      <properties><property name="claim" value="b"/><property name="statement" value="B | pipe."/>
      <property name="since" value="9.0.0"/><property name="page" value=""/></properties>
      <skipped type="pytest.skip" message="requires transformers &gt;= 9.0.0 (B)">skip</skipped>
    </testcase>
    <testcase classname="tests.test_mlm.TestC" name="test_plain" time="0.1"/>
    <testcase classname="lmnotes.mlm" name="lmnotes.mlm.mask_tokens" time="0.1"/>
    </testsuite></testsuites>
    """)


class TestReadJunit:
    def test_claims_counts_and_failures(self, tmp_path: Path) -> None:
        """Claims are grouped by id with their cases; counts, time and failed tests are read."""
        path = tmp_path / "junit.xml"
        path.write_text(JUNIT, "utf-8")
        run = tool.read_junit(path)
        assert run["seconds"] == 12.3 and run["counts"]["tests"] == 5
        assert run["failed"] == ["tests.test_claims.TestA::test_one[y]"]
        assert list(run["claims"]) == ["a", "b"]
        a, b = run["claims"]["a"], run["claims"]["b"]
        assert (a["page"], a["since"], len(a["cases"])) == ("notes/mlm", None, 2)
        assert b["cases"][0]["outcome"] == "skipped"
        assert "requires transformers >= 9.0.0" in b["cases"][0]["detail"]

    def test_claim_result(self, tmp_path: Path) -> None:
        """A claim holds only if every case holds; a failed case is not as documented."""
        path = tmp_path / "junit.xml"
        path.write_text(JUNIT, "utf-8")
        run = tool.read_junit(path)
        a = tool._claim_result(run["claims"]["a"]["cases"])
        assert a == {"outcome": "differs", "as_documented": False, "detail": "x ok; y no"}
        assert tool._claim_result(run["claims"]["b"]["cases"])["outcome"] == "skipped"


class TestTable:
    def test_cells_pages_and_pipes(self) -> None:
        """One table per page (claims without a page last), outcomes as words, pipes escaped."""
        data = {
            "claims": [
                {"id": "b", "statement": "B | pipe.", "since": "9.0.0", "page": None},
                {"id": "a", "statement": "A holds.", "since": None, "page": "notes/mlm"},
            ],
            "runs": [
                {
                    "transformers": "4.57.6",
                    "torch": "2",
                    "tokenizers": "0.22",
                    "huggingface_hub": "0.36",
                    "python": "3.11",
                    "claims": {
                        "a": {"outcome": "holds", "as_documented": True, "detail": ""},
                        "b": {"outcome": "differs", "as_documented": False, "detail": ""},
                    },
                },
            ],
        }
        text = tool.table(data)
        assert text.index("{doc}`/notes/mlm`") < text.index("Other claims:")
        assert "| A holds. | ✓\u00a0holds | — |" in text
        assert "| B \\| pipe. | ✗\u00a0differs (unexpected) | 9.0.0 |" in text
        assert "| 4.57.6 | 2 | 0.22 | 0.36 | 3.11 |" in text

    def test_version_order(self) -> None:
        """Releases sort numerically, not as text."""
        assert sorted(["5.24.0", "4.57.6", "5.3.0"], key=tool._version_key) == [
            "4.57.6",
            "5.3.0",
            "5.24.0",
        ]


@pytest.fixture(scope="module")
def results() -> dict:
    """The committed docs/reference/compatibility.json."""
    return json.loads(RESULTS.read_text("utf-8"))


class TestCommittedResults:
    def test_page_is_generated_from_the_results(self) -> None:
        """docs/reference/compatibility.md holds the table compatibility.json gives."""
        assert tool.check() == 0

    def test_every_release_of_the_noxfile_was_run(self, results: dict) -> None:
        """The results hold one run per release of COMPAT_TRANSFORMERS, in order."""
        assert [run["transformers"] for run in results["runs"]] == _compat_releases()

    def test_every_claim_was_checked(self, results: dict) -> None:
        """The claims of tests/test_claims.py are those of the results, checked on every release."""
        ids = _claim_ids_in_tests()
        assert {claim["id"] for claim in results["claims"]} == ids
        for run in results["runs"]:
            assert set(run["claims"]) == ids, run["transformers"]

    def test_every_run_passed_as_documented(self, results: dict) -> None:
        """No test failed, and every claim behaved as its version range says."""
        for run in results["runs"]:
            assert run["failed"] == [], run["transformers"]
            assert all(r["as_documented"] for r in run["claims"].values()), run["transformers"]
            assert run["counts"]["failures"] == run["counts"]["errors"] == 0
