"""Accessibility of the built site in chromium: axe-core, the keyboard, a phone's width.

axe-core comes from npm through ``tests/package.json`` and its lock file: ``nox -s tests``
runs ``npm ci --prefix tests`` in its install phase (so ``nox --install-only`` fetches it),
and the tests read ``tests/node_modules/axe-core/axe.min.js`` from disk and inject it into
each page: nothing is downloaded while the tests run, no page asks a CDN for anything.
Without that file the tests skip with the command to run (under ``CI`` they fail).

The browser, the local server and the request guard are those of ``test_browser.py``.
Per-rule violation counts land in ``test-artifacts/axe/`` and the 375 px screenshots in
``test-artifacts/screenshots/`` (neither is committed).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import LANGUAGES, ROOT, page_names
from test_browser import GENERATED

pytestmark = [pytest.mark.site, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts"
THEMES = ("light", "dark")
DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 375, "height": 812}
#: The note page the keyboard test tabs through: it has code, printed outputs and a table.
KEYBOARD_PAGE = "notes/mlm"

# Waits until MathJax has typeset the page and the fonts are in, so that widths are final.
SETTLED = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
}"""

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


def site_pages(site: Path) -> list[str]:
    """Every HTML page of one language: the source pages and the generated ones that exist."""
    return page_names() + [name for name in GENERATED if (site / "en" / f"{name}.html").exists()]


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


def _axe(page, source: str) -> list[dict]:
    page.add_script_tag(content=source)
    return page.evaluate(RUN_AXE)


def _audit(
    context,
    server: str,
    site: Path,
    axe_source: str,
    lang: str,
    theme: str,
    viewport: dict,
    label: str,
    each_page=None,
) -> list[str]:
    """Run axe on every page; write the per-rule counts; return every violation, one per node."""
    page = _themed_page(context, server, lang, theme, viewport)
    found: list[str] = []
    counts: Counter[str] = Counter()
    for name in site_pages(site):
        _visit(page, f"{server}/{lang}/{name}.html", theme)
        if each_page is not None:
            each_page(page, name)
        for violation in _axe(page, axe_source):
            counts[f"{violation['id']} ({violation['impact']})"] += len(violation["targets"])
            found += [
                f"{lang}/{name} [{theme}, {viewport['width']} px] {violation['id']} "
                f"({violation['impact']}): {violation['help']}: {target}"
                for target in violation["targets"]
            ]
    page.close()
    out = ARTIFACTS / "axe" / f"{label}-{lang}-{theme}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(sorted(counts.items())), indent=1) + "\n", encoding="utf-8")
    return found


class TestAxe:
    @pytest.mark.parametrize("theme", THEMES)
    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_no_violation_on_any_page(
        self, browser_context, server, site, axe_source, lang, theme
    ) -> None:
        """axe-core finds no violation of any impact on any page, at 1200 px, in this language and
        theme."""
        found = _audit(browser_context, server, site, axe_source, lang, theme, DESKTOP, "desktop")
        assert found == [], f"{len(found)} axe violations:\n" + "\n".join(found)


class TestPhoneWidth:
    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_no_sideways_scroll_and_no_violation(
        self, browser_context, server, site, axe_source, lang
    ) -> None:
        """At 375 px no page is wider than the screen (wide blocks scroll in their own box) and axe
        finds nothing (the blocks that overflow only now are reachable too); full-page screenshots
        are written.  Colours are the theme's, not the width's: axe runs here in the light theme
        and at 1200 px in both."""
        shots = ARTIFACTS / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        too_wide: list[str] = []

        def check(page, name: str) -> None:
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                culprits = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
                    .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
                    .filter(e => !e.parentElement
                        || e.parentElement.getBoundingClientRect().right <= innerWidth + 1)
                    .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className)""")
                too_wide.append(f"{lang}/{name}: {width} px wide ({culprits})")
            # Every page in the light theme; the home and note pages in the dark one too (furo's
            # CSS follows body[data-theme]): full-page shots of the long API pages are slow.
            themes = (
                ("dark", "light") if name == "index" or name.startswith("notes/") else ("light",)
            )
            for theme in themes:
                page.evaluate("theme => document.body.dataset.theme = theme", theme)
                page.screenshot(
                    path=str(shots / f"375-{lang}-{name.replace('/', '-')}-{theme}.png"),
                    full_page=True,
                )

        found = _audit(
            browser_context, server, site, axe_source, lang, "light", PHONE, "phone", check
        )
        assert too_wide == [], "pages wider than 375 px:\n" + "\n".join(too_wide)
        assert found == [], f"{len(found)} axe violations:\n" + "\n".join(found)


class TestKeyboard:
    @pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
    def test_tab_reaches_every_scrollable_block_with_visible_focus(
        self, browser_context, server, viewport
    ) -> None:
        """Tabbing through a note page focuses every block that scrolls, each focus stop is drawn
        with an outline or shadow, and the arrow keys scroll the focused block."""
        page = _themed_page(browser_context, server, "en", "light", viewport)
        _visit(page, f"{server}/en/{KEYBOARD_PAGE}.html", "light")
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
                page.wait_for_timeout(50)
                after = page.evaluate(
                    "() => { const e = document.activeElement; "
                    "return [e.scrollLeft, e.scrollTop]; }"
                )
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
