"""The batch explorer in chromium: ``compute`` against transformers' collators, and its interface.

``window.lmnotesExplorer.compute`` (docs/_static/explorer.js) runs in the built page and is
compared with ``DataCollatorForLanguageModeling`` and ``DataCollatorWithFlattening`` on
random configurations drawn by a seeded ``random.Random``: lengths 1 to 32, batches of 1 to 8,
both padding sides, pad = EOS or a distinct pad, with and without ``pad_to_multiple_of``.
The interface test uses the keyboard only.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import torch
from conftest import ROOT
from transformers import DataCollatorForLanguageModeling, DataCollatorWithFlattening

from lmnotes.assets import load_tokenizer
from lmnotes.packing import packed_causal_mask

pytestmark = [pytest.mark.site, pytest.mark.browser]

PAGE = "notes/batch-explorer.html"
#: Random configurations compared with the library, per collator.
CONFIGS = 200
MULTIPLES = [None, None, 2, 3, 4, 8, 16]
#: ``compute`` on many configurations at once; masks come back as strings of 0/1 per query
#: row (they are large), after checking in the page that every entry is a boolean.
COMPUTE_MANY = """configs => configs.map(config => {
  const r = window.lmnotesExplorer.compute(config);
  const booleans = r.mask.every(rows => rows.every(row => row.every(b => typeof b === "boolean")));
  return {
    ...r, booleans, mask: r.mask.map(rows => rows.map(row => row.map(b => b ? "1" : "0").join("")))
  };
})"""


def _open(context, url: str):
    """Open *url*; return the page and its errors: script errors, console errors, failed requests.

    A missing favicon.ico is left to the site-wide accessibility work (issue 14).
    """
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(url, wait_until="networkidle")
    return page, errors


def _view(tokenizer) -> dict:
    """The ``config.tokenizer`` of the contract, read from a transformers tokenizer."""
    return {
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "mask_token_id": tokenizer.mask_token_id,
        "special_ids": sorted(set(tokenizer.all_special_ids)),
        "vocab_size": len(tokenizer),
    }


def _codegen(pad: str):
    tokenizer = load_tokenizer("Salesforce/codegen-350M-mono")
    if pad == "eos":
        tokenizer.pad_token = tokenizer.eos_token
    else:
        tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
    return tokenizer


@pytest.fixture(scope="module")
def tokenizers() -> dict:
    """CodeGen with pad = EOS and with a distinct <|pad|>; bert-base-cased for MLM."""
    return {
        "eos": _codegen("eos"),
        "pad": _codegen("pad"),
        "mlm": load_tokenizer("bert-base-cased"),
    }


@pytest.fixture(scope="module")
def page(browser_context, server):  # noqa: F811
    page, errors = _open(browser_context, f"{server}/en/{PAGE}")
    page.wait_for_function("window.lmnotesExplorer && document.querySelector('.lmx-row')")
    yield page
    assert errors == []
    page.close()


def _random_ids(rng: random.Random, length: int, vocab: int, frequent: list[int]) -> list[int]:
    """Random ids; about one in eight is one of ``frequent`` (EOS, pad, special ids)."""
    return [
        rng.choice(frequent) if rng.random() < 0.125 else rng.randrange(vocab)
        for _ in range(length)
    ]


def _random_batch(rng: random.Random, vocab: int, frequent: list[int]) -> list[list[int]]:
    """1 to 8 examples of 1 to 32 ids; about one in eight is empty (as an emptied example)."""
    return [
        _random_ids(rng, 0 if rng.random() < 0.125 else rng.randint(1, 32), vocab, frequent)
        for _ in range(rng.randint(1, 8))
    ]


def _empties(configs) -> int:
    """How many examples of ``configs`` are empty, in batches that have another example."""
    return sum(
        not ids and any(config["examples"]) for config in configs for ids in config["examples"]
    )


def _padded_configs(rng: random.Random, collator: str, tokenizers: dict, n: int):
    """``n`` (config, tokenizer) pairs covering both sides, both pads and pad_to_multiple_of."""
    pairs = []
    for i in range(n):
        if collator == "mlm":
            tokenizer = tokenizers["mlm"]
        else:
            tokenizer = tokenizers["eos" if i % 2 == 0 else "pad"]
        frequent = sorted(set(tokenizer.all_special_ids))
        config = {
            "collator": collator,
            "tokenizer": _view(tokenizer),
            "examples": _random_batch(
                rng, 50257 if collator != "mlm" else len(tokenizer), frequent
            ),
            "padding_side": "right" if (i // 2) % 2 == 0 else "left",
            "pad_to_multiple_of": rng.choice(MULTIPLES),
            "seed": rng.randrange(2**31),
        }
        pairs.append((config, tokenizer))
    return pairs


def _library_padded(config: dict, tokenizer, *, mlm: bool) -> dict[str, list]:
    tokenizer.padding_side = config["padding_side"]
    collator = DataCollatorForLanguageModeling(
        tokenizer, mlm=mlm, pad_to_multiple_of=config["pad_to_multiple_of"], seed=0
    )
    batch = collator([{"input_ids": ids} for ids in config["examples"]])
    return {key: value.tolist() for key, value in batch.items()}


def _scored(labels: list[list[int]]) -> list[list[int]]:
    """The positions whose logits transformers' causal LM loss scores, per row: those whose
    logits get a gradient from ``ForCausalLMLoss`` (which shifts the labels within a row)."""
    from transformers.loss.loss_utils import ForCausalLMLoss

    width = len(labels[0])
    logits = torch.zeros(len(labels), width, 7, requires_grad=True)
    target = torch.tensor(labels).clamp(max=6).masked_fill(torch.tensor(labels) == -100, -100)
    loss = ForCausalLMLoss(logits, target, vocab_size=7)
    if not target[:, 1:].ne(-100).any():  # nothing scored: the mean over no target is nan
        assert loss.isnan()
        return [[] for _ in labels]
    loss.backward()
    scored = logits.grad.abs().sum(-1) > 0
    return [row.nonzero().flatten().tolist() for row in scored]


def _mask_strings(mask: torch.Tensor) -> list[str]:
    return ["".join("1" if bit else "0" for bit in row) for row in mask.tolist()]


class TestComputeClm:
    def test_matches_the_collator_on_random_batches(self, page, tokenizers) -> None:
        """input_ids, attention_mask and labels equal
        DataCollatorForLanguageModeling(mlm=False)'s."""
        pairs = _padded_configs(random.Random(16), "clm", tokenizers, CONFIGS)
        results = page.evaluate(COMPUTE_MANY, [config for config, _ in pairs])
        hidden_eos = 0
        for (config, tokenizer), result in zip(pairs, results, strict=True):
            expected = _library_padded(config, tokenizer, mlm=False)
            assert sorted(expected) == ["attention_mask", "input_ids", "labels"]
            for key in expected:
                assert result[key] == expected[key], (key, config)
            eos = config["tokenizer"]["eos_token_id"]
            hidden_eos += sum(
                i == eos and a == 1 and lab == -100
                for ids, am, labels in zip(
                    result["input_ids"], result["attention_mask"], result["labels"], strict=True
                )
                for i, a, lab in zip(ids, am, labels, strict=True)
            )
        sides = {config["padding_side"] for config, _ in pairs}
        pads = {config["tokenizer"]["pad_token_id"] for config, _ in pairs}
        multiples = {config["pad_to_multiple_of"] for config, _ in pairs}
        assert sides == {"left", "right"} and pads == {50256, 50295} and None in multiples
        assert len(multiples) > 3 and hidden_eos > 0  # the pad = EOS pitfall was exercised
        assert _empties(config for config, _ in pairs) > 20  # and emptied examples

    def test_mask_is_causal_and_hides_padded_keys(self, page, tokenizers) -> None:
        """mask[row][q][k] is true exactly when k <= q and key k is not padding; position ids count
        real tokens and are 0 on padding."""
        pairs = _padded_configs(random.Random(61), "clm", tokenizers, 40)
        results = page.evaluate(COMPUTE_MANY, [config for config, _ in pairs])
        for result in results:
            assert result["booleans"]
            am = torch.tensor(result["attention_mask"], dtype=torch.bool)
            length = am.shape[1]
            causal = torch.ones(length, length, dtype=torch.bool).tril()
            for row in range(am.shape[0]):
                assert result["mask"][row] == _mask_strings(causal & am[row][None, :])
            # As transformers' generate() computes them
            # (GenerationMixin._prepare_position_ids_for_generation).
            positions = (am.long().cumsum(-1) - 1).masked_fill(~am, 0)
            assert result["position_ids"] == positions.tolist()


class TestComputeFlattening:
    def test_matches_the_collator_on_random_batches(self, page, tokenizers) -> None:
        """input_ids, labels and position_ids equal DataCollatorWithFlattening()'s; no
        attention_mask."""
        rng = random.Random(1629)
        configs = []
        for i in range(CONFIGS):
            tokenizer = tokenizers["eos" if i % 2 == 0 else "pad"]
            examples = _random_batch(rng, 50257, [tokenizer.eos_token_id])
            if not any(examples):  # the library refuses it: see the test below
                examples.append([tokenizer.eos_token_id])
            configs.append(
                {
                    "collator": "flattening",
                    "tokenizer": _view(tokenizer),
                    "examples": examples,
                    "padding_side": rng.choice(["right", "left"]),
                    "pad_to_multiple_of": rng.choice(MULTIPLES),
                }
            )
        assert _empties(configs) > 20
        results = page.evaluate(COMPUTE_MANY, configs)
        collator = DataCollatorWithFlattening()
        for config, result in zip(configs, results, strict=True):
            expected = collator([{"input_ids": ids} for ids in config["examples"]])
            assert sorted(expected) == ["input_ids", "labels", "position_ids"]
            for key, value in expected.items():
                assert result[key] == value.tolist(), (key, config)
            assert result["attention_mask"] is None
            assert result["booleans"]
            # Same example and key <= query: the block-diagonal causal mask of the position ids.
            block = packed_causal_mask(expected["position_ids"])[0, 0]
            assert result["mask"] == [_mask_strings(block)]

    def test_empty_examples_are_dropped_as_the_collator_does(self, page) -> None:
        """Empty examples are left out; a batch of empty examples is refused, as by the library."""
        examples = [[5, 6], [], [7]]
        result = page.evaluate(
            "c => window.lmnotesExplorer.compute(c)",
            {"collator": "flattening", "examples": examples},
        )
        expected = DataCollatorWithFlattening()([{"input_ids": ids} for ids in examples])
        assert result["input_ids"] == expected["input_ids"].tolist()
        assert result["labels"] == expected["labels"].tolist()
        with pytest.raises(ValueError):
            DataCollatorWithFlattening()([{"input_ids": []}])
        error = page.evaluate("""() => { try { window.lmnotesExplorer.compute(
            {collator: "flattening", examples: [[]]}); return null; }
            catch (e) { return e.message; } }""")
        assert error is not None and "empty" in error


class TestComputeEmptyBatches:
    @pytest.mark.parametrize("collator", ["clm", "mlm"])
    @pytest.mark.parametrize("multiple", [None, 4])
    def test_every_example_empty_gives_rows_of_length_0(
        self, page, tokenizers, collator, multiple
    ) -> None:
        """A batch whose examples are all empty is what DataCollatorForLanguageModeling returns:
        as many rows as examples, of length 0 (``pad_to_multiple_of`` adds nothing to 0)."""
        tokenizer = tokenizers["mlm" if collator == "mlm" else "eos"]
        config = {
            "collator": collator,
            "tokenizer": _view(tokenizer),
            "examples": [[], [], []],
            "padding_side": "right",
            "pad_to_multiple_of": multiple,
        }
        expected = _library_padded(config, tokenizer, mlm=collator == "mlm")
        assert expected["input_ids"] == [[], [], []]
        result = page.evaluate("c => window.lmnotesExplorer.compute(c)", config)
        for key in expected:
            assert result[key] == expected[key], key
        assert result["mask"] == [[], [], []]


@pytest.fixture(scope="module")
def runs(page, tokenizers):
    """CONFIGS random MLM configurations and what ``compute`` gives for them."""
    pairs = _padded_configs(random.Random(1810), "mlm", tokenizers, CONFIGS)
    return pairs, page.evaluate(COMPUTE_MANY, [config for config, _ in pairs])


class TestComputeMlm:
    def test_padding_and_attention_mask_match_the_collator(self, runs) -> None:
        """attention_mask equals the collator's; the unmasked ids (labels put back) equal its padded
        ids; empty examples included."""
        pairs, results = runs
        assert _empties(config for config, _ in pairs) > 20
        for (config, tokenizer), result in zip(pairs, results, strict=True):
            expected = _library_padded(config, tokenizer, mlm=True)
            assert result["attention_mask"] == expected["attention_mask"]
            ours = [
                [lab if lab != -100 else i for i, lab in zip(ids, labels, strict=True)]
                for ids, labels in zip(result["input_ids"], result["labels"], strict=True)
            ]
            theirs = [
                [lab if lab != -100 else i for i, lab in zip(ids, labels, strict=True)]
                for ids, labels in zip(expected["input_ids"], expected["labels"], strict=True)
            ]
            assert ours == theirs

    def test_labels_and_chosen_inputs_follow_the_rule(self, runs) -> None:
        """Specials and padding are never chosen; labels are -100 or the original id; a chosen
        input is [MASK], an id below vocab_size, or unchanged; an unchosen input is unchanged; the
        mask hides padded keys."""
        pairs, results = runs
        chosen = 0
        for (config, tokenizer), result in zip(pairs, results, strict=True):
            padded = _library_padded(config, tokenizer, mlm=False)
            view = config["tokenizer"]
            special = set(view["special_ids"])
            for r, (original, am) in enumerate(
                zip(padded["input_ids"], padded["attention_mask"], strict=True)
            ):
                for i, (token, bit) in enumerate(zip(original, am, strict=True)):
                    label, now = result["labels"][r][i], result["input_ids"][r][i]
                    if label == -100:
                        assert now == token
                        continue
                    chosen += 1
                    assert bit == 1 and token not in special and label == token
                    assert now == view["mask_token_id"] or 0 <= now < view["vocab_size"]
                keys = torch.tensor(am, dtype=torch.bool)
                assert result["mask"][r] == _mask_strings(keys[None, :].expand(len(am), -1))
            assert result["booleans"]
        assert chosen > 100

    @pytest.mark.parametrize(("p", "mask_p", "random_p"), [(0.15, 0.8, 0.1), (0.4, 0.5, 0.3)])
    def test_rates_match_the_probabilities_over_many_seeds(
        self, page, tokenizers, p, mask_p, random_p
    ) -> None:
        """Over 400 seeds the chosen share and the [MASK] / random / unchanged split are within 5
        sigma."""
        bert = tokenizers["mlm"]
        rng = random.Random(35251)
        words = [[rng.randrange(1000, 28000) for _ in range(30)] for _ in range(8)]
        examples = [[bert.cls_token_id, *row, bert.sep_token_id] for row in words]
        base = {
            "collator": "mlm",
            "examples": examples,
            "tokenizer": _view(bert),
            "mlm_probability": p,
            "mask_replace_prob": mask_p,
            "random_replace_prob": random_p,
        }
        counts = page.evaluate(
            """base => {
          const c = {eligible: 0, chosen: 0, mask: 0, same: 0, other: 0, high: 0};
          for (let seed = 0; seed < 400; seed++) {
            const r = window.lmnotesExplorer.compute({...base, seed});
            r.labels.forEach((row, i) => row.forEach((label, j) => {
              const id = base.examples[i][j];
              if (!base.tokenizer.special_ids.includes(id)) c.eligible++;
              if (label === -100) return;
              c.chosen++;
              const now = r.input_ids[i][j];
              if (now === base.tokenizer.mask_token_id) c.mask++;
              else if (now === label) c.same++;
              else { c.other++; if (now >= base.tokenizer.vocab_size / 2) c.high++; }
            }));
          }
          return c;
        }""",
            base,
        )

        def within(hits: int, n: int, q: float) -> bool:
            return abs(hits / n - q) <= 5 * (q * (1 - q) / n) ** 0.5 + 1e-9

        assert counts["eligible"] == 400 * 8 * 30
        assert within(counts["chosen"], counts["eligible"], p)
        random_share = (1 - mask_p) * (random_p / (1 - mask_p))
        assert within(counts["mask"], counts["chosen"], mask_p)
        assert within(counts["other"], counts["chosen"], random_share)
        assert within(counts["same"], counts["chosen"], 1 - mask_p - random_share)
        assert within(counts["high"], counts["other"], 0.5)  # random ids spread over the vocabulary

    def test_same_seed_same_batch_other_seed_other_batch(self, page, tokenizers) -> None:
        """A config and seed give the same batch at every call; another seed gives another one."""
        bert = tokenizers["mlm"]
        examples = [bert("Hello, I'm a single sentence!")["input_ids"] * 3]
        config = {"collator": "mlm", "examples": examples, "tokenizer": _view(bert), "seed": 7}
        first, again = (
            page.evaluate("c => window.lmnotesExplorer.compute(c)", config) for _ in range(2)
        )
        other = page.evaluate("c => window.lmnotesExplorer.compute(c)", {**config, "seed": 8})
        assert first == again
        assert (first["input_ids"], first["labels"]) != (other["input_ids"], other["labels"])

    def test_draws_use_only_integer_arithmetic_and_agree_with_node(self, page, tokenizers) -> None:
        """The generator never calls Math.random, and Node.js gives the same batches as chromium."""
        script = ROOT / "docs" / "_static" / "explorer.js"
        assert "Math.random" not in script.read_text("utf-8")
        node = shutil.which("node")
        if node is None:
            pytest.skip("node not installed")
        pairs = _padded_configs(random.Random(497), "mlm", tokenizers, 20)
        configs = [config for config, _ in pairs]
        program = (
            "global.window = {}; global.document = {readyState: 'complete',"
            " documentElement: {lang: 'en'}, querySelectorAll: () => []};"
            f"require({json.dumps(str(script))});"
            "const configs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
            "process.stdout.write(JSON.stringify("
            "configs.map(c => window.lmnotesExplorer.compute(c))));"
        )
        out = subprocess.run(
            [node, "-e", program],
            input=json.dumps(configs),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        in_chromium = page.evaluate("cs => cs.map(c => window.lmnotesExplorer.compute(c))", configs)
        assert json.loads(out) == in_chromium

    def test_arguments_are_checked(self, page, tokenizers) -> None:
        """Bad probabilities, a missing mask id or an unknown collator are refused, naming the
        argument."""
        view = _view(tokenizers["mlm"])
        cases = [
            ({"mlm_probability": 1.5}, "mlm_probability"),
            ({"mask_replace_prob": 0.8, "random_replace_prob": 0.3}, "mask_replace_prob"),
            ({"tokenizer": {**view, "mask_token_id": None}}, "mask_token_id"),
            ({"collator": "seq2seq"}, "collator"),
            ({"padding_side": "top"}, "padding_side"),
            ({"pad_to_multiple_of": 0}, "pad_to_multiple_of"),
        ]
        for change, name in cases:
            config = {"collator": "mlm", "examples": [[101, 5, 102]], "tokenizer": view, **change}
            message = page.evaluate(
                """c => { try { window.lmnotesExplorer.compute(c); return null; }
                                       catch (e) { return e.message; } }""",
                config,
            )
            assert message is not None and name in message, (change, message)


class TestSeed:
    def test_seed_is_taken_as_torch_takes_it(self, page, tokenizers) -> None:
        """The seed goes where DataCollatorForLanguageModeling sends it,
        torch.Generator.manual_seed: an integer from -2**63 to 2**64 - 1, a negative one counted
        modulo 2**64 (the library and the explorer give seed -1 and seed 2**64 - 1 the same
        draw); others are refused by both."""
        bert = tokenizers["mlm"]
        base = {
            "collator": "mlm",
            "examples": [bert("Hello, I'm a single sentence!")["input_ids"] * 4],
            "tokenizer": _view(bert),
            "mlm_probability": 0.5,
        }
        same = [(-1, 2**64 - 1), (-(2**63), 2**63), (-12345, 2**64 - 12345)]
        for negative, positive in same:
            library = [
                DataCollatorForLanguageModeling(bert, seed=s, mlm_probability=0.5)(
                    [{"input_ids": base["examples"][0]}]
                )["labels"].tolist()
                for s in (negative, positive)
            ]
            assert library[0] == library[1]
            ours = page.evaluate(
                """([base, a, b]) => [a, b].map(s => window.lmnotesExplorer.compute(
                    {...base, seed: BigInt(s)}).labels)""",
                [base, str(negative), str(positive)],
            )
            assert ours[0] == ours[1]
        assert page.evaluate(
            "b => JSON.stringify(window.lmnotesExplorer.compute({...b, seed: -5}).labels)"
            " !== JSON.stringify(window.lmnotesExplorer.compute({...b, seed: 5}).labels)",
            base,
        )
        for bad in ("-9223372036854775809", "18446744073709551616"):
            with pytest.raises((ValueError, RuntimeError)):
                DataCollatorForLanguageModeling(bert, seed=int(bad))([{"input_ids": [101, 102]}])
        with pytest.raises(RuntimeError):
            DataCollatorForLanguageModeling(bert, seed=1.5)([{"input_ids": [101, 102]}])
        messages = page.evaluate(
            """([base, bads]) => bads.map(s => { try {
                const seed = s[0] === "n" ? BigInt(s.slice(1)) : s;
                window.lmnotesExplorer.compute({...base, seed});
                return null; } catch (e) { return e.message; } })""",
            [base, ["n-9223372036854775809", "n18446744073709551616", 1.5, 2**60]],
        )
        assert all(m is not None and "config.seed" in m for m in messages), messages


class TestDecode:
    @pytest.mark.parametrize("family", ["mlm", "eos"])
    def test_decode_is_the_tokenizers(self, page, tokenizers, family) -> None:
        """``decode`` of the token strings gives what ``tokenizer.decode(ids)`` gives: the
        examples, random ids of the whole vocabulary (bytes of broken characters included) and
        the added tokens (CodeGen's runs of spaces, special tokens)."""
        tokenizer = tokenizers[family]
        decoder = "wordpiece" if family == "mlm" else "byte-level"
        rng = random.Random(2828)
        added = sorted(tokenizer.added_tokens_decoder)
        texts = [
            "Hello, I'm a single sentence!",
            "La chat a quatre papattes !",
            "    return x\n\té",
        ]
        batches = [tokenizer(text)["input_ids"] for text in texts]
        batches += [
            [
                rng.choice(added) if rng.random() < 0.2 else rng.randrange(len(tokenizer))
                for _ in range(rng.randint(0, 12))
            ]
            for _ in range(300)
        ]
        tokens = [tokenizer.convert_ids_to_tokens(ids) for ids in batches]
        ours = page.evaluate(
            "([all, d]) => all.map(t => window.lmnotesExplorer.decode(t, d))", [tokens, decoder]
        )
        expected = [tokenizer.decode(ids) for ids in batches]
        assert ours == expected
        assert any("\ufffd" in text for text in expected) or family == "mlm"


class TestPageData:
    def test_page_data_is_what_the_tokenizers_say(self, page, tokenizers) -> None:
        """The data embedded in the page gives the tokenizer views the library's tokenizers have."""
        data = page.evaluate(
            "JSON.parse(document.querySelector('script.lmnotes-explorer-data').textContent)"
        )
        assert data["families"]["mlm"]["configs"]["pad"] == _view(tokenizers["mlm"])
        assert data["families"]["clm"]["configs"]["eos"] == _view(tokenizers["eos"])
        assert data["families"]["clm"]["configs"]["pad"] == _view(tokenizers["pad"])


def _tab_to(page, selector: str, *, limit: int = 80, key: str = "Tab") -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
    raise AssertionError(f"{selector} not reached with {key}")


def _visible(text: str) -> str:
    """Whitespace as the site's token tables show it: a space as ␣, newline and tab escaped."""
    return text.replace(" ", "\u2423").replace("\n", "\\n").replace("\t", "\\t")


def _keys(page) -> list[str]:
    """The notices shown, by key (``data-notice``)."""
    return page.eval_on_selector_all(".lmx-notices li", "lis => lis.map(li => li.dataset.notice)")


def _row_ids(page, row: int, field: str) -> list[int]:
    """The values of one field (``input_ids``, ``attention_mask``, ``labels``) of a shown row."""
    cells = (
        page.locator(".lmx-row")
        .nth(row)
        .locator(f"table.lmx-fields tr:has(th:text-is('{field}')) td")
    )
    return [int(text) for text in cells.all_inner_texts()]


def _notices(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(
        ".lmx-notices li",
        "lis => lis.map(li => [li.textContent, li.querySelector('a')?.getAttribute('href')])",
    )


class TestInterface:
    @pytest.fixture()
    def fresh(self, browser_context, server):  # noqa: F811
        def open_page(lang: str = "en"):
            page, errors = _open(browser_context, f"{server}/{lang}/{PAGE}")
            page.wait_for_selector(".lmx-row")
            return page, errors

        return open_page

    def test_keyboard_only(self, fresh, site: Path) -> None:
        """With the keyboard alone: pick collators, shorten an example, pad left, choose a
        distinct pad; the batch, the notices and their links follow, and every linked anchor
        exists."""
        page, errors = fresh()

        def rows() -> int:
            return page.locator(".lmx-row").count()

        # Default: CLM, the notes' two lines + EOS, pad = EOS: both EOS labels hidden.
        notices = _notices(page)
        assert any(
            "2 real EOS" in text and href == "clm.html#clm-pad-eos" for text, href in notices
        )
        _tab_to(page, 'input[data-field="collator"]')
        page.keyboard.press("ArrowDown")  # padding-free
        assert page.locator('input[value="flattening"]').is_checked() and rows() == 1
        assert any(href == "packing.html#packing-batch" for _, href in _notices(page))
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowUp")  # MLM
        assert page.locator('input[value="mlm"]').is_checked() and rows() == 2
        assert page.locator(".lmx-masking").evaluate("f => !f.disabled")
        page.keyboard.press("ArrowDown")  # back to CLM
        assert page.locator('input[value="clm"]').is_checked()
        # Drop two tokens of example 2: lengths differ, row 2 gets padding.
        _tab_to(page, 'button[data-action="drop"][data-index="1"]')
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        assert (
            page.locator('input[data-field="ids"][data-index="1"]').input_value()
            == "11748 299 32152"
        )
        assert page.locator(".lmx-row").nth(1).locator("td.lmx-pad").count() > 0
        # Left padding: the pad query rows of row 2 attend to nothing.
        _tab_to(page, 'input[data-field="side"]')
        page.keyboard.press("ArrowDown")
        assert page.locator('input[data-field="side"][value="left"]').is_checked()
        hrefs = [href for _, href in _notices(page) if href]
        assert "padding-mask.html#padding-mask-empty-rows" in hrefs
        assert "padding-mask.html#padding-mask-position-ids" in hrefs
        # A distinct pad: the EOS labels come back.
        _tab_to(page, 'input[data-field="pad"]')
        page.keyboard.press("ArrowDown")
        assert page.locator('input[data-field="pad"][value="pad"]').is_checked()
        assert not any(href == "clm.html#clm-pad-eos" for _, href in _notices(page))
        assert page.locator(".lmx-row").first.locator("td.lmx-ignored").count() == 0
        # Type ids: an invalid id is flagged, a valid edit rebuilds the batch.
        _tab_to(page, 'input[data-field="ids"][data-index="0"]', key="Shift+Tab", limit=40)
        page.keyboard.press("End")
        page.keyboard.type(" x")
        assert (
            page.locator('input[data-field="ids"][data-index="0"]').get_attribute("aria-invalid")
            == "true"
        )
        assert page.locator(".lmx-status.lmx-error").count() == 1
        page.keyboard.press("Backspace")
        page.keyboard.press("Backspace")
        assert page.locator(".lmx-row").count() == 2
        # Every notice link of the page's collators points to an existing anchor.
        for href in hrefs + [
            "clm.html#clm-pad-eos",
            "packing.html#packing-batch",
            "mlm.html#mlm-80-10-10",
        ]:
            name, anchor = href.split("#")
            assert f'id="{anchor}"' in (site / "en" / "notes" / name).read_text("utf-8"), href
        page.close()
        assert errors == []

    def test_emptied_examples_get_what_the_collator_does(self, fresh, tokenizers) -> None:
        """Emptying an example with "−1": the buttons that would do nothing are disabled (focus
        moves to Reset), and each collator's notice says what transformers does with it, checked
        against the library on the page's own ids: padding only (CLM, MLM; and its query rows
        attend to nothing), EOS alone then padding (CLM with EOS appended), left out
        (padding-free)."""
        page, errors = fresh()
        drop = 'button[data-action="drop"][data-index="1"]'
        repeat = 'button[data-action="repeat"][data-index="1"]'
        first = [
            int(i)
            for i in page.locator('input[data-field="ids"][data-index="0"]').input_value().split()
        ]
        _tab_to(page, drop)
        for _ in range(
            len(page.locator('input[data-field="ids"][data-index="1"]').input_value().split())
        ):
            assert not page.locator(drop).is_disabled()
            page.keyboard.press("Enter")
        assert page.locator(drop).is_disabled() and page.locator(repeat).is_disabled()
        assert page.evaluate("document.activeElement.dataset.action") == "reset"
        # CLM, EOS appended: the row is EOS alone; the shift never scores a first token.
        assert "emptyEosNotice" in _keys(page)
        eos = tokenizers["eos"]
        expected = _library_padded(
            {
                "examples": [first + [eos.eos_token_id], [eos.eos_token_id]],
                "padding_side": "right",
                "pad_to_multiple_of": None,
            },
            eos,
            mlm=False,
        )
        assert _row_ids(page, 1, "labels") == expected["labels"][1]
        # Without EOS: a row of padding only, which attends to nothing.
        page.locator('input[data-field="appendEos"]').focus()
        page.keyboard.press("Space")
        keys = _keys(page)
        assert "emptyNotice" in keys and "allPadNotice" in keys and "emptyEosNotice" not in keys
        expected = _library_padded(
            {"examples": [first, []], "padding_side": "right", "pad_to_multiple_of": None},
            eos,
            mlm=False,
        )
        assert expected["attention_mask"][1] == [0] * len(first)
        assert set(expected["labels"][1]) == {-100}
        assert _row_ids(page, 1, "attention_mask") == expected["attention_mask"][1]
        assert _row_ids(page, 1, "labels") == expected["labels"][1]
        assert page.locator(".lmx-row h4").nth(1).inner_text() == "Row 2: an empty example"
        # Padding-free: the library leaves it out; the packed row counts one example.
        page.locator('input[data-field="collator"][value="flattening"]').focus()
        page.keyboard.press("Space")
        flat = DataCollatorWithFlattening()([{"input_ids": first}, {"input_ids": []}])
        keys = _keys(page)
        assert "emptyPackedNotice" in keys and "packedNoticeOne" in keys
        notice = page.locator('.lmx-notices li[data-notice="packedNoticeOne"]').inner_text()
        assert f"{flat['input_ids'].shape[1]} tokens of 1 example" in notice
        assert _row_ids(page, 0, "input_ids") == flat["input_ids"][0].tolist()
        # MLM: an emptied example is a row of padding only, which attends to nothing.
        page.locator('input[data-field="collator"][value="mlm"]').focus()
        page.keyboard.press("Space")
        ids = page.locator('input[data-field="ids"][data-index="1"]')
        ids.focus()
        page.keyboard.press("Control+a")
        page.keyboard.press("Delete")
        keys = _keys(page)
        assert "emptyNotice" in keys and "allPadNotice" in keys
        bert = tokenizers["mlm"]
        mlm_first = [
            int(i)
            for i in page.locator('input[data-field="ids"][data-index="0"]').input_value().split()
        ]
        expected = _library_padded(
            {"examples": [mlm_first, []], "padding_side": "right", "pad_to_multiple_of": None},
            bert,
            mlm=True,
        )
        assert _row_ids(page, 1, "attention_mask") == expected["attention_mask"][1]
        assert _row_ids(page, 1, "labels") == expected["labels"][1] == [-100] * len(mlm_first)
        page.close()
        assert errors == []

    def test_headings_decode_the_ids_as_they_are(self, fresh, tokenizers) -> None:
        """A row's heading is tokenizer.decode of its ids as they are now (after an edit too),
        whitespace shown as ␣ as in the token tables; an edited example gets a notice; Reset is
        disabled while the example holds its original ids."""
        page, errors = fresh()
        codegen = tokenizers["eos"]
        page.locator('input[data-field="on"][data-index="2"]').focus()
        page.keyboard.press("Space")  # "    return x"
        ids = [
            int(i)
            for i in page.locator('input[data-field="ids"][data-index="2"]').input_value().split()
        ]
        heading = page.locator(".lmx-row h4 code").nth(2)
        assert heading.inner_text() == _visible(codegen.decode(ids + [codegen.eos_token_id]))
        assert heading.inner_text().startswith("\u2423" * 4)
        reset = page.locator('button[data-action="reset"][data-index="2"]')
        assert reset.is_disabled()  # nothing to reset yet
        page.locator('button[data-action="drop"][data-index="2"]').focus()
        page.keyboard.press("Enter")
        assert heading.inner_text() == _visible(codegen.decode(ids[:-1] + [codegen.eos_token_id]))
        assert "editedNotice" in _keys(page)
        assert not reset.is_disabled()
        reset.focus()
        page.keyboard.press("Enter")
        assert "editedNotice" not in _keys(page)
        # Reset has nothing left to do: disabled, and the focus goes to the example's ids.
        assert reset.is_disabled()
        assert page.evaluate("document.activeElement.dataset.field") == "ids"
        assert heading.inner_text() == _visible(codegen.decode(ids + [codegen.eos_token_id]))
        page.close()
        assert errors == []

    def test_batches_that_train_nothing_say_so(self, fresh, tokenizers) -> None:
        """Every example emptied: the collator's rows of length 0, told by a notice (no table);
        a padding-free batch of one token: no label is left after the shift, as the library's
        labels show; one more token and the notice goes."""
        page, errors = fresh()
        eos = tokenizers["eos"]
        page.locator('input[data-field="appendEos"]').uncheck()
        for i in (0, 1):
            page.locator(f'input[data-field="ids"][data-index="{i}"]').fill("")
        expected = _library_padded(
            {"examples": [[], []], "padding_side": "right", "pad_to_multiple_of": None},
            eos,
            mlm=False,
        )
        assert expected["input_ids"] == [[], []]
        assert _keys(page) == ["emptyBatchNotice"]
        assert "returns 2 row(s) of length 0" in page.locator(".lmx-notices li").inner_text()
        assert page.locator(".lmx-row").count() == 0
        # Padding-free, one example of one token: its only label is -100, nothing to train.
        page.locator('button[data-action="reset"][data-index="0"]').click()
        page.locator('input[data-field="on"][data-index="1"]').uncheck()
        page.locator('input[data-field="collator"][value="flattening"]').check()
        ids = page.locator('input[data-field="ids"][data-index="0"]')
        first = int(ids.input_value().split()[0])
        ids.fill(str(first))
        flat = DataCollatorWithFlattening()([{"input_ids": [first]}])
        assert flat["labels"].tolist() == [[-100]]
        assert "noTargetNotice" in _keys(page)
        page.locator('button[data-action="repeat"][data-index="0"]').click()
        flat = DataCollatorWithFlattening()([{"input_ids": [first, first]}])
        assert flat["labels"].tolist() == [[-100, first]]
        assert "noTargetNotice" not in _keys(page)
        # Causal, pad = EOS, each example its EOS alone: every label is -100.
        page.locator('input[data-field="collator"][value="clm"]').check()
        page.locator('input[data-field="appendEos"]').check()
        page.locator('input[data-field="on"][data-index="1"]').check()
        for i in (0, 1):
            page.locator(f'input[data-field="ids"][data-index="{i}"]').fill("")
        expected = _library_padded(
            {
                "examples": [[eos.eos_token_id], [eos.eos_token_id]],
                "padding_side": "right",
                "pad_to_multiple_of": None,
            },
            eos,
            mlm=False,
        )
        assert expected["labels"] == [[-100], [-100]]
        assert "noTargetNotice" in _keys(page)
        assert _row_ids(page, 0, "labels") == expected["labels"][0]
        page.close()
        assert errors == []

    def test_left_padding_targets_are_the_losss(self, fresh, tokenizers) -> None:
        """Left padding in training: the first real token of a shorter row keeps its label, and
        transformers' causal LM loss scores it at the padding position before it (a notice says
        so, with the count of such rows); an emptied example's EOS is such a target too."""
        page, errors = fresh()
        pad = tokenizers["pad"]
        page.locator('input[data-field="pad"][value="pad"]').check()
        page.locator('input[data-field="side"][value="left"]').check()
        page.locator('input[data-field="on"][data-index="1"]').uncheck()
        page.locator('input[data-field="on"][data-index="2"]').check()  # "    return x"
        lengths = [
            len(page.locator(f'input[data-field="ids"][data-index="{i}"]').input_value().split())
            for i in (0, 2)
        ]
        labels = [_row_ids(page, r, "labels") for r in (0, 1)]
        masks = [_row_ids(page, r, "attention_mask") for r in (0, 1)]
        scored = _scored(labels)
        # Rows whose position before their first real token (a pad) is scored by the loss.
        from_pad = [
            r for r in (0, 1) if masks[r].index(1) > 0 and masks[r].index(1) - 1 in scored[r]
        ]
        assert lengths[0] != lengths[1] and len(from_pad) == 1
        assert "padTargetNotice" in _keys(page)
        notice = page.locator('.lmx-notices li[data-notice="padTargetNotice"]').inner_text()
        assert notice.startswith("Left padding: in 1 row(s)")
        # Emptied, with EOS appended: that EOS is scored at the pad before it.
        page.locator('input[data-field="ids"][data-index="2"]').fill("")
        labels = [_row_ids(page, r, "labels") for r in (0, 1)]
        width = len(labels[1])
        assert labels[1][-1] == pad.eos_token_id and width - 2 in _scored(labels)[1]
        assert "emptyEosTargetNotice" in _keys(page) and "emptyEosNotice" not in _keys(page)
        # Right padding: the EOS comes first in its row, never scored.
        page.locator('input[data-field="side"][value="right"]').check()
        labels = [_row_ids(page, r, "labels") for r in (0, 1)]
        assert _scored(labels)[1] == []
        assert "emptyEosNotice" in _keys(page) and "padTargetNotice" not in _keys(page)
        page.close()
        assert errors == []

    def test_skip_link_reaches_the_explorer(self, fresh) -> None:
        """From the top of the page, the second Tab stop is a link to the explorer; following it
        puts the focus on the first control."""
        page, errors = fresh()
        page.locator("body").focus()
        presses = 0
        while not page.evaluate("document.activeElement.matches('a.lmx-skip')"):
            page.keyboard.press("Tab")
            presses += 1
            assert presses <= 2, "the skip link should be the second Tab stop at most"
        assert page.evaluate("document.activeElement.textContent") == "Skip to the batch explorer"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.matches('input[data-field=\"collator\"]')")
        page.close()
        assert errors == []

    def test_seed_is_checked_in_the_form(self, fresh) -> None:
        """A negative seed is taken (with a notice of the seed it draws as); a seed that is not
        an integer is refused, naming the seed; Next seed is disabled then."""
        page, errors = fresh()
        page.locator('input[data-field="collator"][value="mlm"]').check()
        seed = page.locator('input[data-field="seed"]')
        seed.fill("-1")
        assert "seedNotice" in _keys(page)
        notice = page.locator('.lmx-notices li[data-notice="seedNotice"]').inner_text()
        assert "18,446,744,073,709,551,615" in notice
        seed.fill("1.5")
        assert "the seed must be an integer" in page.locator(".lmx-status.lmx-error").inner_text()
        assert seed.get_attribute("aria-invalid") == "true"
        assert page.locator('button[data-action="next-seed"]').is_disabled()
        seed.fill("7")
        page.locator('button[data-action="next-seed"]').click()
        assert seed.input_value() == "8" and page.locator(".lmx-status.lmx-error").count() == 0
        page.close()
        assert errors == []

    def test_probabilities_are_checked_in_the_form(self, fresh, tokenizers) -> None:
        """A probability the collator refuses (ValueError in its __post_init__) is refused in the
        form too, naming the argument, in the page's language; the field is marked invalid."""
        bert = tokenizers["mlm"]
        for bad in (
            {"mlm_probability": 1.5},
            {"mask_replace_prob": 0.8, "random_replace_prob": 0.3},
        ):
            with pytest.raises(ValueError):
                DataCollatorForLanguageModeling(bert, **bad)
        for lang, words in (("en", "must not exceed 1"), ("fr", "ne doit pas d\u00e9passer 1")):
            page, errors = fresh(lang)
            page.locator('input[data-field="collator"][value="mlm"]').check()
            status = page.locator(".lmx-status")
            field = page.locator('input[data-field="mlm_probability"]')
            field.fill("1.5")
            assert "mlm_probability" in status.inner_text()
            assert field.get_attribute("aria-invalid") == "true"
            field.fill("0.15")
            assert field.get_attribute("aria-invalid") == "false"
            page.locator('input[data-field="random_replace_prob"]').fill("0.3")
            text = status.inner_text()
            assert "mask_replace_prob + random_replace_prob" in text and words in text
            page.locator('input[data-field="random_replace_prob"]').fill("0.1")
            assert page.locator(".lmx-status.lmx-error").count() == 0
            page.close()
            assert errors == []

    def test_every_preset_link_of_the_site_loads(self, browser_context, server, site) -> None:
        """Each {explorer} link of a note page, in both languages, opens the explorer with its
        configuration in the form (collator, padding side, pad, examples), with no notice
        about the address and no error."""
        links = []
        for lang in ("en", "fr"):
            for html in sorted((site / lang / "notes").glob("*.html")):
                for href in re.findall(
                    r'href="(batch-explorer\.html#config=[^"]+)"', html.read_text("utf-8")
                ):
                    links.append((lang, href.replace("&quot;", '"')))
        assert len(links) >= 8, links  # three exercises and the explorer page, both languages
        for lang, href in links:
            config = json.loads(unquote(href.split("#config=", 1)[1]))
            page, errors = _open(browser_context, f"{server}/{lang}/notes/{href}")
            page.wait_for_selector(".lmx-row")
            assert "presetNotice" not in _keys(page), href
            checked = page.eval_on_selector_all(
                "input:checked", "xs => xs.map(x => [x.dataset.field, x.value])"
            )
            assert ["collator", config["collator"]] in checked, (href, checked)
            if "padding_side" in config:
                assert ["side", config["padding_side"]] in checked, (href, checked)
            if "pad" in config:
                assert ["pad", config["pad"]] in checked, (href, checked)
            on = [
                int(x.get_attribute("data-index"))
                for x in page.locator('input[data-field="on"]:checked').all()
            ]
            assert on == config["examples"], (href, on)
            assert len(page.locator(".lmx-row").all()) == (
                1 if config["collator"] == "flattening" else len(config["examples"])
            )
            page.close()
            assert errors == [], (href, errors)

    @pytest.mark.parametrize(
        ("fragment", "key", "value"),
        [
            ('{"padding_side":"middle"}', "padding_side", '"middle"'),
            ('{"collator":"clm","examples":[0,9]}', "examples", "[0,9]"),
            ('{"mlm_probability":1.5}', "mlm_probability", "1.5"),
            ('{"colator":"mlm"}', "colator", '"mlm"'),
            ("not json", "#config", "not json"),
        ],
    )
    def test_a_preset_it_cannot_take_loads_nothing(
        self, browser_context, server, fragment, key, value
    ) -> None:
        """A bad #config= names the key and the value in a notice; the form keeps every default
        (nothing half-applied); the first change in the form clears the notice."""
        url = f"{server}/en/{PAGE}#config={quote(fragment)}"
        page, errors = _open(browser_context, url)
        page.wait_for_selector(".lmx-row")
        notice = page.locator('.lmx-notices li[data-notice="presetNotice"]')
        assert notice.count() == 1
        assert f"{key} cannot be {value}" in notice.inner_text()
        assert page.locator('input[data-field="collator"][value="clm"]').is_checked()
        assert page.locator('input[data-field="side"][value="right"]').is_checked()
        page.locator('input[data-field="side"][value="left"]').check()
        assert page.locator('.lmx-notices li[data-notice="presetNotice"]').count() == 0
        page.close()
        assert errors == []

    def test_french_interface(self, fresh) -> None:
        """On the French site the interface is French: legends, notices, headings."""
        page, errors = fresh("fr")
        text = page.locator(".lmx-explorer").inner_text()
        assert "Assembleur de données" in text and "Le lot" in text and "Remplissage" in text
        assert "jeton(s) EOS réel(s) sans étiquette" in text
        for english in ("Examples", "The batch", "Padding side", "Read more", "Row 1"):
            assert english not in text
        skip = page.locator("a.lmx-skip").text_content()
        assert skip and "explorer" not in skip.lower().split()
        assert "«\u00a0def\u2423hello_world():<|endoftext|>\u00a0»" in text
        prose = page.eval_on_selector_all(
            ".lmx-explorer :is(legend, label, li, h3, h4, p, caption)",
            "nodes => nodes.map(n => { const c = n.cloneNode(true);"
            " c.querySelectorAll('code, .lmx-tokens').forEach(x => x.remove());"
            " return c.textContent; })",
        )
        assert len(prose) > 20
        assert [
            m for p in prose for m in re.findall(r"\S{0,12}(?<![\u00a0\u202f])[:;!?](?=\s|$)", p)
        ] == []
        page.close()
        assert errors == []

    @pytest.mark.parametrize("lang", ["en", "fr"])
    def test_no_sideways_scroll_on_a_phone(self, fresh, lang) -> None:
        """At 375 px wide the page does not scroll sideways; wide tables scroll in their own box."""
        page, _ = fresh(lang)
        page.set_viewport_size({"width": 375, "height": 800})
        for collator in ("clm", "flattening", "mlm"):
            page.locator(f'input[data-field="collator"][value="{collator}"]').focus()
            page.keyboard.press("Space")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (collator, overflow)
        page.close()

    def test_mlm_outcomes_and_labels_are_not_told_by_colour_alone(self, fresh) -> None:
        """MLM rows name each draw (mask / random / unchanged) in text; -100 and trained labels
        differ in style."""
        page, _ = fresh()
        _tab_to(page, 'input[data-field="collator"]')
        page.keyboard.press("ArrowUp")
        _tab_to(page, 'input[data-field="mlm_probability"]')
        page.keyboard.press("Control+a")
        page.keyboard.type("1")
        drawn = page.locator("td.lmx-drawn").all_inner_texts()
        assert drawn and set(drawn) <= {"mask", "random", "unchanged"}
        styles = page.evaluate("""() => [".lmx-ignored", ".lmx-trained"].map(s => {
            const st = getComputedStyle(document.querySelector("td" + s));
            return [st.fontStyle, st.fontWeight, st.borderTopStyle, st.outlineStyle]; })""")
        assert styles[0] != styles[1]
        page.close()


class TestAxe:
    @pytest.mark.parametrize("lang", ["en", "fr"])
    @pytest.mark.parametrize("theme", ["light", "dark"])
    def test_explorer_has_no_axe_violation(
        self, browser_context, server, axe_source, lang, theme
    ) -> None:  # noqa: F811
        """axe-core finds no violation of any impact in the explorer, for each collator."""
        page, _ = _open(browser_context, f"{server}/{lang}/index.html")
        page.evaluate(f"localStorage.setItem('theme', '{theme}')")
        page.goto(f"{server}/{lang}/{PAGE}", wait_until="networkidle")
        page.add_script_tag(content=axe_source)
        for collator in ("clm", "flattening", "mlm"):
            page.locator(f'input[data-field="collator"][value="{collator}"]').check()
            violations = page.evaluate("""async () =>
                (await axe.run(document.querySelector('.lmnotes-explorer')))
                .violations.map(v => v.id + ': ' + v.nodes.length)""")
            assert violations == [], (collator, violations)
        page.close()
