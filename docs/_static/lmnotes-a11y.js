/* Every block that scrolls can be reached and scrolled with the keyboard.
 *
 * Code, printed outputs, wide tables and long equations scroll inside their own box
 * (lmnotes.css) rather than widening the page.  Which of them overflow depends on the width
 * of the screen, so the check runs here, on load, after MathJax and on resize: a block
 * whose content overflows gets tabindex="0" (the arrow keys then scroll it), role="region"
 * and a name of its own in the page's language ("Output 2, scrollable area"; a figure is named
 * by the first sentence of its description: "Figure 1, scrollable area: Attention mask
 * “causal mask”"); a block that fits loses what this script gave it.  No request, no
 * dependency.
 */
(function () {
  "use strict";

  /* The words, in the page's language: written into each page from the site's catalog
   * (docs/_ext/lmnotes_catalog.py, SCRIPT_WORDS); English where a page has none. */
  var ENGLISH = { code: "Code", output: "Output", table: "Table", math: "Equation",
                  block: "Block", figure: "Figure", region: "%(kind)s %(number)s, scrollable area",
                  described: "%(region)s: %(description)s" };
  var MARK = "lmnotesScroll";  // data-lmnotes-scroll: set on the blocks this script changed

  function words() {
    return window.lmnotesWords || ENGLISH;
  }

  /** A message with its %(name)s placeholders filled from values. */
  function fill(message, values) {
    return message.replace(/%\((\w+)\)[sd]/g, function (whole, name) {
      return name in values ? String(values[name]) : whole;
    });
  }

  function scrolls(value) {
    return value === "auto" || value === "scroll";
  }

  function overflows(el) {
    var style = getComputedStyle(el);
    return (scrolls(style.overflowX) && el.scrollWidth > el.clientWidth + 1) ||
           (scrolls(style.overflowY) && el.scrollHeight > el.clientHeight + 1);
  }

  /** The figure a block shows: an inline SVG figure (role="img") or an image with its alt. */
  function figureOf(el) {
    return el.querySelector("svg[role='img'][aria-label], img[alt]:not([alt=''])");
  }

  /** The first sentence of a figure's description (at most 100 characters). */
  function figureName(figure) {
    var text = (figure.getAttribute("aria-label") || figure.getAttribute("alt") || "").trim();
    var first = text.split(/\.\s/)[0].replace(/\.$/, "");
    return first.length > 100 ? first.slice(0, 99) + "\u2026" : first;
  }

  function kind(el) {
    if (figureOf(el) && !el.querySelector("table, pre")) return "figure";
    if (el.closest(".cell_output, .output")) return el.querySelector("table") ? "table" : "output";
    if (el.matches("pre") || el.closest(".highlight")) return "code";
    if (el.matches("mjx-container") || el.closest("mjx-container")) return "math";
    if (el.querySelector("table")) return "table";
    return "block";
  }

  function update() {
    var article = document.querySelector("article");
    if (!article) return;
    var w = words();
    var counts = {};
    var all = article.querySelectorAll("*");
    for (var i = 0; i < all.length; i++) {
      var el = all[i];
      var ours = el.dataset[MARK] === "1";
      if (overflows(el)) {
        // Already reachable by itself (a link, MathJax's focusable math): leave it alone.
        if (!ours && el.hasAttribute("tabindex")) continue;
        var k = kind(el);
        counts[k] = (counts[k] || 0) + 1;
        el.dataset[MARK] = "1";
        el.setAttribute("tabindex", "0");
        el.setAttribute("role", "region");
        var name = fill(w.region, { kind: w[k], number: counts[k] });
        if (k === "figure") name = fill(w.described, { region: name, description: figureName(figureOf(el)) });
        el.setAttribute("aria-label", name);
      } else if (ours) {
        delete el.dataset[MARK];
        el.removeAttribute("tabindex");
        el.removeAttribute("role");
        el.removeAttribute("aria-label");
      }
    }
  }

  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      update();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
  window.addEventListener("load", schedule);
  window.addEventListener("resize", schedule);
  if (document.fonts?.ready) document.fonts.ready.then(schedule);
  // MathJax typesets after load: widths change when it is done.
  window.addEventListener("load", function () {
    if (window.MathJax && MathJax.startup?.promise) {
      MathJax.startup.promise.then(update);
    }
  });
})();
