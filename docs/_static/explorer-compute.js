/* lmnotes batch explorer, the computation: MLM, CLM and padding-free batches as
 * transformers' collators build them (DataCollatorForLanguageModeling with mlm=True or
 * False, DataCollatorWithFlattening), and the text tokenizer.decode gives for token strings.
 *
 * A classic script that also loads in Node.js: in a browser it sets window.lmnotesExplorer
 * (explorer.js, the page's interface, loaded after it, reads it); in Node, require() returns
 * the same object. It holds compute(config), decode(tokens, decoder), visible(text),
 * seedValue(seed) and the seed's bounds SEED_MIN and SEED_MAX (BigInts).
 * tests/test_explorer_compute.py compares it with transformers through Node's test runner
 * (tests/js/explorer-compute.test.mjs).  No network, no dependency, no build step.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module && module.exports) module.exports = api;
  else root.lmnotesExplorer = api;
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // ---------------------------------------------------------------- the batch

  /** A seeded generator of floats in [0, 1) (mulberry32): the same in every browser and in Node.
   * ``state`` is a 32-bit unsigned integer (see generatorState). */
  function generator(state) {
    state = state >>> 0;
    return function () {
      state = (state + 0x6d2b79f5) >>> 0;
      var t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  var TWO_64 = BigInt("18446744073709551616");
  var SEED_MIN = BigInt("-9223372036854775808");
  var SEED_MAX = TWO_64 - BigInt(1);

  /** The seed as torch.Generator.manual_seed takes it (what DataCollatorForLanguageModeling
   * passes it to): an integer from -2**63 to 2**64 - 1, a negative one counted modulo 2**64
   * (manual_seed(-1) is manual_seed(2**64 - 1)). A Number must be a safe integer; a BigInt
   * covers the whole range. Returns a BigInt in [0, 2**64). */
  function seedValue(seed) {
    var big;
    if (typeof seed === "bigint") big = seed;
    else if (typeof seed === "number" && Number.isSafeInteger(seed)) big = BigInt(seed);
    else throw new TypeError("config.seed must be an integer (a safe integer or a BigInt), got " + String(seed));
    if (big < SEED_MIN || big > SEED_MAX) {
      throw new RangeError("config.seed must be from -2**63 to 2**64 - 1, as torch.Generator.manual_seed takes it, got " + String(big));
    }
    return big < 0 ? big + TWO_64 : big;
  }

  /** The generator's 32-bit state for a seed of seedValue: the seed itself below 2**32. */
  function generatorState(seed) {
    var low = Number(seed & BigInt(0xffffffff)), high = Number(seed >> BigInt(32));
    return (low ^ Math.imul(high, 0x9e3779b1)) >>> 0;
  }

  function isInt(x) { return typeof x === "number" && Number.isInteger(x); }

  function checkProbability(value, name) {
    if (typeof value !== "number") throw new TypeError(name + " must be a number, got " + typeof value);
    if (!(value >= 0 && value <= 1)) throw new RangeError(name + " must be in [0, 1], got " + value);
    return value;
  }

  function check(config) {
    if (config === null || typeof config !== "object") throw new TypeError("config must be an object");
    if (["clm", "mlm", "flattening"].indexOf(config.collator) < 0) {
      throw new RangeError('config.collator must be "clm", "mlm" or "flattening", got ' + config.collator);
    }
    if (!Array.isArray(config.examples) || config.examples.length === 0) {
      throw new TypeError("config.examples must be a non-empty array of arrays of ids");
    }
    config.examples.forEach(function (ids, i) {
      if (!Array.isArray(ids) || !ids.every(isInt)) {
        throw new TypeError("config.examples[" + i + "] must be an array of integer ids");
      }
    });
    var side = config.padding_side === undefined ? "right" : config.padding_side;
    if (side !== "right" && side !== "left") {
      throw new RangeError('config.padding_side must be "right" or "left", got ' + side);
    }
    var multiple = config.pad_to_multiple_of === undefined ? null : config.pad_to_multiple_of;
    if (multiple !== null && !(isInt(multiple) && multiple >= 1)) {
      throw new RangeError("config.pad_to_multiple_of must be null or an integer >= 1, got " + multiple);
    }
    var tok = config.tokenizer;
    if (config.collator !== "flattening") {
      if (tok === null || typeof tok !== "object") throw new TypeError("config.tokenizer must be an object");
      if (!isInt(tok.pad_token_id)) throw new TypeError("config.tokenizer.pad_token_id must be an integer");
    }
    return { side: side, multiple: multiple };
  }

  /** tokenizer.pad: every example to the longest length (rounded up to a multiple), on one side. */
  function pad(examples, padId, side, multiple) {
    var length = Math.max.apply(null, examples.map(function (ids) { return ids.length; }));
    if (multiple !== null && length % multiple !== 0) length = (Math.floor(length / multiple) + 1) * multiple;
    var inputIds = [], attentionMask = [];
    examples.forEach(function (ids) {
      var pads = new Array(length - ids.length).fill(padId);
      var zeros = new Array(length - ids.length).fill(0);
      var ones = new Array(ids.length).fill(1);
      inputIds.push(side === "right" ? ids.concat(pads) : pads.concat(ids));
      attentionMask.push(side === "right" ? ones.concat(zeros) : zeros.concat(ones));
    });
    return { input_ids: inputIds, attention_mask: attentionMask };
  }

  /** Position ids counted on real tokens, 0 on padding: what generate() computes from the mask
   * (transformers 5.2.0 and later; before, 1 on padding). */
  function positionsFromMask(attentionMask) {
    return attentionMask.map(function (row) {
      var seen = 0;
      return row.map(function (bit) { seen += bit; return bit === 1 ? seen - 1 : 0; });
    });
  }

  function grid(length, allowed) {
    var rows = [];
    for (var q = 0; q < length; q++) {
      var row = [];
      for (var k = 0; k < length; k++) row.push(allowed(q, k));
      rows.push(row);
    }
    return rows;
  }

  /** The 80/10/10 rule of DataCollatorForLanguageModeling.torch_mask_tokens, with a seeded draw. */
  function maskTokens(inputIds, attentionMask, tok, config) {
    var p = checkProbability(config.mlm_probability === undefined ? 0.15 : config.mlm_probability, "config.mlm_probability");
    var maskP = checkProbability(config.mask_replace_prob === undefined ? 0.8 : config.mask_replace_prob, "config.mask_replace_prob");
    var randomP = checkProbability(config.random_replace_prob === undefined ? 0.1 : config.random_replace_prob, "config.random_replace_prob");
    if (maskP + randomP > 1 + 1e-12) throw new RangeError("config.mask_replace_prob + config.random_replace_prob must not exceed 1");
    var seed = seedValue(config.seed === undefined ? 0 : config.seed);
    if (!isInt(tok.mask_token_id)) throw new TypeError("config.tokenizer.mask_token_id must be an integer for mlm");
    if (!(isInt(tok.vocab_size) && tok.vocab_size > 0)) throw new TypeError("config.tokenizer.vocab_size must be a positive integer");
    var special = new Set(tok.special_ids || []);
    var rng = generator(generatorState(seed));
    // One matrix of draws after the other, as the library does.
    var draw = function (prob) {
      return inputIds.map(function (row) { return row.map(function () { return rng() < prob; }); });
    };
    var chosen = draw(p).map(function (row, r) {
      return row.map(function (hit, i) {
        var id = inputIds[r][i];
        return hit && attentionMask[r][i] === 1 && !special.has(id) && id !== tok.pad_token_id;
      });
    });
    var replaced = draw(maskP);
    var random = null, words = null;
    if (!(maskP === 1 || randomP === 0)) {
      random = draw(randomP / (1 - maskP));
      words = inputIds.map(function (row) { return row.map(function () { return Math.floor(rng() * tok.vocab_size); }); });
    }
    var labels = [], inputs = [];
    inputIds.forEach(function (row, r) {
      labels.push(row.map(function (id, i) { return chosen[r][i] ? id : -100; }));
      inputs.push(row.map(function (id, i) {
        if (!chosen[r][i]) return id;
        if (replaced[r][i]) return tok.mask_token_id;
        if (random?.[r][i]) return words[r][i];
        return id;
      }));
    });
    return { input_ids: inputs, labels: labels };
  }

  /**
   * Build a batch as transformers' collators do.  See the contract in the module docstring of
   * lmnotes/explorer.py and on the page: returns {input_ids, attention_mask, labels,
   * position_ids, mask}, where mask[row][query][key] is true where attention is allowed.
   */
  function compute(config) {
    var opts = check(config);
    var tok = config.tokenizer;
    if (config.collator === "flattening") {
      var kept = config.examples.filter(function (ids) { return ids.length > 0; });
      if (kept.length === 0) throw new RangeError("config.examples: every example is empty");
      var ids = [], labels = [], positions = [], owner = [];
      kept.forEach(function (example, e) {
        example.forEach(function (id, i) {
          ids.push(id);
          labels.push(i === 0 ? -100 : id);
          positions.push(i);
          owner.push(e);
        });
      });
      return {
        input_ids: [ids], attention_mask: null, labels: [labels], position_ids: [positions],
        mask: [grid(ids.length, function (q, k) { return owner[q] === owner[k] && k <= q; })],
      };
    }
    var batch = pad(config.examples, tok.pad_token_id, opts.side, opts.multiple);
    var result = {
      input_ids: batch.input_ids, attention_mask: batch.attention_mask, labels: null,
      position_ids: positionsFromMask(batch.attention_mask), mask: null,
    };
    if (config.collator === "clm") {
      result.labels = batch.input_ids.map(function (row) {
        return row.map(function (id) { return id === tok.pad_token_id ? -100 : id; });
      });
      result.mask = batch.attention_mask.map(function (row) {
        return grid(row.length, function (q, k) { return k <= q && row[k] === 1; });
      });
    } else {
      var masked = maskTokens(batch.input_ids, batch.attention_mask, tok, config);
      result.input_ids = masked.input_ids;
      result.labels = masked.labels;
      result.mask = batch.attention_mask.map(function (row) {
        return grid(row.length, function (_query, k) { return row[k] === 1; });
      });
    }
    return result;
  }


  // ---------------------------------------------------------------- tokens as text

  /** A token string with whitespace shown as lmnotes' token tables show it
   * (lmnotes._tables.visible_token): a space as ␣, a newline as \n, a tab as \t, and
   * byte-level BPE's Ġ and Ċ as ␣ and \n. */
  function visible(text) {
    return text.replace(/ /g, "\u2423").replace(/\n/g, "\\n").replace(/\t/g, "\\t")
      .replace(/\u0120/g, "\u2423").replace(/\u010a/g, "\\n");
  }

  var BYTE_OF = null;
  /** The inverse of GPT-2's bytes_to_unicode: the byte each character of a byte-level token stands for. */
  function bytesOf() {
    if (BYTE_OF) return BYTE_OF;
    BYTE_OF = new Map();
    var n = 0;
    for (var b = 0; b < 256; b++) {
      var printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      BYTE_OF.set(String.fromCharCode(printable ? b : 256 + n++), b);
    }
    return BYTE_OF;
  }

  /** WordPiece's cleanup (tokenizers' decoders::wordpiece::cleanup), applied to each token. */
  function cleanup(token) {
    return token.replace(/ \./g, ".").replace(/ \?/g, "?").replace(/ !/g, "!").replace(/ ,/g, ",")
      .replace(/ ' /g, "'").replace(/ n't/g, "n't").replace(/ 'm/g, "'m").replace(/ do not/g, " don't")
      .replace(/ 's/g, "'s").replace(/ 've/g, "'ve").replace(/ 're/g, "'re");
  }

  /**
   * The text tokenizer.decode(ids) gives, from the token strings: ``"wordpiece"`` joins tokens
   * with spaces and glues ``##`` pieces (bert-base-cased); ``"byte-level"`` reads each
   * character as a byte and the bytes as UTF-8, a token with a character outside the byte
   * alphabet (an added token such as CodeGen's runs of spaces) being its own text (CodeGen).
   */
  function decode(tokens, decoder) {
    if (decoder === "wordpiece") {
      return tokens.map(function (token, i) {
        if (i > 0) token = token.indexOf("##") === 0 ? token.slice(2) : " " + token;
        return cleanup(token);
      }).join("");
    }
    if (decoder !== "byte-level") throw new RangeError('decoder must be "wordpiece" or "byte-level", got ' + decoder);
    var map = bytesOf(), bytes = [], encoder = new TextEncoder();
    tokens.forEach(function (token) {
      var own = [];
      for (var i = 0; i < token.length; i++) {
        if (!map.has(token[i])) { own = null; break; }
        own.push(map.get(token[i]));
      }
      (own || Array.from(encoder.encode(token))).forEach(function (b) { bytes.push(b); });
    });
    return new TextDecoder("utf-8").decode(new Uint8Array(bytes));
  }

  return {
    compute: compute, decode: decode, visible: visible, seedValue: seedValue,
    SEED_MIN: SEED_MIN, SEED_MAX: SEED_MAX,
  };
});
