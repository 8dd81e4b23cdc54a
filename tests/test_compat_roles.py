"""docs/_ext/lmnotes_compat.py: release numbers on the pages come from the measured results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import compat_report
import pytest
from bs4 import BeautifulSoup
from conftest import DOCS

pytest.importorskip("myst_parser")


def _run(release: str, **outcomes: str) -> dict:
    return {
        "transformers": release,
        "scope": "claims and library tests",
        "tokenizers": "0.22",
        "huggingface_hub": "1.0",
        "torch": "2.13.0",
        "python": "3.11",
        "counts": {"tests": 3, "failures": 0, "errors": 0, "skipped": 0},
        "failed": [],
        "claims": {
            c: {"outcome": o, "as_documented": True, "detail": ""} for c, o in outcomes.items()
        },
    }


RESULTS = {
    "about": "test",
    "index": ["4.57.6", "5.0.0", "5.1.0", "5.2.0"],
    "claims": [
        {
            "id": "seed",
            "statement": "Seed 0 seeds (before {since}`seed`, it did not).",
            "page": "notes/index",
        },
        {"id": "flip", "statement": "It flips.", "page": "notes/index"},
        {"id": "gone", "statement": "The class is gone.", "page": None},
    ],
    "runs": [
        _run("4.57.6", seed="differs", flip="differs", gone="holds"),
        _run("5.0.0", seed="differs", flip="holds", gone="holds"),
        _run("5.1.0", seed="holds", flip="differs", gone="differs"),
        _run("5.2.0", seed="holds", flip="holds", gone="differs"),
    ],
}
PAGE = """# Notes

Seed 0 works from {since}`seed` on; the class goes in {until}`gone`. Measured from
{measured}`oldest` to {measured}`newest`; the source of {release}`5.0.0`. It flips: holds
on {holds-on}`flip`.

```python
x = "4.57.6 in code is fine"
```

```{compat-claims} notes/index
```

```{compat-claims}
```

```{compat-runs}
```
"""


def _project(base: Path, page: str) -> Path:
    src = base / "src"
    src.mkdir()
    results = base / "compatibility.json"
    data = {**RESULTS}
    data["boundaries"] = compat_report.boundaries(data)
    results.write_text(json.dumps(data), "utf-8")
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['myst_parser', 'lmnotes_compat']\n"
        f"lmnotes_compat_results = {str(results)!r}\n"
        "root_doc = 'notes/index'\n",
        "utf-8",
    )
    (src / "notes").mkdir()
    (src / "notes" / "index.md").write_text(page, "utf-8")
    return src


def _build(src: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-q", "-n", str(src), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[BeautifulSoup, str]:
    base = tmp_path_factory.mktemp("compat-roles")
    result = _build(_project(base, PAGE), base / "html")
    assert result.returncode == 0, result.stderr
    html = (base / "html" / "notes" / "index.html").read_text("utf-8")
    return BeautifulSoup(html, "html.parser"), result.stderr


class TestRoles:
    def test_no_warning(self, built) -> None:
        """Roles that the results support, and a release in code, warn about nothing."""
        _, warnings = built
        assert warnings.strip() == ""

    def test_releases_come_from_the_results(self, built) -> None:
        """{since} is the first release where the claim holds, {until} where it stops,
        {measured} the ends of the range, {holds-on} the ranges where it holds."""
        soup, _ = built
        numbers = [span.get_text() for span in soup.select(".lmnotes-release")]
        assert numbers[:6] == ["5.1.0", "5.1.0", "4.57.6", "5.2.0", "5.0.0", "5.0.0 and 5.2.0"]

    def test_each_release_links_to_its_row(self, built) -> None:
        """{since}`seed` links to the claim's row, whose id is on the compatibility table."""
        soup, _ = built
        link = soup.select(".lmnotes-release a")[0]
        assert link["href"].endswith("#compat-seed")
        assert soup.find(id="compat-seed") is not None
        assert soup.select(".lmnotes-release a")[2]["href"].endswith("#compat-runs")


class TestTable:
    def test_marks_in_release_order_with_words(self, built) -> None:
        """Each row: one mark per run, a tooltip naming release and outcome, and a summary
        in words (the marks are hidden from screen readers)."""
        soup, _ = built
        row = soup.find(id="compat-flip").find_parent("tr")
        strip = row.select_one(".lmnotes-compat-strip")
        assert strip["aria-hidden"] == "true"
        marks = [(m["title"], m.get_text()) for m in strip.select(".lmnotes-compat-mark")]
        assert marks == [
            ("4.57.6: differs", "✗"),
            ("5.0.0: holds", "✓"),
            ("5.1.0: differs", "✗"),
            ("5.2.0: holds", "✓"),
        ]
        summary = row.select_one(".lmnotes-compat-summary").get_text()
        assert summary == "✗ differs: 4.57.6; ✓ holds: 5.0.0; ✗ differs: 5.1.0; ✓ holds: 5.2.0"
        changed = row.find_all("td")[-1].get_text(" ", strip=True)
        assert "holds from 5.0.0 (after 4.57.6)" in changed
        assert "differs from 5.1.0 (after 5.0.0)" in changed

    def test_other_claims_and_runs(self, built) -> None:
        """Claims of no page go to the directive without argument; the runs table lists
        every release with its environment."""
        soup, _ = built
        assert soup.find(id="compat-gone") is not None
        runs = soup.find(id="compat-runs")
        table = runs if runs.name == "table" else runs.find_next("table")
        cells = [tr.find("td").get_text(strip=True) for tr in table.select("tbody tr")]
        assert cells == ["4.57.6", "5.0.0", "5.1.0", "5.2.0"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Since 5.19 the seed works.", "release 5.19 typed in the prose"),
        ("The class goes in 4.57.6.", "release 4.57.6 typed in the prose"),
        ("It holds from {since}`flip` on.", "changes to 'holds' 2 times"),
        ("It holds from {since}`nothing` on.", "no claim 'nothing'"),
        ("As in {release}`5.5.0`.", "'5.5.0' was not measured"),
    ],
)
def test_warnings(tmp_path: Path, text: str, expected: str) -> None:
    """A typed release, a claim without a single change, an unknown claim and an unmeasured
    release each warn: the strict build fails."""
    result = _build(_project(tmp_path, f"# Notes\n\n{text}\n"), tmp_path / "html")
    assert expected in result.stderr


def test_numbers_that_are_not_releases_do_not_warn(tmp_path: Path) -> None:
    """Decimals, versions of other projects and numbers in code are not read as releases."""
    text = "A loss of 4.7e-01, a rate of 0.45, torch 2.5, Python 3.11, `5.19` in code."
    result = _build(_project(tmp_path, f"# Notes\n\n{text}\n"), tmp_path / "html")
    assert "typed in the prose" not in result.stderr
