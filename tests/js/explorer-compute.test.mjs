// The batch explorer's computation (docs/_static/explorer-compute.js) against fixtures that
// tests/test_explorer_compute.py writes from transformers' collators and tokenizers.
//
//   LMNOTES_EXPLORER_FIXTURES=fixtures.json node --test tests/js/explorer-compute.test.mjs
//
// The fixtures are {"version": 1, "suites": [{name, cases, min_chosen?}, ...]}; each case has
// a name, a kind and what the kind needs. An integer written {"$bigint": "digits"} is a BigInt
// (a seed beyond Number's safe integers); every other value is plain JSON.
//
//   batch      compute(config) against expected, field by field: input_ids, attention_mask,
//              labels, position_ids (exact; null for none), mask (per row, one string of 0/1
//              per query, after checking every entry is a boolean), unmasked_input_ids (the
//              input ids with the labels put back), masked_from (the padded ids before
//              masking: the 80/10/10 rule holds at every position, see checkMasking)
//   error      compute(config) throws; its message contains expected.message_includes
//   same       compute gives the same result for every config (on fields, or all of it)
//   differ     compute gives different results for the two configs on at least one field
//   rates      over seeds 0 .. seeds - 1, the MLM draw's shares are within 5 sigma
//   decode     decode(tokens, decoder) is expected (tokenizer.decode of the ids)
//   seedValue  seedValue(seed) is expected
//
// A suite with min_chosen also checks that its batch cases choose that many tokens at least.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const explorer = require("../../docs/_static/explorer-compute.js");

const VARIABLE = "LMNOTES_EXPLORER_FIXTURES";
const FIELDS = ["input_ids", "attention_mask", "labels", "position_ids", "mask"];

function reviver(_key, value) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$bigint") return BigInt(value.$bigint);
  }
  return value;
}

function loadFixtures() {
  const path = process.env[VARIABLE];
  if (!path) {
    throw new Error(`${VARIABLE} is not set: it names the fixtures JSON that tests/test_explorer_compute.py writes`);
  }
  const fixtures = JSON.parse(readFileSync(path, "utf8"), reviver);
  if (fixtures.version !== 1 || !Array.isArray(fixtures.suites) || fixtures.suites.length === 0) {
    throw new Error(`${path}: expected {"version": 1, "suites": [...]} with at least one suite`);
  }
  return fixtures;
}

function show(value) {
  if (typeof value === "bigint") return `${value}n`;
  const text = JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? `${v}n` : v));
  return text !== undefined && text.length > 200 ? `${text.slice(0, 200)}…` : String(text);
}

/** The first place where actual and expected differ ("" for the values themselves), or null. */
function difference(actual, expected, path = "") {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return { path, actual, expected };
    if (actual.length !== expected.length) {
      return { path: `${path}.length`, actual: actual.length, expected: expected.length };
    }
    for (let i = 0; i < expected.length; i++) {
      const found = difference(actual[i], expected[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  return Object.is(actual, expected) ? null : { path, actual, expected };
}

/** Fail, naming the case and the field, with the first difference and the config. */
function assertSame(actual, expected, name, field, config) {
  const found = difference(actual, expected);
  if (!found) return;
  const where = `${field}${found.path}`;
  assert.fail(
    `${name}: ${where} is ${show(found.actual)}, expected ${show(found.expected)}` +
      (config === undefined ? "" : `\n  config: ${show(config)}`),
  );
}

/** The mask as one string of 0/1 per query row, each entry checked to be a boolean. */
function maskStrings(mask, name) {
  assert.ok(Array.isArray(mask), `${name}: mask is ${show(mask)}, expected an array of rows`);
  return mask.map((rows, r) =>
    rows.map((row, q) =>
      row
        .map((bit, k) => {
          assert.equal(typeof bit, "boolean", `${name}: mask[${r}][${q}][${k}] is ${show(bit)}, not a boolean`);
          return bit ? "1" : "0";
        })
        .join(""),
    ),
  );
}

/** The input ids with the labels put back where a token was chosen. */
function unmasked(result) {
  return result.input_ids.map((ids, r) => ids.map((id, i) => (result.labels[r][i] === -100 ? id : result.labels[r][i])));
}

/** The 80/10/10 rule at every position, given the padded ids before masking: a position
 * whose label is -100 keeps its id; a chosen one is a real token (attention 1), not special,
 * its label its id, and its input [MASK], an id below vocab_size, or its id. Returns how many
 * tokens were chosen. */
function checkMasking(result, original, config, name) {
  const tok = config.tokenizer;
  const special = new Set(tok.special_ids);
  let chosen = 0;
  original.forEach((row, r) => {
    row.forEach((token, i) => {
      const label = result.labels[r][i];
      const now = result.input_ids[r][i];
      const at = `${name}: row ${r}, position ${i} (id ${token})`;
      if (label === -100) {
        assert.equal(now, token, `${at}: not chosen, yet its input is ${now}`);
        return;
      }
      chosen++;
      assert.equal(result.attention_mask[r][i], 1, `${at}: padding was chosen`);
      assert.ok(!special.has(token), `${at}: a special id was chosen`);
      assert.equal(label, token, `${at}: its label is ${label}`);
      assert.ok(
        now === tok.mask_token_id || (Number.isInteger(now) && now >= 0 && now < tok.vocab_size),
        `${at}: chosen, its input ${now} is neither [MASK] nor an id below ${tok.vocab_size}`,
      );
    });
  });
  return chosen;
}

function checkBatch(testCase) {
  const { name, config, expected } = testCase;
  const result = explorer.compute(config);
  for (const field of Object.keys(expected)) {
    if (field === "mask") assertSame(maskStrings(result.mask, name), expected.mask, name, "mask", config);
    else if (field === "unmasked_input_ids") assertSame(unmasked(result), expected[field], name, field, config);
    else if (field === "masked_from") checkMasking(result, expected.masked_from, config, name);
    else if (FIELDS.includes(field)) assertSame(result[field], expected[field], name, field, config);
    else assert.fail(`${name}: unknown expected field ${field}`);
  }
  return result;
}

function checkError(testCase) {
  const { name, config, expected } = testCase;
  let message = null;
  try {
    explorer.compute(config);
  } catch (error) {
    message = error.message;
  }
  assert.notEqual(message, null, `${name}: compute returned a batch, expected an error naming ${expected.message_includes}`);
  assert.ok(
    message.includes(expected.message_includes),
    `${name}: the error "${message}" does not name ${expected.message_includes}`,
  );
}

function pick(result, fields) {
  return fields ? fields.map((field) => result[field]) : FIELDS.map((field) => result[field]);
}

function checkSame(testCase) {
  const { name, configs, fields } = testCase;
  const first = pick(explorer.compute(configs[0]), fields);
  configs.slice(1).forEach((config, k) => {
    assertSame(pick(explorer.compute(config), fields), first, name, `config ${k + 1} vs config 0: ${fields || FIELDS}`);
  });
}

function checkDiffer(testCase) {
  const { name, configs, fields } = testCase;
  const [a, b] = configs.map((config) => pick(explorer.compute(config), fields));
  assert.ok(difference(a, b) !== null, `${name}: both configs give the same ${fields || FIELDS}`);
}

/** Counts as the browser test counted them: eligible tokens (not special), chosen, [MASK],
 * unchanged, other (random) and random ids in the upper half of the vocabulary. */
function checkRates(testCase) {
  const { name, config: base, seeds, expected } = testCase;
  const c = { eligible: 0, chosen: 0, mask: 0, same: 0, other: 0, high: 0 };
  for (let seed = 0; seed < seeds; seed++) {
    const r = explorer.compute({ ...base, seed });
    r.labels.forEach((row, i) => {
      row.forEach((label, j) => {
        const id = base.examples[i][j];
        if (!base.tokenizer.special_ids.includes(id)) c.eligible++;
        if (label === -100) return;
        c.chosen++;
        const now = r.input_ids[i][j];
        if (now === base.tokenizer.mask_token_id) c.mask++;
        else if (now === label) c.same++;
        else {
          c.other++;
          if (now >= base.tokenizer.vocab_size / 2) c.high++;
        }
      });
    });
  }
  const within = (what, hits, n, q) => {
    const bound = 5 * Math.sqrt((q * (1 - q)) / n) + 1e-9;
    assert.ok(
      Math.abs(hits / n - q) <= bound,
      `${name}: ${what} is ${hits} / ${n} = ${(hits / n).toFixed(4)}, expected ${q} within 5 sigma (${bound.toFixed(4)})`,
    );
  };
  const p = expected.mlm_probability;
  const maskP = expected.mask_replace_prob;
  const randomShare = (1 - maskP) * (expected.random_replace_prob / (1 - maskP));
  assert.equal(c.eligible, expected.eligible, `${name}: ${c.eligible} eligible tokens, expected ${expected.eligible}`);
  within("the chosen share", c.chosen, c.eligible, p);
  within("the [MASK] share of the chosen", c.mask, c.chosen, maskP);
  within("the random share of the chosen", c.other, c.chosen, randomShare);
  within("the unchanged share of the chosen", c.same, c.chosen, 1 - maskP - randomShare);
  within("the upper-half share of the random ids", c.high, c.other, 0.5);
}

function checkDecode(testCase) {
  const { name, tokens, decoder, expected } = testCase;
  const text = explorer.decode(tokens, decoder);
  assert.equal(text, expected, `${name}: decode(${show(tokens)}, "${decoder}") is ${show(text)}, expected ${show(expected)}`);
}

function checkSeedValue(testCase) {
  const { name, seed, expected } = testCase;
  const value = explorer.seedValue(seed);
  assert.equal(value, expected, `${name}: seedValue(${show(seed)}) is ${show(value)}, expected ${show(expected)}`);
}

const CHECKS = {
  batch: checkBatch,
  error: checkError,
  same: checkSame,
  differ: checkDiffer,
  rates: checkRates,
  decode: checkDecode,
  seedValue: checkSeedValue,
};

const fixtures = loadFixtures();

test("explorer-compute.js exports the computation", () => {
  for (const name of ["compute", "decode", "visible", "seedValue"]) {
    assert.equal(typeof explorer[name], "function", `${name} is not a function`);
  }
  assert.equal(typeof explorer.SEED_MIN, "bigint");
  assert.equal(typeof explorer.SEED_MAX, "bigint");
});

for (const suite of fixtures.suites) {
  describe(suite.name, () => {
    for (const testCase of suite.cases) {
      const check = CHECKS[testCase.kind];
      test(testCase.name, () => {
        assert.ok(check, `${testCase.name}: unknown kind ${testCase.kind}`);
        check(testCase);
      });
    }
    if (suite.min_chosen !== undefined) {
      test(`at least ${suite.min_chosen} tokens chosen over the suite`, () => {
        let chosen = 0;
        for (const testCase of suite.cases) {
          if (testCase.kind !== "batch" || !testCase.expected.masked_from) continue;
          const result = explorer.compute(testCase.config);
          chosen += checkMasking(result, testCase.expected.masked_from, testCase.config, testCase.name);
        }
        assert.ok(chosen >= suite.min_chosen, `${suite.name}: ${chosen} tokens chosen, expected ${suite.min_chosen} at least`);
      });
    }
  });
}
