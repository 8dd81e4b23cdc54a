"""Accessibility of the built site in chromium: axe-core, the keyboard, a phone's width.

axe-core comes from npm through ``tests/package.json`` and its lock file: ``nox -s tests``
runs ``npm ci --prefix tests`` in its install phase (so ``nox --install-only`` fetches it),
and the tests read ``tests/node_modules/axe-core/axe.min.js`` from disk and inject it into
each page: nothing is downloaded while the tests run, no page asks a CDN for anything.
Without that file the tests skip with the command to run (under ``CI`` they fail).

axe-core and the 375 px checks of every page read the one pass of ``site_pass.py`` (each
page loaded once per language, axe run in both themes at both widths); the keyboard tests
open their page themselves. Per-rule violation counts land in ``test-artifacts/axe/``; the
375 px screenshots (``nox -s screenshots``) in ``test-artifacts/screenshots/`` (neither is
committed).
"""

from __future__ import annotations

import re

import pytest
from conftest import LANGUAGES
from site_pass import ARTIFACTS, DESKTOP, PHONE, SETTLED, THEMES, site_pages, violations

#: The smallest text a figure may draw at 375 px, in CSS px (about 12 px: rounding aside).
LEGIBLE_PX = 11.5

pytestmark = [pytest.mark.site, pytest.mark.browser]

#: The note page the keyboard test tabs through: it has code, printed outputs and a table.
KEYBOARD_PAGE = "notes/mlm"

# Elements of the page that scroll (in either direction) because their content overflows.
SCROLLABLE = """() => {
  const scrolls = v => v === 'auto' || v === 'scroll';
  return Array.from(document.querySelectorAll('article *')).filter(el => {
    const s = getComputedStyle(el);
    return (scrolls(s.overflowX) && el.scrollWidth > el.clientWidth + 1)
        || (scrolls(s.overflowY) && el.scrollHeight > el.clientHeight + 1);
  });
}"""

# What the focused element looks like: where it is, whether it is drawn and how focus shows.
FOCUSED = """async () => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  await Promise.all(el.getAnimations().map(a => a.finished));  // a copy button fading in
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  let opacity = 1;
  for (let e = el; e; e = e.parentElement) opacity *= parseFloat(getComputedStyle(e).opacity);
  return {
    tag: el.tagName.toLowerCase(), cls: el.className && String(el.className),
    text: (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40),
    scrollIndex: el.dataset.scrollIndex === undefined ? null : Number(el.dataset.scrollIndex),
    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1,
    shadow: s.boxShadow !== 'none',
    visible: r.width > 0 && r.height > 0 && opacity > 0.5 && s.visibility !== 'hidden',
  };
}"""


def _themed_page(context, server: str, lang: str, theme: str, viewport: dict):
    """A new tab at ``viewport`` whose furo theme is ``theme`` (furo reads it from localStorage)."""
    page = context.new_page()
    page.set_viewport_size(viewport)
    page.goto(f"{server}/{lang}/index.html", wait_until="domcontentloaded")
    page.evaluate("theme => localStorage.setItem('theme', theme)", theme)
    return page


def _visit(page, url: str, theme: str) -> None:
    page.goto(url, wait_until="load")
    page.evaluate(SETTLED)
    assert page.evaluate("document.body.dataset.theme") == theme, url


class TestAxe:
    @pytest.mark.parametrize("theme", THEMES)
    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_no_violation_on_any_page(self, site_visits, site, lang, theme) -> None:
        """axe-core finds no violation of any impact on any page, at 1200 px, in this language and
        theme."""
        visits = site_visits.of(lang)
        assert [visit.name for visit in visits] == site_pages(site, lang)
        assert all(visit.theme == "light" for visit in visits), "the stored theme was not used"
        found = violations(visits, "desktop", theme)
        assert found == [], f"{len(found)} axe violations:\n" + "\n".join(found)


class TestPhoneWidth:
    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_no_sideways_scroll_and_no_violation(self, site_visits, lang) -> None:
        """At 375 px no page is wider than the screen (wide blocks scroll in their own box) and axe
        finds nothing (the blocks that overflow only now are reachable too).  Colours are the
        theme's, not the width's: axe runs here in the light theme and at 1200 px in both."""
        visits = site_visits.of(lang)
        too_wide = [
            f"{lang}/{v.name}: {v.phone_width} px wide ({v.too_wide})"
            for v in visits
            if v.phone_width > PHONE["width"]
        ]
        assert all(v.phone_width > 0 for v in visits)
        assert too_wide == [], "pages wider than 375 px:\n" + "\n".join(too_wide)
        found = violations(visits, "phone", "light")
        assert found == [], f"{len(found)} axe violations:\n" + "\n".join(found)

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_figure_labels_are_legible(self, site_visits, lang) -> None:
        """At 375 px every figure's smallest text (tick labels, legends, tokens) renders at about
        12 px or more: the figure keeps its width and scrolls sideways in a block that takes the
        keyboard focus and is named after the figure."""
        figures = [
            (visit.name, figure) for visit in site_visits.of(lang) for figure in visit.phone_figures
        ]
        assert len(figures) >= 5, "the site should have figures to measure"
        small = [
            f"{name}: {figure['smallest']:.1f} px ({figure['text']!r}) in {figure['name']!r}"
            for name, figure in figures
            if figure["smallest"] is None or figure["smallest"] < LEGIBLE_PX
        ]
        assert small == [], "figure text too small at 375 px:\n" + "\n".join(small)
        scrolled = [figure for _, figure in figures if figure["scroller"] is not None]
        assert scrolled, "at 375 px some figure should be wider than the screen"
        for figure in scrolled:
            scroller = figure["scroller"]
            assert scroller["tabindex"] == "0" and scroller["role"] == "region", figure
            first = re.split(r"\.\s", figure["name"])[0].rstrip(".")  # its first sentence
            assert first[:50] in (scroller["label"] or ""), figure


@pytest.mark.screenshots
class TestPhoneScreenshots:
    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_screenshot_every_page_at_375_px(self, browser_context, server, site, lang) -> None:
        """A full-page screenshot of every page at 375 px is written (light; the home and note
        pages dark too): ``375-<lang>-<page>-<theme>.png``."""
        shots = ARTIFACTS / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page = _themed_page(browser_context, server, lang, "light", PHONE)
        for name in site_pages(site, lang):
            _visit(page, f"{server}/{lang}/{name}.html", "light")
            # Full-page shots of the long API pages are slow: light only for them.
            themes = (
                ("dark", "light") if name == "index" or name.startswith("notes/") else ("light",)
            )
            for theme in themes:
                page.evaluate("theme => document.body.dataset.theme = theme", theme)
                out = shots / f"375-{lang}-{name.replace('/', '-')}-{theme}.png"
                page.screenshot(path=str(out), full_page=True)
                assert out.stat().st_size > 10_000, out
        page.close()


class TestKeyboard:
    @pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
    def test_tab_reaches_every_scrollable_block_with_visible_focus(
        self, browser_context, server, viewport
    ) -> None:
        """Tabbing through a note page focuses every block that scrolls, each focus stop is drawn
        with an outline or shadow, and the arrow keys scroll the focused block."""
        page = _themed_page(browser_context, server, "en", "light", viewport)
        _visit(page, f"{server}/en/{KEYBOARD_PAGE}.html", "light")
        # Every disclosure open (exercise answers, the entries that cite a figure): what a
        # reader opens must be reachable too.
        page.evaluate(
            """() => new Promise(r => {
            document.querySelectorAll('article details').forEach(d => { d.open = true; });
            requestAnimationFrame(() => requestAnimationFrame(r)); })"""
        )
        count = page.evaluate(f"""() => {{
            const blocks = ({SCROLLABLE})();
            blocks.forEach((el, i) => el.dataset.scrollIndex = i);
            return blocks.length;
        }}""")
        assert count > 0, "the page should have at least one block that scrolls"
        links = page.evaluate("document.querySelectorAll('a[href], button, [tabindex]').length")
        reached: set[int] = set()
        unseen: list[str] = []
        not_scrolled: list[int] = []
        page.locator("body").focus()
        for _ in range(links + 10):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUSED)
            if focused is None:  # wrapped round past the end of the page
                break
            if not (focused["visible"] and (focused["outline"] or focused["shadow"])):
                unseen.append(f"{focused['tag']}.{focused['cls']} {focused['text']!r}")
            index = focused["scrollIndex"]
            if index is not None and index not in reached:
                reached.add(index)
                before = page.evaluate(
                    "() => { const e = document.activeElement; "
                    "return [e.scrollLeft, e.scrollTop]; }"
                )
                page.keyboard.press(
                    "End"
                    if page.evaluate(
                        "() => { const e = document.activeElement; "
                        "return e.scrollHeight > e.clientHeight + 1; }"
                    )
                    else "ArrowRight"
                )
                # Scrolling may be smooth: wait up to half a second for the block to move.
                after = before
                for _ in range(10):
                    page.wait_for_timeout(50)
                    after = page.evaluate(
                        "() => { const e = document.activeElement; "
                        "return [e.scrollLeft, e.scrollTop]; }"
                    )
                    if after != before:
                        break
                if after == before:
                    not_scrolled.append(index)
        missing = sorted(set(range(count)) - reached)
        described = page.evaluate(
            """missing => missing.map(i => {
            const e = document.querySelector(`[data-scroll-index="${i}"]`);
            return e.tagName.toLowerCase() + '.' + e.className + ': '
                + e.textContent.trim().slice(0, 40);
        })""",
            missing,
        )
        page.close()
        assert described == [], f"scrollable blocks never focused ({count} in all): {described}"
        assert unseen == [], f"focus stops with no visible focus: {unseen}"
        assert not_scrolled == [], f"blocks the keys did not scroll: {not_scrolled}"
