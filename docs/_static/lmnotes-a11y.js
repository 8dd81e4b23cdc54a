/* Every block that scrolls can be reached and scrolled with the keyboard.
 *
 * Code, printed outputs, wide tables and long equations scroll inside their own box
 * (lmnotes.css) rather than widening the page.  Which of them overflow depends on the width
 * of the screen, so the check runs here, on load, after MathJax and on resize: a block
 * whose content overflows gets tabindex="0" (the arrow keys then scroll it), role="region"
 * and a name of its own in the page's language ("Output 2, scrollable area"); a block that
 * fits loses what this script gave it.  No request, no dependency.
 */
(function () {
  "use strict";

  var WORDS = {
    en: { code: "Code", output: "Output", table: "Table", math: "Equation", block: "Block",
          area: "scrollable area" },
    fr: { code: "Code", output: "Sortie", table: "Tableau", math: "Équation", block: "Bloc",
          area: "zone défilante" }
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

  function kind(el) {
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
        el.setAttribute("aria-label", w[k] + " " + counts[k] + ", " + w.area);
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
