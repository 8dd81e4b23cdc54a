"""The hosted build, rehearsed: two cold builds give the same text, and a build needs no network.

The French site built as its own Read the Docs project would build it (the command of
``.readthedocs.yaml``, in a fresh clone, no helper variable) runs inside a fresh network
namespace (``unshare --net``, loopback up) with an empty execution cache; its text must
equal the French site under test on every page.  Numbers measured during a build
(timings) are marked on the pages, an admonition with class ``measured`` or a
code cell tagged ``measured``, and left out of the comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import page_names

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


class TestHostedBuild:
    def test_read_the_docs_french_build_offline_gives_the_same_text(
        self, site: Path, hosted_french_build
    ) -> None:
        """What ``.readthedocs.yaml`` runs for the French project, alone: plain ``python -m
        sphinx -b html -D language=fr -E -n -W --keep-going`` in a fresh clone (no build folder,
        no execution cache, so every cell runs), with no ``LMNOTES_*`` variable and no network.
        It passes, and every page reads as the French site under test, whose outputs came from
        the execute step: two cold executions give the same text (tests/test_execute.py compares
        their outputs cell by cell)."""
        build = hosted_french_build
        assert build.returncode == 0, build.log
        html = build.html
        assert 'lang="fr"' in (html / "index.html").read_text("utf-8")
        differ = [
            name
            for name in page_names()
            if page_text((html / f"{name}.html").read_text("utf-8"))
            != page_text((site / "fr" / f"{name}.html").read_text("utf-8"))
        ]
        assert differ == []
