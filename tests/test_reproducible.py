"""The hosted build, rehearsed: two cold builds give the same text, and a build needs no network.

The French site built as its own Read the Docs project would build it (the command of
``.readthedocs.yaml``, in a fresh clone, no helper variable) runs inside a fresh network
namespace (``unshare --net``, loopback up) with an empty execution cache; its text must
equal the French site under test on every page.  Numbers measured during a build
(timings) are marked on the pages, an admonition with class ``measured`` or a
code cell tagged ``measured``, and left out of the comparison.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import ROOT, page_names, tracked_copy

pytestmark = [pytest.mark.site, pytest.mark.slow]


def page_text(html: str) -> str:
    """The article's text without measured timings, as a reader sees it."""
    soup = BeautifulSoup(html, "lxml")
    article = soup.find("article") or soup
    for tag in article.select(".measured, .tag_measured, script, style"):
        tag.decompose()
    text = article.get_text(" ")
    # Matplotlib names images by content hash: equal figures give equal names, so keep src too.
    images = " ".join(sorted(img.get("src", "") for img in article.find_all("img")))
    return re.sub(r"\s+", " ", text).strip() + " | " + images


def _offline_prefix() -> list[str]:
    """A command prefix that runs in a new network namespace with only loopback up."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip") or "/usr/sbin/ip"
    probe = (
        subprocess.run(
            [unshare or "unshare", "--net", "--map-root-user", ip, "link", "set", "lo", "up"],
            capture_output=True,
            text=True,
            check=False,
        )
        if unshare
        else None
    )
    if probe is None or probe.returncode != 0:
        reason = "cannot create a network namespace (unshare --net): " + (
            probe.stderr if probe else "no unshare"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return [
        unshare,
        "--net",
        "--map-root-user",
        "sh",
        "-c",
        f'"{ip}" link set lo up && exec "$@"',
        "sh",
    ]


def _read_the_docs_command(language: str, output: Path) -> list[str]:
    """The html command of ``.readthedocs.yaml``, its variables filled as Read the Docs does."""
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text("utf-8"))
    (line,) = config["build"]["jobs"]["build"]["html"]
    line = line.replace("$READTHEDOCS_LANGUAGE", language)
    line = line.replace("$READTHEDOCS_OUTPUT", str(output))
    command = shlex.split(line)
    assert command[0] == "python", line
    return [sys.executable, *command[1:]]


class TestHostedBuild:
    def test_read_the_docs_french_build_offline_gives_the_same_text(
        self, site: Path, tmp_path: Path
    ) -> None:
        """What ``.readthedocs.yaml`` runs for the French project, alone: plain ``python -m
        sphinx -b html -D language=fr -E -n -W --keep-going`` in a fresh clone (no build folder,
        no execution cache, so every cell runs), with no ``LMNOTES_*`` variable and no network.
        It passes, and every page reads as the French site under test, whose outputs came from
        the English build: two cold executions give the same text."""
        clone = tracked_copy(tmp_path / "clone")
        output = tmp_path / "rtd"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LMNOTES_", "HF_"))}
        command = [*_offline_prefix(), *_read_the_docs_command("fr", output)]
        result = subprocess.run(
            command, cwd=clone, capture_output=True, text=True, env=env, check=False
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        html = output / "html"
        assert 'lang="fr"' in (html / "index.html").read_text("utf-8")
        differ = [
            name
            for name in page_names()
            if page_text((html / f"{name}.html").read_text("utf-8"))
            != page_text((site / "fr" / f"{name}.html").read_text("utf-8"))
        ]
        assert differ == []
