"""Two cold builds give the same text, and a build needs no network.

One extra cold build of the English site runs inside a fresh network namespace
(``unshare --net``, loopback up) with an empty execution cache; its text must
equal the site under test on every page.  Numbers measured during a build
(timings) are marked on the pages, an admonition with class ``measured`` or a
code cell tagged ``measured``, and left out of the comparison.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import DOCS, STRICT, page_names

pytestmark = [pytest.mark.site, pytest.mark.slow]


def page_text(html: str) -> str:
    """The article's text without measured timings, as a reader sees it."""
    soup = BeautifulSoup(html, "html.parser")
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


class TestColdRebuild:
    def test_offline_cold_build_gives_the_same_text(self, site: Path, tmp_path: Path) -> None:
        """A cold English build with no network and an empty cache reproduces every page's text."""
        outdir = tmp_path / "en"
        env = {**os.environ, "LMNOTES_NB_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
        command = [
            *_offline_prefix(),
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-D",
            "language=en",
            *STRICT,
            str(DOCS),
            str(outdir),
        ]
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        differ = [
            name
            for name in page_names()
            if page_text((outdir / f"{name}.html").read_text("utf-8"))
            != page_text((site / "en" / f"{name}.html").read_text("utf-8"))
        ]
        assert differ == []
