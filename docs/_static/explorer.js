/* lmnotes batch explorer, the interface: the form, the batch table and the notices, built
 * from the JSON data and the words that lmnotes.explorer.explorer_html puts on the page.
 *
 * The batches themselves come from window.lmnotesExplorer (compute, decode, visible,
 * seedValue and the seed's bounds), which explorer-compute.js sets: explorer_html loads it
 * before this script.  No network, no dependency.
 */
(function () {
  "use strict";

  var api = window.lmnotesExplorer;
  if (!api) throw new Error("explorer.js: window.lmnotesExplorer is missing; load explorer-compute.js before explorer.js");
  var compute = api.compute, decode = api.decode, visible = api.visible, seedValue = api.seedValue;
  var SEED_MIN = api.SEED_MIN, SEED_MAX = api.SEED_MAX;

  function isInt(x) { return typeof x === "number" && Number.isInteger(x); }

  // ---------------------------------------------------------------- the words

  /** The interface's words, by key: those the site wrote into the page in its language from
   * its catalog (window.lmnotesWords.explorer, docs/_ext/lmnotes_catalog.py), else the
   * <template> lmnotes.explorer.explorer_html writes (English, as the cell computed it). */
  function readStrings(root) {
    if (window.lmnotesWords?.explorer) return window.lmnotesWords.explorer;
    var words = {};
    var template = root.querySelector("template.lmnotes-explorer-strings");
    if (!template) return words;
    Array.prototype.forEach.call(template.content.querySelectorAll("span[data-key]"), function (span) {
      var key = span.getAttribute("data-key"), count = span.getAttribute("data-count");
      // A message that counts: its plural first, then its singular with the count's name.
      if (count) words[key] = { count: count, one: span.textContent, other: words[key] };
      else words[key] = span.textContent;
    });
    return words;
  }

  /** Labels that are the collator's own argument names: code, the same in every language. */
  var ARGUMENTS = {
    multiple: "pad_to_multiple_of", mlm_probability: "mlm_probability",
    mask_replace_prob: "mask_replace_prob", random_replace_prob: "random_replace_prob",
  };

  /** Where each notice is explained (pages beside this one, in notes/). */
  var LINKS = {
    padEosNotice: "clm.html#clm-pad-eos",
    padIdNotice: "clm.html#clm-pad-eos",
    emptyRowsNotice: "padding-mask.html#padding-mask-empty-rows",
    allPadNotice: "padding-mask.html#padding-mask-empty-rows",
    emptyNotice: "padding-mask.html#padding-mask-empty-rows",
    emptyEosNotice: "clm.html#clm-shift",
    emptyEosTargetNotice: "padding-mask.html#padding-mask-loss",
    padTargetNotice: "padding-mask.html#padding-mask-loss",
    emptyPackedNotice: "packing.html#packing-batch",
    emptyBatchNotice: "padding-mask.html#padding-mask-empty-rows",
    noTargetNotice: "clm.html#clm-shift",
    positionsNotice: "padding-mask.html#padding-mask-position-ids",
    wasteNotice: "packing.html#packing-waste",
    packedNotice: "packing.html#packing-batch",
    packedNoticeOne: "packing.html#packing-batch",
    mlmNotice: "mlm.html#mlm-80-10-10",
    mlmNone: "mlm.html#mlm-statistics",
    shiftNotice: "clm.html#clm-shift",
  };

  // ---------------------------------------------------------------- the interface

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /** Whether two lists of ids are the same. */
  function sameIds(a, b) {
    return a.length === b.length && a.every(function (id, k) { return id === b[k]; });
  }

  /** A seed typed in the form: a BigInt, or null if it is not an integer. */
  function parseSeed(text) {
    var trimmed = String(text).trim().replace(/^\u2212/, "-");
    return /^-?\d+$/.test(trimmed) ? BigInt(trimmed) : null;
  }

  function Explorer(root, data, lang) {
    this.root = root;
    this.data = data;
    this.lang = lang;
    this.words = readStrings(root);
    this.number = new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-US", { maximumFractionDigits: 1 });
    this.percent = new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-US", { style: "percent", maximumFractionDigits: 1 });
    this.uid = "lmx" + Explorer.count++;
    this.state = {
      collator: "clm", side: "right", multiple: null, pad: "eos", appendEos: true,
      mlm_probability: 0.15, mask_replace_prob: 0.8, random_replace_prob: 0.1, seed: "0",
      examples: {},
    };
    var state = this.state;
    Object.keys(data.families).forEach(function (family) {
      state.examples[family] = data.families[family].examples.map(function (example, i) {
        return { text: example.text, original: example.ids.slice(), ids: example.ids.slice(), on: i < 2 };
      });
    });
    this.presetProblem = this.applyPreset(window.location.hash);
    this.build();
    this.update();
  }
  Explorer.count = 0;

  /** Multiples the form offers for pad_to_multiple_of (null: none). */
  var MULTIPLES = [null, 2, 4, 8, 16];

  /**
   * A configuration given in the address, ``#config=`` then URI-encoded JSON: its keys are
   * the collators' arguments (collator, padding_side, pad_to_multiple_of, mlm_probability,
   * mask_replace_prob, random_replace_prob, seed), pad ("eos" or "pad"), append_eos and
   * examples (the indices of the examples switched on). All of it is applied, or none:
   * returns null, or the first {key, value} that cannot be taken.
   */
  Explorer.prototype.applyPreset = function (hash) {
    if (typeof hash !== "string" || hash.indexOf("#config=") !== 0) return null;
    var text = hash.slice("#config=".length), config;
    try { text = decodeURIComponent(text); } catch { return { key: "#config", value: text }; }
    try { config = JSON.parse(text); } catch { return { key: "#config", value: text }; }
    if (config === null || typeof config !== "object" || Array.isArray(config)) return { key: "#config", value: text };
    var draft = {}, self = this, problem = null;
    var inList = function (list) { return function (v) { return list.indexOf(v) >= 0; }; };
    var probability = function (v) { return typeof v === "number" && v >= 0 && v <= 1; };
    var rules = {
      collator: ["collator", inList(["clm", "mlm", "flattening"])],
      padding_side: ["side", inList(["right", "left"])],
      pad: ["pad", inList(["eos", "pad"])],
      pad_to_multiple_of: ["multiple", inList(MULTIPLES)],
      append_eos: ["appendEos", function (v) { return typeof v === "boolean"; }],
      mlm_probability: ["mlm_probability", probability],
      mask_replace_prob: ["mask_replace_prob", probability],
      random_replace_prob: ["random_replace_prob", probability],
      seed: ["seed", function (v) { return (isInt(v) || typeof v === "string") && parseSeed(String(v)) !== null; }],
    };
    Object.keys(config).forEach(function (key) {
      if (problem || key === "examples") return;
      var rule = rules[key];
      if (!rule?.[1](config[key])) problem = { key: key, value: JSON.stringify(config[key]) };
      else draft[rule[0]] = typeof config[key] === "number" && key === "seed" ? String(config[key]) : config[key];
    });
    if (problem) return problem;
    var collator = draft.collator || this.state.collator;
    var examples = this.state.examples[collator === "mlm" ? "mlm" : "clm"];
    if ("examples" in config) {
      var on = config.examples;
      var valid = Array.isArray(on) && on.every(function (i, k) {
        return isInt(i) && i >= 0 && i < examples.length && on.indexOf(i) === k;
      });
      if (!valid) return { key: "examples", value: JSON.stringify(on) };
      examples.forEach(function (example, i) { example.on = on.indexOf(i) >= 0; });
    }
    Object.keys(draft).forEach(function (field) { self.state[field] = draft[field]; });
    return null;
  };

  Explorer.prototype.t = function (key, values) {
    var text = this.words[key];
    if (text === undefined) throw new Error("explorer: no words for " + key);
    if (typeof text === "object") {  // {count, one, other}: the form the count takes here
      var form = new Intl.PluralRules(this.lang).select(Number(values?.[text.count]));
      text = form === "one" ? text.one : text.other;
    }
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(values[name])); });
    return text;
  };

  Explorer.prototype.family = function () { return this.state.collator === "mlm" ? "mlm" : "clm"; };

  Explorer.prototype.id = function (name) { return this.uid + "-" + name; };

  Explorer.prototype.radios = function (name, legend, options, current) {
    var self = this;
    return el("fieldset", { className: "lmx-radios" }, [el("legend", { text: legend })].concat(options.map(function (option) {
      var id = self.id(name + "-" + option[0]);
      return el("span", { className: "lmx-choice" }, [
        el("input", { type: "radio", name: self.id(name), id: id, value: option[0], checked: option[0] === current, "data-field": name }),
        el("label", { for: id, text: option[1] }),
      ]);
    })));
  };

  Explorer.prototype.numberInput = function (name, label, value, step, min, max) {
    var id = this.id(name);
    return el("span", { className: "lmx-number" }, [
      el("label", { for: id, text: label }),
      el("input", { type: "number", id: id, value: String(value), step: step, min: min, max: max, "data-field": name }),
    ]);
  };

  /** A link at the top of the page, after the theme's "Skip to content": to the first control. */
  Explorer.prototype.skipLink = function () {
    var self = this;
    var link = el("a", { className: "skip-to-content muted-link lmx-skip", href: "#" + this.id("controls"), text: this.words.skip });
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var first = self.form.querySelector("input:checked, input, select, button");
      self.form.scrollIntoView();
      first.focus();
    });
    var theme = document.querySelector("a.skip-to-content");
    if (theme?.parentNode) theme.parentNode.insertBefore(link, theme.nextSibling);
    else document.body.insertBefore(link, document.body.firstChild);
  };

  Explorer.prototype.build = function () {
    var self = this, w = this.words;
    var clm = this.data.families.clm;
    var eosToken = clm.tokens[String(clm.configs.eos.eos_token_id)];
    var padToken = clm.tokens[String(clm.configs.pad.pad_token_id)];
    // The parts the explorer reads back later, made first, then placed in the form.
    this.examplesList = el("ol", { className: "lmx-example-list" });
    this.padSet = this.radios("pad", w.padToken, [["eos", this.t("padEos", { eos: eosToken })], ["pad", this.t("padDistinct", { pad: padToken })]], this.state.pad);
    this.nextSeed = el("button", { type: "button", "data-action": "next-seed", text: w.nextSeed });
    this.paddingSet = el("fieldset", { className: "lmx-padding" }, [
      el("legend", { text: w.padding }),
      this.radios("side", w.side, [["right", w.right], ["left", w.left]], this.state.side),
      el("span", { className: "lmx-number" }, [
        el("label", { for: this.id("multiple"), text: ARGUMENTS.multiple }),
        el("select", { id: this.id("multiple"), "data-field": "multiple" }, MULTIPLES.map(function (m) {
          return el("option", { value: m === null ? "" : String(m), text: m === null ? w.none : String(m), selected: m === self.state.multiple });
        })),
      ]),
      this.padSet,
    ]);
    this.maskingSet = el("fieldset", { className: "lmx-masking" }, [
      el("legend", { text: w.masking }),
      this.numberInput("mlm_probability", ARGUMENTS.mlm_probability, this.state.mlm_probability, "0.05", "0", "1"),
      this.numberInput("mask_replace_prob", ARGUMENTS.mask_replace_prob, this.state.mask_replace_prob, "0.05", "0", "1"),
      this.numberInput("random_replace_prob", ARGUMENTS.random_replace_prob, this.state.random_replace_prob, "0.05", "0", "1"),
      this.numberInput("seed", w.seed, this.state.seed, "1", SEED_MIN.toString(), SEED_MAX.toString()),
      this.nextSeed,
    ]);
    this.form = el("form", { className: "lmx-controls", id: this.id("controls"), tabindex: "-1", "aria-label": w.title, novalidate: true }, [
      this.radios("collator", w.collator, [["mlm", w.collatorMlm], ["clm", w.collatorClm], ["flattening", w.collatorFlattening]], this.state.collator),
      el("fieldset", { className: "lmx-examples" }, [
        el("legend", { text: w.examples }),
        el("p", { className: "lmx-help", text: w.examplesHelp }),
        this.examplesList,
        el("span", { className: "lmx-choice lmx-eos" }, [
          el("input", { type: "checkbox", id: this.id("append-eos"), checked: this.state.appendEos, "data-field": "appendEos" }),
          el("label", { for: this.id("append-eos"), text: this.t("appendEos", { eos: eosToken }) }),
        ]),
      ]),
      this.paddingSet,
      this.maskingSet,
    ]);
    this.notices = el("ul", { className: "lmx-notices", "aria-label": w.notices });
    this.status = el("div", { className: "lmx-status", role: "status", "aria-live": "polite" });
    this.output = el("div", { className: "lmx-output" });
    this.root.appendChild(el("div", { className: "lmx-explorer" }, [
      this.form,
      el("section", { className: "lmx-batch-section", "aria-labelledby": this.id("batch") }, [
        el("h3", { id: this.id("batch"), text: w.batch }),
        this.status, this.notices,
        el("p", { className: "lmx-legend", text: w.legend }),
        this.output,
      ]),
    ]));
    this.form.addEventListener("input", function (event) { self.onInput(event); });
    this.form.addEventListener("change", function (event) { self.onInput(event); });
    this.form.addEventListener("click", function (event) { self.onClick(event); });
    this.form.addEventListener("submit", function (event) { event.preventDefault(); });
    this.buildExamples();
    this.skipLink();
  };

  Explorer.prototype.tokenizer = function () {
    var family = this.data.families[this.family()];
    return family.configs[this.family() === "mlm" ? "pad" : this.state.pad];
  };

  /** The token string of an id, whitespace shown as the token tables show it; null if unknown. */
  Explorer.prototype.tokenText = function (id) {
    var text = this.data.families[this.family()].tokens[String(id)];
    return text === undefined ? null : visible(text);
  };

  /** What tokenizer.decode gives for ids, whitespace made visible; null if an id is unknown. */
  Explorer.prototype.decodeIds = function (ids) {
    var family = this.data.families[this.family()];
    var tokens = ids.map(function (id) { return family.tokens[String(id)]; });
    if (tokens.some(function (token) { return token === undefined; })) return null;
    return visible(decode(tokens, family.decoder));
  };

  Explorer.prototype.buildExamples = function () {
    var self = this, w = this.words;
    var list = this.examplesList;
    list.textContent = "";
    this.state.examples[this.family()].forEach(function (example, i) {
      var n = i + 1, id = self.id("ex-" + self.family() + "-" + i);
      var item = el("li", { className: "lmx-example", "data-index": String(i) }, [
        el("span", { className: "lmx-choice" }, [
          el("input", { type: "checkbox", id: id + "-on", checked: example.on, "data-field": "on", "data-index": String(i) }),
          el("label", { for: id + "-on" }, [w.use + " ", el("code", { text: visible(example.text) })]),
        ]),
        el("span", { className: "lmx-ids" }, [
          el("label", { for: id + "-ids", className: "lmx-visually-hidden", text: self.t("idsOf", { n: n }) }),
          el("input", { type: "text", id: id + "-ids", value: example.ids.join(" "), spellcheck: "false", autocomplete: "off", inputmode: "numeric", "data-field": "ids", "data-index": String(i), "aria-describedby": id + "-tokens" }),
          self.button("drop", i, "\u22121", w.drop),
          self.button("repeat", i, "+1", w.repeat),
          self.button("reset", i, w.reset, ""),
        ]),
        el("span", { className: "lmx-tokens", id: id + "-tokens" }),
      ]);
      list.appendChild(item);
    });
  };

  /** A button acting on example i: short visible text, the action and the example in its name. */
  Explorer.prototype.button = function (action, i, text, what) {
    var hidden = (what ? " " + what : "") + " (" + this.t("exampleN", { n: i + 1 }) + ")";
    return el("button", { type: "button", "data-action": action, "data-index": String(i), title: what || null }, [
      text, el("span", { className: "lmx-visually-hidden", text: hidden }),
    ]);
  };

  Explorer.prototype.onInput = function (event) {
    var target = event.target, field = target.getAttribute("data-field");
    if (!field) return;
    this.presetProblem = null;
    var state = this.state;
    if (field === "collator") {
      var before = this.family();
      state.collator = target.value;
      if (this.family() !== before) this.buildExamples();
    } else if (field === "side" || field === "pad") state[field] = target.value;
    else if (field === "multiple") state.multiple = target.value === "" ? null : parseInt(target.value, 10);
    else if (field === "appendEos") state.appendEos = target.checked;
    else if (field === "on") state.examples[this.family()][+target.getAttribute("data-index")].on = target.checked;
    else if (field === "ids") state.examples[this.family()][+target.getAttribute("data-index")].text_ids = target.value;
    else if (field === "seed") state.seed = target.value;
    else state[field] = target.value === "" ? NaN : Number(target.value);
    this.update();
  };

  Explorer.prototype.onClick = function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    this.presetProblem = null;
    var action = button.getAttribute("data-action");
    if (action === "next-seed") {
      var seed = parseSeed(this.state.seed);
      if (seed === null || seed >= SEED_MAX) return;
      this.state.seed = (seed + BigInt(1)).toString();
      this.form.querySelector('[data-field="seed"]').value = this.state.seed;
    } else {
      var i = +button.getAttribute("data-index");
      var example = this.state.examples[this.family()][i];
      var ids = this.parseIds(example).ids || example.ids.slice();
      if (action === "drop") ids = ids.slice(0, -1);
      else if (action === "repeat" && ids.length > 0) ids = ids.concat([ids[ids.length - 1]]);
      else if (action === "reset") ids = example.original.slice();
      example.text_ids = ids.join(" ");
      this.examplesList.querySelector('input[data-field="ids"][data-index="' + i + '"]').value = example.text_ids;
    }
    this.update();
  };

  /** The ids typed for an example: {ids} or {error}. */
  Explorer.prototype.parseIds = function (example) {
    var text = example.text_ids === undefined ? example.ids.join(" ") : example.text_ids;
    var parts = text.trim() === "" ? [] : text.trim().split(/[\s,]+/);
    var vocab = this.tokenizer().vocab_size;
    var ids = parts.map(Number);
    if (!ids.every(function (id) { return isInt(id) && id >= 0 && id < vocab; })) return { error: true };
    return { ids: ids };
  };

  /** Buttons that would do nothing are disabled: −1 and +1 on an empty example, Reset on an
   * example that holds its original ids. A focused button that gets disabled hands the focus
   * on (−1 and +1 to Reset, Reset to the example's ids), so that the keyboard never loses it. */
  Explorer.prototype.showButtons = function (i, ids, original) {
    var item = this.examplesList.querySelector('li[data-index="' + i + '"]');
    var button = function (action) { return item.querySelector('button[data-action="' + action + '"]'); };
    var empty = ids !== null && ids.length === 0;
    var unchanged = ids !== null && sameIds(ids, original);
    var off = { drop: empty, repeat: empty, reset: unchanged };
    var next = { drop: button("reset"), repeat: button("reset"), reset: item.querySelector('input[data-field="ids"]') };
    var focused = document.activeElement;
    ["drop", "repeat", "reset"].forEach(function (action) { button(action).disabled = off[action]; });
    ["drop", "repeat", "reset"].forEach(function (action) {
      if (off[action] && focused === button(action)) (next[action].disabled ? next.reset : next[action]).focus();
    });
  };

  Explorer.prototype.config = function () {
    var self = this, state = this.state, tok = this.tokenizer();
    var examples = [], problems = [], shown = [];
    state.examples[this.family()].forEach(function (example, i) {
      var parsed = self.parseIds(example);
      var input = self.examplesList.querySelector('input[data-field="ids"][data-index="' + i + '"]');
      input.setAttribute("aria-invalid", parsed.error ? "true" : "false");
      if (!parsed.error) example.ids = parsed.ids;
      self.showTokens(i, parsed.error ? null : parsed.ids);
      self.showButtons(i, parsed.error ? null : parsed.ids, example.original);
      if (!example.on) return;
      if (parsed.error) problems.push(self.t("invalidIds", { n: i + 1, max: tok.vocab_size - 1 }));
      else {
        examples.push(self.family() === "clm" && state.appendEos ? parsed.ids.concat([tok.eos_token_id]) : parsed.ids);
        shown.push(i);
      }
    });
    var seed = parseSeed(state.seed);
    var seedOk = seed !== null && seed >= SEED_MIN && seed <= SEED_MAX;
    this.nextSeed.disabled = !seedOk || seed >= SEED_MAX;
    var mlm = state.collator === "mlm";
    var flag = function (field, ok) {
      self.form.querySelector('[data-field="' + field + '"]').setAttribute("aria-invalid", ok || !mlm ? "false" : "true");
    };
    flag("seed", seedOk);
    if (mlm && !seedOk) problems.push(this.words.invalidSeed);
    // The probabilities, checked as the collator's __post_init__ checks them (ValueError there).
    var sumOk = !(state.mask_replace_prob + state.random_replace_prob > 1);
    ["mlm_probability", "mask_replace_prob", "random_replace_prob"].forEach(function (field) {
      var value = state[field], ok = typeof value === "number" && value >= 0 && value <= 1;
      flag(field, ok && (field === "mlm_probability" || sumOk));
      if (mlm && !ok) problems.push(self.t("invalidProbability", { name: ARGUMENTS[field] }));
    });
    if (mlm && !sumOk) problems.push(this.t("invalidSum", { mask: ARGUMENTS.mask_replace_prob, random: ARGUMENTS.random_replace_prob }));
    if (problems.length) throw new Error(problems.join("; "));
    if (examples.length === 0) throw new Error(this.words.noExample);
    if (state.collator === "flattening" && examples.every(function (ids) { return ids.length === 0; })) {
      throw new Error(this.words.allEmpty);
    }
    return {
      collator: state.collator, examples: examples, tokenizer: tok, padding_side: state.side,
      pad_to_multiple_of: state.multiple, mlm_probability: state.mlm_probability,
      mask_replace_prob: state.mask_replace_prob, random_replace_prob: state.random_replace_prob,
      seed: seedOk ? seed : 0, indices: shown,
    };
  };

  Explorer.prototype.showTokens = function (i, ids) {
    var self = this;
    var box = this.examplesList.querySelector("#" + this.id("ex-" + this.family() + "-" + i) + "-tokens");
    box.textContent = "";
    (ids || []).forEach(function (id) {
      var text = self.tokenText(id);
      box.appendChild(el("span", { className: "lmx-chip", text: text === null ? "#" + id : text }));
    });
  };

  Explorer.prototype.update = function () {
    var state = this.state;
    this.paddingSet.disabled = state.collator === "flattening";
    this.padSet.disabled = state.collator !== "clm";
    this.maskingSet.disabled = state.collator !== "mlm";
    this.form.querySelector(".lmx-eos input").disabled = this.family() !== "clm";
    this.output.textContent = "";
    this.notices.textContent = "";
    var config, result;
    try {
      config = this.config();
      result = compute(config);
    } catch (error) {
      this.status.textContent = this.t("error", { message: error.message });
      this.status.className = "lmx-status lmx-error";
      return;
    }
    this.status.className = "lmx-status";
    this.status.textContent = "";
    if (this.presetProblem) this.notice("presetNotice", this.presetProblem);
    this.showNotices(config, result);
    // Rows of length 0 (every example empty) have nothing to show but their notice.
    if (result.input_ids[0].length === 0) return;
    for (var r = 0; r < result.input_ids.length; r++) this.showRow(config, result, r);
  };

  Explorer.prototype.notice = function (key, values) {
    var link = LINKS[key];
    this.notices.appendChild(el("li", { "data-notice": key }, [
      this.t(key, values) + (link ? " " : ""),
      link ? el("a", { href: link, text: this.words.readMore }) : null,
    ]));
  };

  /** Notices about the examples themselves: edited, empty (and what the collator does with it). */
  Explorer.prototype.exampleNotices = function (config, result) {
    var self = this, fmt = this.number, examples = this.state.examples[this.family()];
    var width = result.input_ids[0].length;
    if (width === 0) {  // every example is empty: rows of length 0, as the collator returns them
      this.notice("emptyBatchNotice", { k: fmt.format(result.input_ids.length) });
      return;
    }
    config.indices.forEach(function (i, r) {
      var example = examples[i], n = i + 1;
      if (example.ids.length === 0) {
        if (config.collator === "flattening") self.notice("emptyPackedNotice", { n: fmt.format(n) });
        else if (config.examples[r].length === 0) self.notice("emptyNotice", { n: fmt.format(n) });
        else self.notice(hasTarget([result.labels[r]]) ? "emptyEosTargetNotice" : "emptyEosNotice", { n: fmt.format(n) });
      } else if (!sameIds(example.ids, example.original)) {
        self.notice("editedNotice", { n: fmt.format(n), k: fmt.format(example.ids.length), m: fmt.format(example.original.length) });
      }
    });
  };

  /** Whether some label is a target once the model shifts the labels (causal LM losses score
   * label i + 1 against the logits at i: the first label of a row is never a target). */
  function hasTarget(labels) {
    return labels.some(function (row) { return row.some(function (label, i) { return i > 0 && label !== -100; }); });
  }

  Explorer.prototype.showNotices = function (config, result) {
    var tok = config.tokenizer, fmt = this.number, self = this;
    this.exampleNotices(config, result);
    if (result.input_ids[0].length === 0) return;
    if (config.collator !== "mlm" && !hasTarget(result.labels)) this.notice("noTargetNotice", {});
    if (config.collator === "flattening") {
      var kept = config.examples.filter(function (e) { return e.length; }).length;
      if (kept === 1) this.notice("packedNoticeOne", { n: fmt.format(result.input_ids[0].length) });
      else this.notice("packedNotice", { n: fmt.format(result.input_ids[0].length), k: fmt.format(kept) });
      return;
    }
    var slots = 0, pads = 0;
    result.attention_mask.forEach(function (row) { row.forEach(function (bit) { slots++; pads += 1 - bit; }); });
    if (config.collator === "clm") {
      var hiddenEos = 0, hiddenPad = 0;
      result.input_ids.forEach(function (row, r) {
        row.forEach(function (id, i) {
          if (result.attention_mask[r][i] !== 1 || result.labels[r][i] !== -100) return;
          if (id === tok.eos_token_id) hiddenEos++;
          else if (id === tok.pad_token_id) hiddenPad++;
        });
      });
      // Left padding: the first real token of a padded row keeps its label and becomes the
      // target of the padding position before it (the loss shifts the labels within a row).
      var padTargets = 0;
      result.attention_mask.forEach(function (row, r) {
        var first = row.indexOf(1);
        if (first > 0 && result.labels[r][first] !== -100) padTargets++;
      });
      if (padTargets > 0) this.notice("padTargetNotice", { n: fmt.format(padTargets) });
      if (hiddenEos > 0) this.notice("padEosNotice", { n: fmt.format(hiddenEos) });
      if (hiddenPad > 0) this.notice("padIdNotice", { n: fmt.format(hiddenPad), pad: tok.pad_token_id });
    }
    // Rows of padding only attend to nothing in every collator that pads; with left padding
    // (causal), the pad query rows of the other rows too.
    var emptyQueries = 0;
    result.mask.forEach(function (rows, r) {
      var empty = rows.filter(function (row) { return row.indexOf(true) < 0; }).length;
      if (result.attention_mask[r].indexOf(1) < 0) self.notice("allPadNotice", { r: fmt.format(r + 1), n: fmt.format(empty) });
      else emptyQueries += empty;
    });
    if (config.collator === "clm" && emptyQueries > 0) this.notice("emptyRowsNotice", { n: fmt.format(emptyQueries) });
    if (config.padding_side === "left" && pads > 0) this.notice("positionsNotice", {});
    if (pads > 0) this.notice("wasteNotice", { p: fmt.format(pads), t: fmt.format(slots), pct: this.percent.format(pads / slots) });
    if (config.collator === "clm") this.notice("shiftNotice", {});
    if (config.collator === "mlm") {
      if (config.seed < 0) this.notice("seedNotice", { s: fmt.format(config.seed), u: fmt.format(seedValue(config.seed)) });
      var special = new Set(tok.special_ids), eligible = 0, counts = { c: 0, m: 0, r: 0, u: 0 };
      var original = this.padded(config);
      result.labels.forEach(function (row, r) {
        row.forEach(function (label, i) {
          var id = original[r][i];
          if (result.attention_mask[r][i] === 1 && !special.has(id)) eligible++;
          if (label === -100) return;
          counts.c++;
          var now = result.input_ids[r][i];
          if (now === tok.mask_token_id && label !== tok.mask_token_id) counts.m++;
          else if (now === label) counts.u++;
          else counts.r++;
        });
      });
      if (counts.c === 0) this.notice("mlmNone", {});
      else this.notice("mlmNotice", { c: fmt.format(counts.c), e: fmt.format(eligible), m: fmt.format(counts.m), r: fmt.format(counts.r), u: fmt.format(counts.u) });
    }
  };

  /** The padded ids before masking (for MLM: what the labels and draws refer to). */
  Explorer.prototype.padded = function (config) {
    return compute({ collator: "clm", examples: config.examples, tokenizer: config.tokenizer, padding_side: config.padding_side, pad_to_multiple_of: config.pad_to_multiple_of }).input_ids;
  };

  /** The heading's words for row r: the ids of its example as tokenizer.decode gives them. */
  Explorer.prototype.rowWhat = function (config, r) {
    if (config.collator === "flattening") {
      var kept = config.examples.filter(function (e) { return e.length; }).length;
      return [kept === 1 ? this.words.packedOne : this.t("packed", { k: this.number.format(kept) })];
    }
    var ids = config.examples[r];
    if (ids.length === 0) return [this.words.emptyExample];
    var text = this.decodeIds(ids);
    var quote = this.words.quote.split("{text}");
    return [quote[0], el("code", { className: "lmx-decoded", text: text === null ? ids.join(" ") : text }), quote[1]];
  };

  Explorer.prototype.showRow = function (config, result, r) {
    var self = this, w = this.words, tok = config.tokenizer, n = r + 1;
    var ids = result.input_ids[r], labels = result.labels[r];
    var am = result.attention_mask ? result.attention_mask[r] : null;
    var original = config.collator === "mlm" ? this.padded(config)[r] : ids;
    var isPad = function (i) { return am !== null && am[i] === 0; };
    var name = function (id, i) {
      if (config.collator === "mlm" && ids[i] !== original[i] && ids[i] !== tok.mask_token_id) {
        var known = self.tokenText(ids[i]);
        return known === null ? w.random : known;
      }
      var text = self.tokenText(id);
      return text === null ? w.unknown : text;
    };
    var title = this.t("rowOf", { n: n }).split("{what}");
    var heading = el("h4", { id: this.id("row-" + r) }, [title[0]].concat(this.rowWhat(config, r), [title[1]]));

    // Fields: one table row per field, one column per position.
    var table = el("table", { className: "lmx-fields" });
    table.appendChild(el("caption", { className: "lmx-visually-hidden", text: this.t("fields", { n: n }) }));
    var body = el("tbody");
    var line = function (label, cells) {
      body.appendChild(el("tr", {}, [el("th", { scope: "row", text: label })].concat(cells)));
    };
    var cell = function (i, text, extra) {
      return el("td", { className: (isPad(i) ? "lmx-pad " : "") + (extra || "") }, [String(text)]);
    };
    line(w.position, ids.map(function (_, i) { return cell(i, i, "lmx-muted"); }));
    if (config.collator === "flattening") {
      var e = -1;
      line(w.example, result.position_ids[r].map(function (p, i) { if (p === 0) e++; return cell(i, e + 1, p === 0 ? "lmx-start" : ""); }));
    }
    line(w.token, ids.map(function (id, i) { return el("td", { className: isPad(i) ? "lmx-pad" : "" }, [el("code", { text: name(id, i) })]); }));
    line("input_ids", ids.map(function (id, i) { return cell(i, id); }));
    if (config.collator === "mlm") {
      line(w.draw, labels.map(function (label, i) {
        if (label === -100) return cell(i, "");
        var kind = ids[i] === tok.mask_token_id && label !== tok.mask_token_id ? w.drawMask : ids[i] === label ? w.drawKept : w.drawRandom;
        return cell(i, kind, "lmx-drawn");
      }));
    }
    if (am !== null) line("attention_mask", am.map(function (bit, i) { return cell(i, bit); }));
    line("labels", labels.map(function (label, i) { return cell(i, label, label === -100 ? "lmx-ignored" : "lmx-trained"); }));
    line(w.labelToken, labels.map(function (label, i) {
      return label === -100 ? cell(i, "") : el("td", { className: "lmx-trained-token" }, [el("code", { text: self.tokenText(label) || w.unknown })]);
    }));
    line("position_ids", result.position_ids[r].map(function (p, i) { return cell(i, p); }));
    table.appendChild(body);

    // The attention mask: query rows, key columns, each labelled with its token.
    var mask = result.mask[r];
    var gridTable = el("table", { className: "lmx-grid" });
    gridTable.appendChild(el("caption", { text: this.t("gridCaption", { n: n }) }));
    var head = el("tr", {}, [el("th", { scope: "col", className: "lmx-corner", text: w.corner })].concat(ids.map(function (id, k) {
      return el("th", { scope: "col", className: isPad(k) ? "lmx-pad" : "" }, [el("span", { className: "lmx-key" }, [k + " ", el("code", { text: name(id, k) })])]);
    })));
    gridTable.appendChild(el("thead", {}, [head]));
    var gridBody = el("tbody");
    mask.forEach(function (row, q) {
      gridBody.appendChild(el("tr", {}, [el("th", { scope: "row", className: isPad(q) ? "lmx-pad" : "" }, [q + " ", el("code", { text: name(ids[q], q) })])].concat(row.map(function (allowed) {
        return el("td", { className: allowed ? "lmx-on" : "lmx-off" }, [allowed ? "●" : "·"]);
      }))));
    });
    gridTable.appendChild(gridBody);

    this.output.appendChild(el("section", { className: "lmx-row", "aria-labelledby": heading.id }, [
      heading,
      el("div", { className: "lmx-scroll", tabindex: "0", role: "region", "aria-label": this.t("fields", { n: n }) }, [table]),
      el("div", { className: "lmx-scroll", tabindex: "0", role: "region", "aria-label": this.t("gridRegion", { n: n }) }, [gridTable]),
    ]));
  };

  function init() {
    var lang = (document.documentElement.lang || "en").slice(0, 2) === "fr" ? "fr" : "en";
    Array.prototype.forEach.call(document.querySelectorAll(".lmnotes-explorer"), function (root) {
      if (root.getAttribute("data-ready")) return;
      var source = root.querySelector("script.lmnotes-explorer-data");
      if (!source) return;
      root.setAttribute("data-ready", "true");
      new Explorer(root, JSON.parse(source.textContent), lang);
    });
  }

  // A new #config= in the address (typed, or a link on this page): load the page with it.
  if (window.addEventListener) {
    window.addEventListener("hashchange", function () {
      if (window.location.hash.indexOf("#config=") === 0) window.location.reload();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
