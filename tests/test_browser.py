"""The built site in a real browser: Debian's chromium driven by Playwright, headless.

Needs ``apt-get install chromium`` (``.ci/run`` installs it).  Outside CI a
missing chromium skips these tests with that instruction; with ``CI`` set it
fails.  The per-page checks read the one pass of ``site_pass.py``.  Screenshots of
every note page, light and dark, land in ``test-artifacts/screenshots/``: they run in
``nox -s screenshots`` (marker ``screenshots``), not in ``nox -s site``.
"""

from __future__ import annotations

import re
import urllib.request

import pytest
from conftest import LANGUAGES, ROOT, page_names

pytestmark = [pytest.mark.site, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts" / "screenshots"


def _open(context, url: str):
    """Open *url*; return the page and the console errors, failed requests and HTTP errors it
    met."""
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "requestfailed", lambda req: errors.append(f"request failed: {req.url} ({req.failure})")
    )
    page.on(
        "response",
        lambda res: errors.append(f"HTTP {res.status}: {res.url}") if res.status >= 400 else None,
    )
    page.goto(url, wait_until="networkidle")
    return page, errors


class TestEveryPage:
    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_pages_load_cleanly_with_their_figures(self, site_visits, server, lang) -> None:
        """Every page (the generated indexes and search page too): no console error, no failed
        request or HTTP error, no request to another host, every image rendered, and a favicon
        that loads (so that no browser asks for a missing /favicon.ico)."""
        visits = site_visits.of(lang)
        assert len(visits) >= len(page_names())
        icons = set()
        for visit in visits:
            assert visit.errors == [], f"{lang}/{visit.name}: {visit.errors}"
            assert visit.broken_images == [], f"{lang}/{visit.name}: {visit.broken_images}"
            assert len(visit.icons) == 1, f"{lang}/{visit.name}: icon links {visit.icons}"
            icons.update(visit.icons)
        for url in icons:
            # The pass may have run on another pytest-xdist worker, with a server of its own.
            url = server + url.removeprefix(site_visits.server)
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200, url
                assert response.headers["content-type"].startswith("image/"), url
        assert site_visits.foreign_requests == []

    def test_root_page_loads_cleanly(self, browser_context, server) -> None:
        """The language-picking root page sends the reader on with no error and names a favicon that
        loads."""
        page, errors = _open(browser_context, f"{server}/index.html")
        page.wait_for_url(f"{server}/*/index.html")
        page.close()
        root = browser_context.request.get(f"{server}/index.html").text()
        icon = re.search(r'<link rel="icon" href="([^"]+)"', root)
        assert errors == [] and icon is not None
        assert browser_context.request.get(f"{server}/{icon[1]}").status == 200

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_switcher_lands_on_the_same_page(self, site_visits, lang) -> None:
        """Clicking the language switcher opens the same page in the other language."""
        other = next(code for code in LANGUAGES if code != lang)
        for name in page_names():
            assert site_visits.visits[lang, name].switched == (
                f"{site_visits.server}/{other}/{name}.html",
                other,
            ), f"{lang}/{name}"


class TestSearch:
    def test_french_search_finds_masque(self, browser_context, server) -> None:
        """The French search index (French stemming) finds pages for "masque"."""
        page, errors = _open(browser_context, f"{server}/fr/search.html?q=masque")
        page.wait_for_selector("#search-results ul.search li", timeout=15000)
        hits = page.locator("#search-results ul.search li").count()
        page.close()
        assert hits > 0 and errors == []


@pytest.mark.screenshots
class TestScreenshots:
    @pytest.mark.parametrize("theme", ["light", "dark"])
    def test_screenshot_each_note_page(self, browser_context, server, theme) -> None:
        """A full-page screenshot of every note page in each language and theme is written."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        notes = [name for name in page_names() if name.startswith("notes/") or name == "index"]
        for lang in LANGUAGES:
            for name in notes:
                page, _ = _open(browser_context, f"{server}/{lang}/index.html")
                page.evaluate(f"localStorage.setItem('theme', '{theme}')")
                page.goto(f"{server}/{lang}/{name}.html", wait_until="networkidle")
                assert page.evaluate("document.body.dataset.theme") == theme
                out = ARTIFACTS / f"{lang}-{name.replace('/', '-')}-{theme}.png"
                page.screenshot(path=str(out), full_page=True)
                page.close()
                assert out.stat().st_size > 10_000
