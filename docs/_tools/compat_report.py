"""Collect ``nox -s compat`` results into docs/reference/compatibility.json.

``python docs/_tools/compat_report.py update JUNIT --scope SCOPE``
    Run by ``nox -s compat`` inside the compat environment after each pytest run: reads
    the JUnit XML of that run (tests/test_claims.py records each claim's id, statement,
    page, outcome and evidence as test properties) and the installed versions, replaces
    that release's entry in compatibility.json (the other releases' entries are kept), and
    recomputes every claim's boundaries from all the runs. Exits 1 if a test failed, after
    writing.
``python docs/_tools/compat_report.py index RELEASE ...``
    Record the final releases of the supported range that the package index offers (what
    the last patches and the bisection were chosen from), so that a test can check that no
    release lies unmeasured between the two runs of a boundary.
``python docs/_tools/compat_report.py orphans``
    Print transformers' requirements that no other installed distribution requires: what
    ``nox -s compat`` uninstalls with transformers before it installs another release,
    so that no package of one release (``kernels``, say) stays behind for the next.
``python docs/_tools/compat_report.py check``
    Exit 1 if the boundaries stored in compatibility.json are not those its runs give.

A claim's **boundary** is measured, never typed: sorting the runs by release, it is the
first release where the claim's outcome ("holds" or "differs") is not that of the run
before (runs where the claim was skipped say nothing). ``nox -s compat`` runs the last patch
of every minor release, then bisects into the releases between two runs whose outcomes
differ (:func:`next_probes`) until the two runs are adjacent releases. The pages state
versions through the roles of docs/_ext/lmnotes_compat.py, which read these boundaries.

No run time, date or machine name is written: a new run changes the file only where an
outcome or a version changed. Standard library only (nox imports it outside any venv).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import xml.etree.ElementTree as ET
from importlib.metadata import PackageNotFoundError, distributions, version
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
RESULTS = DOCS / "reference" / "compatibility.json"
PACKAGES = ("transformers", "torch", "tokenizers", "huggingface_hub")
#: Scopes of a run: the claims with the library tests not marked slow and the doctests (the
#: last patch of a minor release), or the claims alone (a release probed while bisecting).
SCOPES = ("claims and library tests", "claims")
ABOUT = (
    "Written by `nox -s compat` (docs/_tools/compat_report.py); shown by "
    "docs/reference/compatibility.md and the pages' release roles (docs/_ext/lmnotes_compat.py)."
)
#: The outcomes that place a boundary; "skipped" and "error" runs say nothing.
MEASURED = ("holds", "differs")


def _version_key(text: str) -> tuple[int, ...]:
    """``"4.57.6"`` -> ``(4, 57, 6)`` (digits of each dotted part; enough for release numbers)."""
    key = []
    for part in text.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        key.append(int(digits) if digits else 0)
    return tuple(key)


def _installed() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    versions["python"] = platform.python_version()
    return versions


def read_junit(path: Path) -> dict:
    """Per-claim outcomes, test counts, failures and run time of one pytest run."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    seconds = 0.0
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, 0))
        seconds += float(suite.get("time", 0))
    claims: dict[str, dict] = {}
    failed = []
    for case in root.iter("testcase"):
        nodeid = f"{case.get('classname', '')}::{case.get('name', '')}"
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failed.append(nodeid)
        props = {p.get("name"): p.get("value", "") for p in case.iter("property")}
        if "claim" not in props:
            continue
        skipped = case.find("skipped")
        if problem is not None and "outcome" not in props:
            outcome = "error"
        elif skipped is not None:
            outcome = "skipped"
        else:
            outcome = props.get("outcome", "error")
        entry = claims.setdefault(
            props["claim"],
            {
                "statement": props.get("statement", ""),
                "page": props.get("page") or None,
                "cite": props.get("cite") or None,
                "cases": [],
            },
        )
        entry["cases"].append(
            {
                "test": nodeid,
                "outcome": outcome,
                "as_documented": problem is None,
                "detail": (
                    skipped.get("message", "") if skipped is not None else props.get("evidence", "")
                ),
            }
        )
    return {"counts": counts, "seconds": round(seconds, 1), "claims": claims, "failed": failed}


def _claim_result(cases: list[dict]) -> dict:
    """One outcome for a claim checked by several test cases (parametrized)."""
    outcomes = {case["outcome"] for case in cases}
    if outcomes == {"skipped"}:
        outcome = "skipped"
    elif "error" in outcomes:
        outcome = "error"
    elif outcomes - {"skipped"} == {"holds"}:
        outcome = "holds"
    else:
        outcome = "differs"
    return {
        "outcome": outcome,
        "as_documented": all(case["as_documented"] for case in cases),
        "detail": "; ".join(case["detail"] for case in cases if case["detail"]),
    }


def release_key(text: str) -> tuple[int, ...]:
    """Sort key of a final release number: ``"5.10.1"`` -> ``(5, 10, 1)``."""
    return _version_key(text)


def is_final(text: str) -> bool:
    """Whether ``text`` is a final release number (digits and dots: no rc, dev or post)."""
    return all(part.isdigit() for part in text.split(".")) and text.count(".") == 2


def last_patches(available: list[str], first: str, below: str) -> list[str]:
    """The last patch of every minor release from ``first`` up to (not including) ``below``.

    >>> last_patches(["4.56.2", "4.57.1", "4.57.6", "5.0.0", "5.1.0rc1", "5.10.1", "5.10.4",
    ...               "6.0.0"], "4.57", "6")
    ['4.57.6', '5.0.0', '5.10.4']
    """
    low, high = release_key(first), release_key(below)
    last: dict[tuple[int, ...], str] = {}
    for release in filter(is_final, available):
        key = release_key(release)
        if low <= key[: len(low)] and key[: len(high)] < high:
            minor = key[:2]
            if minor not in last or release_key(last[minor]) < key:
                last[minor] = release
    return [last[minor] for minor in sorted(last)]


def claim_outcomes(data: dict, claim_id: str) -> list[tuple[str, str]]:
    """``(release, outcome)`` of every run that measured the claim, in release order."""
    found = []
    for run in data.get("runs", []):
        result = run["claims"].get(claim_id)
        if result is not None and result["outcome"] in MEASURED:
            found.append((run["transformers"], result["outcome"]))
    return sorted(found, key=lambda item: release_key(item[0]))


def boundaries(data: dict) -> dict[str, list[dict]]:
    """Every claim's changes of outcome between consecutive measured runs.

    Returns
    -------
    dict of str to list of dict
        For each claim id, in the order of ``data["claims"]``, one dict per change:
        ``{"release": first release with the new outcome, "after": the run before it,
        "outcome": the new outcome}``. An empty list: the same outcome on every run.

    >>> run = lambda v, o: {"transformers": v, "claims": {"c": {"outcome": o}}}
    >>> boundaries({"claims": [{"id": "c"}],
    ...             "runs": [run("5.2.0", "holds"), run("4.57.6", "differs"),
    ...                      run("5.1.0", "differs")]})
    {'c': [{'release': '5.2.0', 'after': '5.1.0', 'outcome': 'holds'}]}
    """
    result = {}
    for claim in data.get("claims", []):
        outcomes = claim_outcomes(data, claim["id"])
        result[claim["id"]] = [
            {"release": release, "after": before, "outcome": outcome}
            for (before, was), (release, outcome) in zip(outcomes, outcomes[1:], strict=False)
            if outcome != was
        ]
    return result


def next_probes(data: dict, available: list[str], per_interval: int = 1) -> list[str]:
    """Releases to run next to narrow every boundary down to two adjacent releases.

    For each change of outcome between two runs with final releases of ``available``
    between them that were not run, ``per_interval`` releases that split those evenly:
    the middle one (binary search) by default, two for two releases run at once.

    >>> run = lambda v, o: {"transformers": v, "claims": {"c": {"outcome": o}}}
    >>> data = {"claims": [{"id": "c"}],
    ...         "runs": [run("5.4.0", "differs"), run("5.5.4", "holds")]}
    >>> between = ["5.4.0", "5.5.0", "5.5.1", "5.5.2", "5.5.3", "5.5.4"]
    >>> next_probes(data, between)
    ['5.5.1']
    >>> next_probes(data, between, per_interval=2)
    ['5.5.0', '5.5.2']
    """
    if not isinstance(per_interval, int) or per_interval < 1:
        raise ValueError(f"per_interval must be an integer >= 1, got {per_interval!r}")
    ran = {run["transformers"] for run in data.get("runs", [])}
    probes = set()
    for changes in boundaries(data).values():
        for change in changes:
            low, high = release_key(change["after"]), release_key(change["release"])
            between = sorted(
                (
                    r
                    for r in filter(is_final, available)
                    if low < release_key(r) < high and r not in ran
                ),
                key=release_key,
            )
            points = min(per_interval, len(between))
            for j in range(points):
                probes.add(between[(j + 1) * (len(between) + 1) // (points + 1) - 1])
    return sorted(probes, key=release_key)


def update(junit: Path, scope: str) -> int:
    run = read_junit(junit)
    installed = _installed()
    data = json.loads(RESULTS.read_text("utf-8")) if RESULTS.exists() else {}
    claims = {c["id"]: c for c in data.get("claims", [])}
    for claim_id, found in run["claims"].items():  # this run's test file is the newest
        claims[claim_id] = {"id": claim_id, "statement": found["statement"], "page": found["page"]}
        if found["cite"]:
            claims[claim_id]["cite"] = found["cite"]
    order = list(run["claims"]) + [c for c in claims if c not in run["claims"]]
    entry = {
        **installed,
        "scope": scope,
        "counts": run["counts"],
        "failed": run["failed"],
        "claims": {cid: _claim_result(found["cases"]) for cid, found in run["claims"].items()},
    }
    runs = [r for r in data.get("runs", []) if r["transformers"] != installed["transformers"]]
    runs.append(entry)
    runs.sort(key=lambda r: release_key(r["transformers"]))
    checked = {cid for r in runs for cid in r["claims"]}
    data = {
        "about": ABOUT,
        "index": data.get("index", []),
        "claims": [claims[cid] for cid in order if cid in checked],
        "runs": runs,
    }
    _write(data)
    differ = sum(r["outcome"] == "differs" for r in entry["claims"].values())
    print(
        f"transformers {installed['transformers']}: {len(entry['claims'])} claims "
        f"({differ} differ), {run['counts']['tests']} tests in {run['seconds']} s, "
        f"{len(run['failed'])} failed; wrote {RESULTS.name}"
    )
    for nodeid in run["failed"]:
        print(f"  FAILED {nodeid}")
    return 1 if run["failed"] else 0


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _requirements(dist) -> set[str]:
    """Names a distribution requires, extras left out (standard library parsing)."""
    names = set()
    for requirement in dist.requires or []:
        if "extra ==" in requirement.replace("extra==", "extra =="):
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if match:
            names.add(_name(match.group(1)))
    return names


def orphans(package: str = "transformers") -> list[str]:
    """Requirements of ``package`` that no other installed distribution requires."""
    installed = {_name(d.metadata["Name"]): d for d in distributions()}
    if _name(package) not in installed:
        return []
    theirs = _requirements(installed[_name(package)])
    others = set()
    for name, dist in installed.items():
        if name != _name(package):
            others |= _requirements(dist)
    return sorted(n for n in theirs if n in installed and n not in others)


def _write(data: dict) -> None:
    data["boundaries"] = boundaries(data)
    RESULTS.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def record_index(releases: list[str]) -> int:
    """Store the final releases of the range offered by the package index, sorted."""
    data = json.loads(RESULTS.read_text("utf-8")) if RESULTS.exists() else {}
    data = {
        "about": ABOUT,
        "index": sorted(set(releases), key=release_key),
        **{k: v for k, v in data.items() if k not in ("about", "index")},
    }
    data.setdefault("claims", [])
    data.setdefault("runs", [])
    _write(data)
    return 0


def check() -> int:
    data = json.loads(RESULTS.read_text("utf-8"))
    if data.get("boundaries") != boundaries(data):
        print(f"{RESULTS.name}: its boundaries are not those its runs give")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("update", help="add one run (JUnit XML) to the results")
    up.add_argument("junit", type=Path)
    up.add_argument("--scope", choices=SCOPES, required=True, help="what the run ran")
    idx = commands.add_parser("index", help="record the releases the package index offers")
    idx.add_argument("releases", nargs="+")
    commands.add_parser("orphans", help="transformers' requirements nothing else requires")
    commands.add_parser("check", help="exit 1 if the stored boundaries are out of date")
    args = parser.parse_args(argv)
    if args.command == "update":
        return update(args.junit, args.scope)
    if args.command == "index":
        return record_index(args.releases)
    if args.command == "orphans":
        print(" ".join(orphans()))
        return 0
    return check()


if __name__ == "__main__":
    sys.exit(main())
