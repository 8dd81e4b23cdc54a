"""One browser pass over the built site: each page of each language is loaded once.

The per-page checks of ``test_browser.py`` and ``test_a11y.py`` (console errors, failed
requests, images, favicon, axe-core in both themes at 1200 px and in the light theme at
375 px, sideways scroll at 375 px, the size of figure labels at 375 px, the language
switcher) all read what this pass saw,
instead of opening every page again for each check. A page is loaded once at 1200 px in
the light theme; the dark theme is furo's own switch (``body[data-theme]``, which its CSS
follows), the phone is the same tab resized to 375 px; the switcher is clicked last, which
loads the page of the other language. The two languages run at once, each in a browser of
its own. Per-rule violation counts go to ``test-artifacts/axe/``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from conftest import LANGUAGES, ROOT, page_names

ARTIFACTS = ROOT / "test-artifacts"
#: Pages Sphinx writes besides the sources: the indexes and the search page.
GENERATED = ("genindex", "py-modindex", "search")
THEMES = ("light", "dark")
DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 375, "height": 812}
#: The (width, theme) pairs axe-core runs in, in the order the pass visits them.
AXE_RUNS = (("desktop", "light"), ("desktop", "dark"), ("phone", "light"))

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

# Each figure of the article (an inline SVG with role="img"): the smallest text it draws, in CSS
# px as rendered (computed font size times the scale from the SVG's units to the screen), the
# text itself, and the block that scrolls it sideways (overflow-x auto or scroll, content wider
# than the block), if any: whether that block can be focused and what it is called.
FIGURE_TEXT = """() => Array.from(document.querySelectorAll('article svg[role="img"]')).map(svg => {
  let smallest = null, text = '';
  svg.querySelectorAll('text').forEach(t => {
    if (!t.textContent.trim()) return;
    const m = t.getScreenCTM();
    const scale = Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    const px = parseFloat(getComputedStyle(t).fontSize) * scale;
    if (smallest === null || px < smallest) { smallest = px; text = t.textContent; }
  });
  const scrolling = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)
    && el.scrollWidth > el.clientWidth + 1;
  let box = svg.parentElement;
  while (box && !scrolling(box) && box.tagName !== 'ARTICLE') box = box.parentElement;
  const scrolls = box && box.tagName !== 'ARTICLE';
  return {
    name: (svg.getAttribute('aria-label') || '').slice(0, 60),
    smallest: smallest, text: text, width: svg.getBoundingClientRect().width,
    scroller: scrolls ? {tabindex: box.getAttribute('tabindex'), role: box.getAttribute('role'),
                         label: box.getAttribute('aria-label')} : null,
  };
})"""

# The elements that stick out past the right edge of the screen, outermost first.
TOO_WIDE = """() => Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
    .filter(e => !e.parentElement
        || e.parentElement.getBoundingClientRect().right <= innerWidth + 1)
    .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className)"""


@dataclass
class Visit:
    """What one page of one language showed in the pass."""

    lang: str
    name: str
    #: Console errors, page errors, failed requests and HTTP errors of its load.
    errors: list[str] = field(default_factory=list)
    #: ``src`` of the article's images that did not render.
    broken_images: list[str] = field(default_factory=list)
    #: ``href`` of its ``<link rel="icon">`` elements.
    icons: list[str] = field(default_factory=list)
    #: ``body.dataset.theme`` after loading with the light theme stored.
    theme: str = ""
    #: axe-core violations per ``(width, theme)`` of :data:`AXE_RUNS`.
    axe: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    #: ``document.documentElement.scrollWidth`` at 375 px, and what sticks out.
    phone_width: int = 0
    too_wide: list[str] = field(default_factory=list)
    #: At 375 px, each figure of the article (:data:`FIGURE_TEXT`): its smallest text in
    #: rendered px, that text, its width, and the block that scrolls it sideways.
    phone_figures: list[dict] = field(default_factory=list)
    #: The URL and ``<html lang>`` reached by clicking the switcher (source pages only).
    switched: tuple[str, str] | None = None


@dataclass
class SiteVisits:
    """Every :class:`Visit`, keyed by ``(lang, name)``, and the pass's own numbers."""

    visits: dict[tuple[str, str], Visit]
    seconds: float
    foreign_requests: list[str] = field(default_factory=list)
    #: The address the pages were served from (URLs in the visits start with it).
    server: str = ""

    def of(self, lang: str) -> list[Visit]:
        return [visit for (code, _), visit in self.visits.items() if code == lang]


def site_pages(site: Path, lang: str = "en") -> list[str]:
    """Every HTML page of one language: the source pages and the generated ones that exist."""
    return page_names() + [name for name in GENERATED if (site / lang / f"{name}.html").exists()]


def _set_theme(page, theme: str) -> None:
    page.evaluate(
        """theme => new Promise(r => { document.body.dataset.theme = theme;
        requestAnimationFrame(() => requestAnimationFrame(r)); })""",
        theme,
    )


def _visit(page, server: str, lang: str, name: str, axe_source: str, sources: set[str]) -> Visit:
    visit = Visit(lang, name)
    page.set_viewport_size(DESKTOP)
    page.errors = visit.errors
    # "load" waits for every resource of the page; SETTLED for MathJax and the fonts.
    page.goto(f"{server}/{lang}/{name}.html", wait_until="load")
    page.evaluate(SETTLED)
    visit.theme = page.evaluate("document.body.dataset.theme")
    visit.broken_images = page.eval_on_selector_all(
        "article img",
        "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)",
    )
    visit.icons = page.eval_on_selector_all('link[rel~="icon"]', "ls => ls.map(l => l.href)")
    page.add_script_tag(content=axe_source)
    for width, theme in AXE_RUNS:
        if width == "phone" and page.viewport_size != PHONE:
            page.set_viewport_size(PHONE)
            page.evaluate(SETTLED)
            visit.phone_width = page.evaluate("document.documentElement.scrollWidth")
            if visit.phone_width > PHONE["width"]:
                visit.too_wide = page.evaluate(TOO_WIDE)
            visit.phone_figures = page.evaluate(FIGURE_TEXT)
        _set_theme(page, theme)
        visit.axe[width, theme] = page.evaluate(RUN_AXE)
    page.errors = []  # what the other language's page meets is its own visit's
    if name in sources:
        page.set_viewport_size(DESKTOP)
        _set_theme(page, "light")
        other = next(code for code in LANGUAGES if code != lang)
        page.click(f"nav.lmnotes-lang-switch a[hreflang={other}]")
        page.wait_for_load_state("load")
        visit.switched = (page.url, page.locator("html").get_attribute("lang"))
    # Chromium asks for the favicon after "load": leaving for a blank page cancels what is
    # still pending while the errors go to the discarded list, not to the next visit's.
    page.goto("about:blank")
    return visit


def visit_language(context, server: str, site: Path, axe_source: str, lang: str) -> list[Visit]:
    """Visit every page of ``lang`` once in ``context``, in one tab."""
    start = time.monotonic()
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("requestfailed", lambda r: page.errors.append(f"request failed: {r.url} ({r.failure})"))
    page.on(
        "response",
        lambda r: page.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    sources = set(page_names())
    page.goto(f"{server}/{lang}/index.html", wait_until="load")
    page.evaluate("localStorage.setItem('theme', 'light')")
    page.goto("about:blank")  # cancels the favicon request, if pending (see _visit)
    names = site_pages(site, lang)
    visits = []
    for i, name in enumerate(names, 1):
        visits.append(_visit(page, server, lang, name, axe_source, sources))
        print(f"site pass: {lang} {i}/{len(names)} {name} ({time.monotonic() - start:.0f} s)")
    page.close()
    return visits


def visit_site(open_context, server: str, site: Path, axe_source: str) -> SiteVisits:
    """Visit every page of every language once; write the axe counts.

    ``open_context(lang)`` gives a context manager yielding a browser context: each language
    runs in a browser of its own, in its own thread (a Playwright instance per thread), so
    the two languages share the machine's cores.
    """
    start = time.monotonic()
    foreign: list[str] = []

    def one(lang: str) -> list[Visit]:
        with open_context(lang) as context:
            try:
                return visit_language(context, server, site, axe_source, lang)
            finally:
                foreign.extend(context.foreign_requests)

    with ThreadPoolExecutor(len(LANGUAGES)) as pool:
        futures = [pool.submit(one, lang) for lang in LANGUAGES]
        visits = {(v.lang, v.name): v for future in futures for v in future.result()}
    for lang in LANGUAGES:
        for width, theme in AXE_RUNS:
            counts: Counter[str] = Counter()
            for visit in (v for v in visits.values() if v.lang == lang):
                for violation in visit.axe[width, theme]:
                    counts[f"{violation['id']} ({violation['impact']})"] += len(
                        violation["targets"]
                    )
            out = ARTIFACTS / "axe" / f"{width}-{lang}-{theme}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(dict(sorted(counts.items())), indent=1) + "\n", "utf-8")
    return SiteVisits(visits, time.monotonic() - start, foreign, server)


def violations(visits: list[Visit], width: str, theme: str) -> list[str]:
    """Every violation axe found at ``width`` in ``theme``, one line per node."""
    size = (DESKTOP if width == "desktop" else PHONE)["width"]
    return [
        f"{visit.lang}/{visit.name} [{theme}, {size} px] {v['id']} ({v['impact']}): "
        f"{v['help']}: {target}"
        for visit in visits
        for v in visit.axe[width, theme]
        for target in v["targets"]
    ]
