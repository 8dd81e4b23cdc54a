"""docs/_tools/compat_report.py and the results it keeps: complete, measured, the ones installed."""

from __future__ import annotations

import ast
import json
import textwrap
import tomllib
from importlib.metadata import version
from pathlib import Path

import compat_report as tool
import pytest
from conftest import DOCS, ROOT

RESULTS = DOCS / "reference" / "compatibility.json"


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
      <property name="page" value="notes/mlm"/><property name="cite" value="k"/>
      <property name="outcome" value="holds"/><property name="evidence" value="x ok"/></properties>
    </testcase>
    <testcase classname="tests.test_claims.TestA" name="test_one[y]" time="0.1">
      <properties><property name="claim" value="a"/><property name="statement" value="A holds."/>
      <property name="page" value="notes/mlm"/><property name="cite" value="k"/>
      <property name="outcome" value="differs"/><property name="evidence" value="y no"/>
      </properties>
      <failure message="claim 'a' is documented to hold">...</failure>
    </testcase>
    <testcase classname="tests.test_claims.TestB" name="test_two" time="0.1">
      <properties><property name="claim" value="b"/><property name="statement" value="B | pipe."/>
      <property name="page" value=""/></properties>
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
        assert (a["page"], a["cite"], len(a["cases"])) == ("notes/mlm", "k", 2)
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


def _run(release: str, **outcomes: str) -> dict:
    return {"transformers": release, "claims": {c: {"outcome": o} for c, o in outcomes.items()}}


class TestReleases:
    def test_version_order(self) -> None:
        """Releases sort numerically, not as text."""
        assert sorted(["5.24.0", "4.57.6", "5.3.0"], key=tool.release_key) == [
            "4.57.6",
            "5.3.0",
            "5.24.0",
        ]

    def test_last_patches(self) -> None:
        """The last final patch of each minor release in the range; pre-releases left out."""
        available = [
            "4.56.2",
            "4.57.0",
            "4.57.6",
            "5.0.0rc1",
            "5.0.0",
            "5.10.1",
            "5.10.4",
            "5.11.0.dev0",
            "6.0.0",
        ]
        assert tool.last_patches(available, "4.57", "6") == ["4.57.6", "5.0.0", "5.10.4"]
        assert tool.last_patches(available, "5.10", "5.10.9999") == ["5.10.4"]


class TestBoundaries:
    def test_change_found_between_consecutive_runs(self) -> None:
        """The first release with a new outcome after the run before it; skips say nothing."""
        data = {
            "claims": [{"id": "a"}, {"id": "b"}],
            "runs": [
                _run("4.57.6", a="differs", b="holds"),
                _run("5.0.0", a="skipped", b="holds"),
                _run("5.1.0", a="holds", b="differs"),
                _run("5.2.0", a="holds", b="holds"),
            ],
        }
        assert tool.boundaries(data) == {
            "a": [{"release": "5.1.0", "after": "4.57.6", "outcome": "holds"}],
            "b": [
                {"release": "5.1.0", "after": "5.0.0", "outcome": "differs"},
                {"release": "5.2.0", "after": "5.1.0", "outcome": "holds"},
            ],
        }

    @pytest.mark.parametrize("per_interval", [1, 2, 3])
    @pytest.mark.parametrize("first_holds", ["5.5.0", "5.5.1", "5.5.2", "5.5.3", "5.5.4"])
    def test_bisection_narrows_to_adjacent_releases(self, first_holds, per_interval) -> None:
        """Probing splits the releases between two runs until none is left, in fewer rounds
        with more probes a round (binary search: 3 rounds for 4 releases; 2 probes: 2)."""
        available = ["5.4.0", "5.5.0", "5.5.1", "5.5.2", "5.5.3", "5.5.4"]
        data = {
            "claims": [{"id": "a"}],
            "runs": [_run("5.4.0", a="differs"), _run("5.5.4", a="holds")],
        }
        rounds = 0
        while probes := tool.next_probes(data, available, per_interval=per_interval):
            rounds += 1
            assert len(probes) <= per_interval
            for release in probes:
                holds = tool.release_key(release) >= tool.release_key(first_holds)
                data["runs"].append(_run(release, a="holds" if holds else "differs"))
        assert rounds <= {1: 3, 2: 2, 3: 2}[per_interval]
        after = available[available.index(first_holds) - 1]
        assert tool.boundaries(data)["a"] == [
            {"release": first_holds, "after": after, "outcome": "holds"}
        ]

    def test_probes_a_round_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="per_interval"):
            tool.next_probes({"claims": [], "runs": []}, [], per_interval=0)

    def test_no_probe_without_a_change(self) -> None:
        data = {
            "claims": [{"id": "a"}],
            "runs": [_run("5.4.0", a="holds"), _run("5.5.4", a="holds")],
        }
        assert tool.next_probes(data, ["5.4.0", "5.5.0", "5.5.4"]) == []


@pytest.fixture(scope="module")
def results() -> dict:
    """The committed docs/reference/compatibility.json."""
    return json.loads(RESULTS.read_text("utf-8"))


def _minor_runs(results: dict) -> list[dict]:
    return [run for run in results["runs"] if run["scope"] == tool.SCOPES[0]]


class TestCommittedResults:
    def test_boundaries_are_those_of_the_runs(self) -> None:
        """The boundaries stored in compatibility.json are recomputed from its runs."""
        assert tool.check() == 0

    def test_every_minor_release_of_the_range_was_run(self, results: dict) -> None:
        """One full run per minor release from 4.57 to the newest, none missing in between."""
        minors = [tool.release_key(run["transformers"])[:2] for run in _minor_runs(results)]
        assert minors[0] == (4, 57)
        fives = [minor for minor in minors if minor[0] == 5]
        assert fives == [(5, n) for n in range(len(fives))], minors
        assert len(minors) == len(set(minors))

    def test_every_boundary_is_between_adjacent_releases(self, results: dict) -> None:
        """Bisection left no release of the package index between the two runs of a change."""
        index = results["index"]
        assert index == sorted(index, key=tool.release_key) and len(index) >= len(
            _minor_runs(results)
        )
        for claim_id, changes in results["boundaries"].items():
            for change in changes:
                low, high = tool.release_key(change["after"]), tool.release_key(change["release"])
                between = [r for r in index if low < tool.release_key(r) < high]
                assert between == [], (claim_id, change)

    def test_every_claim_was_measured(self, results: dict) -> None:
        """The claims of tests/test_claims.py are those of the results, measured on every
        full run."""
        ids = _claim_ids_in_tests()
        assert {claim["id"] for claim in results["claims"]} == ids
        for run in _minor_runs(results):
            assert set(run["claims"]) == ids, run["transformers"]
            measured = [r for r in run["claims"].values() if r["outcome"] != "error"]
            assert len(measured) == len(ids), run["transformers"]

    def test_every_run_passed(self, results: dict) -> None:
        """No library test or doctest failed on any release."""
        for run in results["runs"]:
            assert run["failed"] == [], run["transformers"]
            assert run["counts"]["failures"] == run["counts"]["errors"] == 0

    def test_newest_run_is_the_release_installed(self, results: dict) -> None:
        """The environment that builds the site and runs the tests has the newest release
        measured (the ``measured`` dependency group, which nox and .readthedocs.yaml
        install): the pages' outputs and the claims' expectations are of one release."""
        newest = _minor_runs(results)[-1]["transformers"]
        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
        assert pyproject["dependency-groups"]["measured"] == [f"transformers=={newest}"]
        assert "--group measured" in (ROOT / ".readthedocs.yaml").read_text("utf-8")
        assert version("transformers") == newest

    def test_no_machine_or_time_in_the_results(self) -> None:
        """No run time, date or CPU name: a new run changes only outcomes and versions."""
        text = RESULTS.read_text("utf-8")
        for word in ('"seconds"', '"time"', '"date"', '"cpu"', '"machine"'):
            assert word not in text
