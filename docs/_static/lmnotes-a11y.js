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

  var WORDS = {
    en: { code: "Code", output: "Output", table: "Table", math: "Equation", block: "Block",
          figure: "Figure", area: "scrollable area", colon: ": " },
    fr: { code: "Code", output: "Sortie", table: "Tableau", math: "Équation", block: "Bloc",
          figure: "Figure", area: "zone défilante", colon: "\u00a0: " }
  };
  var MARK = "lmnotesScroll";  // data-lmnotes-scroll: set on the blocks this script changed

  function words() {
    var lang = (document.documentElement.lang || "en").slice(0, 2).toLowerCase();
    return WORDS[lang] || WORDS.en;
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
        var name = w[k] + " " + counts[k] + ", " + w.area;
        if (k === "figure") name += w.colon + figureName(figureOf(el));
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
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(schedule);
  // MathJax typesets after load: widths change when it is done.
  window.addEventListener("load", function () {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(update);
    }
  });
})();
