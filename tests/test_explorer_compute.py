"""The batch explorer's computation against transformers' collators and tokenizers, in Node.js.

``docs/_static/explorer-compute.js`` (``window.lmnotesExplorer`` on the page) loads in Node
as well as in a browser. Each test here computes with transformers what the collators and
tokenizers give for a set of cases (tests/explorer_cases.py draws the random ones), writes
them as a fixtures JSON, and runs Node's own test runner on
``tests/js/explorer-compute.test.mjs``, which checks ``compute``, ``decode`` and
``seedValue`` against them case by case. No site build, no browser: this runs in
``nox -s tests``. tests/test_explorer_browser.py checks the page that uses it.

Without ``node`` the tests skip, with the command that installs it; under ``CI`` they fail.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import ROOT
from explorer_cases import (
    CONFIGS,
    MULTIPLES,
    empties,
    library_padded,
    load_tokenizers,
    mask_strings,
    node_or_skip,
    padded_configs,
    random_batch,
    view,
)
from transformers import DataCollatorForLanguageModeling, DataCollatorWithFlattening

from lmnotes.packing import packed_causal_mask

COMPUTE = ROOT / "docs" / "_static" / "explorer-compute.js"
NODE_TEST = ROOT / "tests" / "js" / "explorer-compute.test.mjs"
#: The variable naming the fixtures file for the Node test.
FIXTURES = "LMNOTES_EXPLORER_FIXTURES"


def big(value: int) -> dict[str, str]:
    """An integer the Node test reads as a BigInt (``{"$bigint": "digits"}``)."""
    return {"$bigint": str(value)}


def suite(name: str, cases: list[dict], **checks) -> dict:
    """A suite of the fixtures: its cases, named after it when they have no name."""
    for k, case in enumerate(cases):
        case.setdefault("name", f"{name} #{k}")
    return {"name": name, "cases": cases, **checks}


def run_node(suites: list[dict], folder: Path, env: dict | None = None):
    """Write ``suites`` to ``folder``/explorer-fixtures.json and run ``node --test`` on them.

    Returns the completed process (the spec reporter's output in its stdout).
    """
    path = folder / "explorer-fixtures.json"
    path.write_text(json.dumps({"version": 1, "suites": suites}), encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k != FIXTURES}
    environ.update({FIXTURES: str(path), "NO_COLOR": "1"} if env is None else env)
    return subprocess.run(
        [node_or_skip(), "--test", "--test-reporter=spec", str(NODE_TEST)],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def check_in_node(suites: list[dict], folder: Path) -> None:
    """Run the Node test on ``suites``; it must pass every case (its output shown otherwise)."""
    result = run_node(suites, folder)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(
            f"node --test {NODE_TEST.relative_to(ROOT)} failed (exit {result.returncode}):\n"
            + output,
            pytrace=False,
        )
    # Every case ran: one test each, one per min_chosen, and the test of the exports.
    tests = 1 + sum(len(s["cases"]) + ("min_chosen" in s) for s in suites)
    counts = dict(re.findall(r"^\S* ?(tests|pass|fail) (\d+)$", output, re.MULTILINE))
    assert counts == {"tests": str(tests), "pass": str(tests), "fail": "0"}, output


@pytest.fixture(scope="module")
def tokenizers() -> dict:
    """CodeGen with pad = EOS and with a distinct <|pad|>; bert-base-cased for MLM."""
    return load_tokenizers()


def _batch(config: dict, expected: dict, name: str | None = None) -> dict:
    case = {"kind": "batch", "config": config, "expected": expected}
    return case if name is None else {**case, "name": name}


def _error(config: dict, message_includes: str, name: str) -> dict:
    return {
        "kind": "error",
        "name": name,
        "config": config,
        "expected": {"message_includes": message_includes},
    }


class TestComputeClm:
    def test_matches_the_collator_on_random_batches(self, tokenizers, tmp_path) -> None:
        """input_ids, attention_mask and labels equal
        DataCollatorForLanguageModeling(mlm=False)'s."""
        pairs = padded_configs(random.Random(16), "clm", tokenizers, CONFIGS)
        cases, hidden_eos = [], 0
        for config, tokenizer in pairs:
            expected = library_padded(config, tokenizer, mlm=False)
            assert sorted(expected) == ["attention_mask", "input_ids", "labels"]
            cases.append(_batch(config, expected))
            # compute gives these exactly (checked in Node): count its hidden EOS here.
            eos = config["tokenizer"]["eos_token_id"]
            hidden_eos += sum(
                i == eos and a == 1 and lab == -100
                for ids, am, labels in zip(
                    expected["input_ids"],
                    expected["attention_mask"],
                    expected["labels"],
                    strict=True,
                )
                for i, a, lab in zip(ids, am, labels, strict=True)
            )
        sides = {config["padding_side"] for config, _ in pairs}
        pads = {config["tokenizer"]["pad_token_id"] for config, _ in pairs}
        multiples = {config["pad_to_multiple_of"] for config, _ in pairs}
        assert sides == {"left", "right"} and pads == {50256, 50295} and None in multiples
        assert len(multiples) > 3 and hidden_eos > 0  # the pad = EOS pitfall was exercised
        assert empties(config for config, _ in pairs) > 20  # and emptied examples
        check_in_node([suite("clm random batches (random.Random(16))", cases)], tmp_path)

    def test_mask_is_causal_and_hides_padded_keys(self, tokenizers, tmp_path) -> None:
        """mask[row][q][k] is true exactly when k <= q and key k is not padding; position ids count
        real tokens and are 0 on padding."""
        cases = []
        for config, tokenizer in padded_configs(random.Random(61), "clm", tokenizers, 40):
            attention_mask = library_padded(config, tokenizer, mlm=False)["attention_mask"]
            am = torch.tensor(attention_mask, dtype=torch.bool)
            length = am.shape[1]
            causal = torch.ones(length, length, dtype=torch.bool).tril()
            mask = [mask_strings(causal & am[row][None, :]) for row in range(am.shape[0])]
            # As transformers' generate() computes them
            # (GenerationMixin._prepare_position_ids_for_generation).
            positions = (am.long().cumsum(-1) - 1).masked_fill(~am, 0)
            expected = {
                "attention_mask": attention_mask,
                "mask": mask,
                "position_ids": positions.tolist(),
            }
            cases.append(_batch(config, expected))
        check_in_node([suite("clm masks and position ids (random.Random(61))", cases)], tmp_path)


class TestComputeFlattening:
    def test_matches_the_collator_on_random_batches(self, tokenizers, tmp_path) -> None:
        """input_ids, labels and position_ids equal DataCollatorWithFlattening()'s; no
        attention_mask."""
        rng = random.Random(1629)
        configs = []
        for i in range(CONFIGS):
            tokenizer = tokenizers["eos" if i % 2 == 0 else "pad"]
            examples = random_batch(rng, 50257, [tokenizer.eos_token_id])
            if not any(examples):  # the library refuses it: see the test below
                examples.append([tokenizer.eos_token_id])
            configs.append(
                {
                    "collator": "flattening",
                    "tokenizer": view(tokenizer),
                    "examples": examples,
                    "padding_side": rng.choice(["right", "left"]),
                    "pad_to_multiple_of": rng.choice(MULTIPLES),
                }
            )
        assert empties(configs) > 20
        collator = DataCollatorWithFlattening()
        cases = []
        for config in configs:
            batch = collator([{"input_ids": ids} for ids in config["examples"]])
            assert sorted(batch) == ["input_ids", "labels", "position_ids"]
            expected = {key: value.tolist() for key, value in batch.items()}
            expected["attention_mask"] = None
            # Same example and key <= query: the block-diagonal causal mask of the position ids.
            expected["mask"] = [mask_strings(packed_causal_mask(batch["position_ids"])[0, 0])]
            cases.append(_batch(config, expected))
        check_in_node([suite("flattening random batches (random.Random(1629))", cases)], tmp_path)

    def test_empty_examples_are_dropped_as_the_collator_does(self, tmp_path) -> None:
        """Empty examples are left out; a batch of empty examples is refused, as by the library."""
        examples = [[5, 6], [], [7]]
        expected = DataCollatorWithFlattening()([{"input_ids": ids} for ids in examples])
        with pytest.raises(ValueError):
            DataCollatorWithFlattening()([{"input_ids": []}])
        cases = [
            _batch(
                {"collator": "flattening", "examples": examples},
                {key: expected[key].tolist() for key in ("input_ids", "labels")},
                "an empty example among others is left out",
            ),
            _error(
                {"collator": "flattening", "examples": [[]]},
                "empty",
                "a batch of empty examples is refused",
            ),
        ]
        check_in_node([suite("flattening empty examples", cases)], tmp_path)


class TestComputeEmptyBatches:
    @pytest.mark.parametrize("collator", ["clm", "mlm"])
    @pytest.mark.parametrize("multiple", [None, 4])
    def test_every_example_empty_gives_rows_of_length_0(
        self, tokenizers, tmp_path, collator, multiple
    ) -> None:
        """A batch whose examples are all empty is what DataCollatorForLanguageModeling returns:
        as many rows as examples, of length 0 (``pad_to_multiple_of`` adds nothing to 0)."""
        tokenizer = tokenizers["mlm" if collator == "mlm" else "eos"]
        config = {
            "collator": collator,
            "tokenizer": view(tokenizer),
            "examples": [[], [], []],
            "padding_side": "right",
            "pad_to_multiple_of": multiple,
        }
        expected = library_padded(config, tokenizer, mlm=collator == "mlm")
        assert expected["input_ids"] == [[], [], []]
        case = _batch(config, {**expected, "mask": [[], [], []]}, "three empty examples")
        check_in_node([suite(f"{collator}, pad_to_multiple_of={multiple}", [case])], tmp_path)


@pytest.fixture(scope="module")
def mlm_pairs(tokenizers):
    """CONFIGS random MLM configurations, with their tokenizer."""
    return padded_configs(random.Random(1810), "mlm", tokenizers, CONFIGS)


class TestComputeMlm:
    def test_padding_and_attention_mask_match_the_collator(self, mlm_pairs, tmp_path) -> None:
        """attention_mask equals the collator's; the unmasked ids (labels put back) equal its padded
        ids; empty examples included."""
        assert empties(config for config, _ in mlm_pairs) > 20
        cases = []
        for config, tokenizer in mlm_pairs:
            expected = library_padded(config, tokenizer, mlm=True)
            theirs = [
                [lab if lab != -100 else i for i, lab in zip(ids, labels, strict=True)]
                for ids, labels in zip(expected["input_ids"], expected["labels"], strict=True)
            ]
            cases.append(
                _batch(
                    config,
                    {"attention_mask": expected["attention_mask"], "unmasked_input_ids": theirs},
                )
            )
        check_in_node([suite("mlm padding (random.Random(1810))", cases)], tmp_path)

    def test_labels_and_chosen_inputs_follow_the_rule(self, mlm_pairs, tmp_path) -> None:
        """Specials and padding are never chosen; labels are -100 or the original id; a chosen
        input is [MASK], an id below vocab_size, or unchanged; an unchosen input is unchanged; the
        mask hides padded keys."""
        cases = []
        for config, tokenizer in mlm_pairs:
            padded = library_padded(config, tokenizer, mlm=False)
            keys = [torch.tensor(am, dtype=torch.bool) for am in padded["attention_mask"]]
            mask = [mask_strings(k[None, :].expand(len(k), -1)) for k in keys]
            cases.append(_batch(config, {"masked_from": padded["input_ids"], "mask": mask}))
        check_in_node(
            [suite("mlm 80/10/10 rule (random.Random(1810))", cases, min_chosen=101)], tmp_path
        )

    @pytest.mark.parametrize(("p", "mask_p", "random_p"), [(0.15, 0.8, 0.1), (0.4, 0.5, 0.3)])
    def test_rates_match_the_probabilities_over_many_seeds(
        self, tokenizers, tmp_path, p, mask_p, random_p
    ) -> None:
        """Over 400 seeds the chosen share and the [MASK] / random / unchanged split are within 5
        sigma."""
        bert = tokenizers["mlm"]
        rng = random.Random(35251)
        words = [[rng.randrange(1000, 28000) for _ in range(30)] for _ in range(8)]
        examples = [[bert.cls_token_id, *row, bert.sep_token_id] for row in words]
        probabilities = {
            "mlm_probability": p,
            "mask_replace_prob": mask_p,
            "random_replace_prob": random_p,
        }
        base = {"collator": "mlm", "examples": examples, "tokenizer": view(bert), **probabilities}
        case = {
            "kind": "rates",
            "name": f"rates over 400 seeds, {probabilities}",
            "config": base,
            "seeds": 400,
            "expected": {"eligible": 400 * 8 * 30, **probabilities},
        }
        check_in_node([suite("mlm rates", [case])], tmp_path)

    def test_same_seed_same_batch_other_seed_other_batch(self, tokenizers, tmp_path) -> None:
        """A config and seed give the same batch at every call; another seed gives another one."""
        bert = tokenizers["mlm"]
        examples = [bert("Hello, I'm a single sentence!")["input_ids"] * 3]
        config = {"collator": "mlm", "examples": examples, "tokenizer": view(bert), "seed": 7}
        cases = [
            {"kind": "same", "name": "seed 7, twice", "configs": [config, config]},
            {
                "kind": "differ",
                "name": "seed 7, then seed 8",
                "configs": [config, {**config, "seed": 8}],
                "fields": ["input_ids", "labels"],
            },
        ]
        check_in_node([suite("mlm seeds", cases)], tmp_path)

    def test_arguments_are_checked(self, tokenizers, tmp_path) -> None:
        """Bad probabilities, a missing mask id or an unknown collator are refused, naming the
        argument."""
        config_view = view(tokenizers["mlm"])
        changes = [
            ({"mlm_probability": 1.5}, "mlm_probability"),
            ({"mask_replace_prob": 0.8, "random_replace_prob": 0.3}, "mask_replace_prob"),
            ({"tokenizer": {**config_view, "mask_token_id": None}}, "mask_token_id"),
            ({"collator": "seq2seq"}, "collator"),
            ({"padding_side": "top"}, "padding_side"),
            ({"pad_to_multiple_of": 0}, "pad_to_multiple_of"),
        ]
        base = {"collator": "mlm", "examples": [[101, 5, 102]], "tokenizer": config_view}
        cases = [
            _error({**base, **change}, name, f"{json.dumps(change)[:60]} is refused")
            for change, name in changes
        ]
        check_in_node([suite("arguments", cases)], tmp_path)


class TestSeed:
    def test_seed_is_taken_as_torch_takes_it(self, tokenizers, tmp_path) -> None:
        """The seed goes where DataCollatorForLanguageModeling sends it,
        torch.Generator.manual_seed: an integer from -2**63 to 2**64 - 1, a negative one counted
        modulo 2**64 (the library and the explorer give seed -1 and seed 2**64 - 1 the same
        draw); others are refused by both."""
        bert = tokenizers["mlm"]
        base = {
            "collator": "mlm",
            "examples": [bert("Hello, I'm a single sentence!")["input_ids"] * 4],
            "tokenizer": view(bert),
            "mlm_probability": 0.5,
        }
        same = [(-1, 2**64 - 1), (-(2**63), 2**63), (-12345, 2**64 - 12345)]
        cases = []
        for negative, positive in same:
            library = [
                DataCollatorForLanguageModeling(bert, seed=s, mlm_probability=0.5)(
                    [{"input_ids": base["examples"][0]}]
                )["labels"].tolist()
                for s in (negative, positive)
            ]
            assert library[0] == library[1]
            cases.append(
                {
                    "kind": "same",
                    "name": f"seed {negative} draws as seed {positive}",
                    "configs": [{**base, "seed": big(negative)}, {**base, "seed": big(positive)}],
                    "fields": ["labels"],
                }
            )
        cases.append(
            {
                "kind": "differ",
                "name": "seed -5 is not seed 5",
                "configs": [{**base, "seed": -5}, {**base, "seed": 5}],
                "fields": ["labels"],
            }
        )
        for bad in ("-9223372036854775809", "18446744073709551616"):
            with pytest.raises((ValueError, RuntimeError)):
                DataCollatorForLanguageModeling(bert, seed=int(bad))([{"input_ids": [101, 102]}])
        with pytest.raises(RuntimeError):
            DataCollatorForLanguageModeling(bert, seed=1.5)([{"input_ids": [101, 102]}])
        for bad, what in (
            (big(-(2**63) - 1), "BigInt -2**63 - 1"),
            (big(2**64), "BigInt 2**64"),
            (1.5, "1.5"),
            (2**60, "2**60, a Number beyond the safe integers"),
        ):
            cases.append(_error({**base, "seed": bad}, "config.seed", f"seed {what} is refused"))
        # seedValue: the seed as manual_seed counts it, in [0, 2**64).
        for seed in (0, 5, -1, -12345, -(2**63), 2**63, 2**64 - 1):
            for written, kind in ((big(seed), "BigInt"), (seed, "Number")):
                if kind == "Number" and abs(seed) > 2**53 - 1:
                    continue
                cases.append(
                    {
                        "kind": "seedValue",
                        "name": f"seedValue({kind} {seed})",
                        "seed": written,
                        "expected": big(seed % 2**64),
                    }
                )
        check_in_node([suite("seeds", cases)], tmp_path)


class TestDecode:
    @pytest.mark.parametrize("family", ["mlm", "eos"])
    def test_decode_is_the_tokenizers(self, tokenizers, tmp_path, family) -> None:
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
        expected = [tokenizer.decode(ids) for ids in batches]
        assert any("\ufffd" in text for text in expected) or family == "mlm"
        cases = [
            {
                "kind": "decode",
                "name": f"{decoder} #{k}: ids {ids}",
                "tokens": tokenizer.convert_ids_to_tokens(ids),
                "decoder": decoder,
                "expected": text,
            }
            for k, (ids, text) in enumerate(zip(batches, expected, strict=True))
        ]
        check_in_node([suite(f"decode, {tokenizer.name_or_path}", cases)], tmp_path)


class TestNodePath:
    """The Node test fails when compute is wrong: a fixture with a wrong value makes ``node
    --test`` exit non-zero, naming the case and what differs."""

    CONFIG = {
        "collator": "clm",
        "examples": [[5, 6, 7], [8]],
        "tokenizer": {"pad_token_id": 0, "eos_token_id": 0},
        "padding_side": "right",
    }
    RIGHT = {"input_ids": [[5, 6, 7], [8, 0, 0]], "labels": [[5, 6, 7], [8, -100, -100]]}

    def test_right_fixture_passes(self, tmp_path) -> None:
        """The fixture the wrong ones are made from passes."""
        check_in_node([suite("by hand", [_batch(self.CONFIG, self.RIGHT, "right")])], tmp_path)

    @pytest.mark.parametrize(
        ("case", "named"),
        [
            (
                _batch(CONFIG, {**RIGHT, "labels": [[5, 6, 7], [8, 0, -100]]}),
                "labels[1][1] is -100",
            ),
            (
                _batch(CONFIG, {"mask": [["100", "110", "111"], ["100", "110", "111"]]}),
                "mask[1][1]",
            ),
            (_batch(CONFIG, {"position_ids": [[0, 1, 2]]}), "position_ids.length is 2"),
            (_error(CONFIG, "config.seed", "wrong"), "compute returned a batch"),
            (
                {
                    "kind": "decode",
                    "tokens": ["a", "##b"],
                    "decoder": "wordpiece",
                    "expected": "a b",
                },
                'is "ab", expected "a b"',
            ),
            ({"kind": "seedValue", "seed": -1, "expected": big(2**64)}, "is 18446744073709551615n"),
        ],
        ids=["label", "mask", "length", "error", "decode", "seedValue"],
    )
    def test_a_wrong_fixture_fails_naming_the_case(self, tmp_path, case, named) -> None:
        """A wrong expected value makes ``node --test`` exit 1; its output names the case and the
        difference; the right cases of the same run still pass."""
        wrong = {**case, "name": "the wrong case"}
        right = _batch(self.CONFIG, self.RIGHT, "the right case")
        result = run_node([suite("by hand", [right, wrong])], tmp_path)
        output = result.stdout + result.stderr
        assert result.returncode == 1, output
        assert re.search(r"^\S* ?pass 2$", output, re.MULTILINE), output  # exports, right case
        assert re.search(r"^\S* ?fail 1$", output, re.MULTILINE), output
        assert "the wrong case: " in output and named in output, output

    def test_no_fixtures_fails(self, tmp_path) -> None:
        """Without the fixtures variable the Node test fails, saying what it needs."""
        env = {k: v for k, v in os.environ.items() if k != FIXTURES}
        result = run_node([], tmp_path, env=env)
        assert result.returncode != 0
        assert f"{FIXTURES} is not set" in result.stdout + result.stderr

    def test_the_computation_draws_with_integers_only(self) -> None:
        """The MLM draw never calls Math.random: the same seed gives the same batch in every
        engine (tests/test_explorer_browser.py checks Node against chromium)."""
        assert "Math.random" not in COMPUTE.read_text("utf-8")
