"""What the pages claim about transformers, measured on the installed release.

Each test checks one claim, marked ``@pytest.mark.claim(id, statement, page=..., cite=...)``
(``page``: the docname of the page that makes it; ``cite``: the pull request, if cited): it
measures whether the claim holds on the installed transformers and records the outcome
("holds" or "differs") with its evidence in the test's ``user_properties``. ``nox -s
compat`` runs this file with ``--measure-claims`` on every release of the supported range
and collects those properties (JUnit XML) into docs/reference/compatibility.json, where each
claim's boundaries are computed from the outcomes: no release number is typed here.

Without ``--measure-claims`` a test fails when the outcome is not the one that file
predicts for the installed release: the outcome recorded for that release, or, for a
release newer than every run, the outcome of the newest run. A change in a new release
is a failing test, not a wrong sentence on a page.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import warnings
from functools import cache

import pytest
import torch
from conftest import DOCS
from packaging.version import Version
from transformers import DataCollatorForLanguageModeling, DataCollatorWithFlattening

from lmnotes.compat import TRANSFORMERS_VERSION, as_boolean_mask
from lmnotes.inspection import capture_attention_mask, transformers_causal_mask
from lmnotes.masks import causal_padding_mask, cross_attention_mask, to_additive
from lmnotes.mlm import mask_tokens, measure_collator, random_token_batch
from lmnotes.probes import padding_probe
from lmnotes.tiny import bert_tokenizer, tiny_bart, tiny_bert, tiny_llama

RESULTS = DOCS / "reference" / "compatibility.json"
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(95)]
PIECES = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "cat",
    "sat",
    "un",
    "##believ",
    "##ably",
    "fast",
    "##er",
]
PADDED = torch.tensor([[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]])


@cache
def _recorded() -> list[tuple[Version, dict]]:
    """``(release, outcomes by claim id)`` of every run in compatibility.json, in order."""
    data = json.loads(RESULTS.read_text("utf-8"))
    runs = [(Version(run["transformers"]), run["claims"]) for run in data["runs"]]
    return sorted(runs, key=lambda item: item[0])


def predicted(claim_id: str, release: Version) -> str | None:
    """The outcome compatibility.json predicts for a claim on ``release``, if it does.

    The outcome recorded for that release; for a release newer than every run, the
    newest run's; between two runs, their common outcome if they agree. None where the
    file says nothing (a new claim, an older release, a boundary not yet bisected).
    """
    runs = [(v, c[claim_id]["outcome"]) for v, c in _recorded() if claim_id in c]
    runs = [(v, o) for v, o in runs if o in ("holds", "differs")]
    below = [o for v, o in runs if v <= release]
    above = [o for v, o in runs if v >= release]
    if not below:
        return None
    if not above or above[0] == below[-1]:
        return below[-1]
    return None


@dataclasses.dataclass
class Claim:
    """One claim, and the outcome measured on this release."""

    node: pytest.Item
    id: str
    statement: str
    page: str | None = None
    #: Key in docs/references.bib of the pull request that changed the behaviour, if cited.
    cite: str | None = None

    def __post_init__(self) -> None:
        recorded = {
            "claim": self.id,
            "statement": self.statement,
            "page": self.page,
            "cite": self.cite,
        }
        for key, value in recorded.items():
            self.node.user_properties.append((key, value or ""))

    def check(self, holds: bool, evidence: str) -> None:
        """Record the outcome; fail if it contradicts compatibility.json's prediction."""
        outcome = "holds" if holds else "differs"
        self.node.user_properties.append(("outcome", outcome))
        self.node.user_properties.append(("evidence", evidence))
        if self.node.config.getoption("--measure-claims"):
            return
        expected = predicted(self.id, TRANSFORMERS_VERSION)
        assert expected is not None, (
            f"claim {self.id!r}: docs/reference/compatibility.json has no outcome for "
            f"transformers {TRANSFORMERS_VERSION}; run `nox -s compat`"
        )
        assert outcome == expected, (
            f"claim {self.id!r} {expected} on transformers {TRANSFORMERS_VERSION} in "
            f"docs/reference/compatibility.json, but it {outcome} here: {evidence}"
        )


@pytest.fixture
def claim(request: pytest.FixtureRequest) -> Claim:
    """The claim of the test, from its ``claim`` marker."""
    marker = request.node.get_closest_marker("claim")
    if marker is None:
        raise pytest.UsageError(
            f"{request.node.nodeid} uses the claim fixture without a claim marker"
        )
    return Claim(request.node, *marker.args, **marker.kwargs)


@pytest.fixture(scope="module")
def words():
    """A WordPiece tokenizer of 100 tokens (5 special)."""
    return bert_tokenizer(WORDS)


@pytest.fixture(scope="module")
def big_batch(words):
    """512 right-padded rows of random ordinary tokens framed by [CLS] ... [SEP]."""
    return random_token_batch(
        words, batch_size=512, max_length=48, generator=torch.Generator().manual_seed(1)
    )


def _rows(batch: torch.Tensor, pad_id: int) -> list[list[int]]:
    return [[i for i in row if i != pad_id] for row in batch.tolist()]


# --------------------------------------------------------------------------- MLM collator


class TestMaskedLanguageModelling:
    @pytest.mark.claim(
        "mlm-labels",
        "With `mlm=True`, `labels` keeps the original id at the chosen positions and is `-100` "
        "everywhere else; unchosen inputs are left as they are.",
        page="notes/mlm",
    )
    def test_labels(self, claim, words, big_batch):
        """Chosen positions keep their id as label; the rest is -100 and unchanged in the input."""
        original = big_batch[:64]
        batch = DataCollatorForLanguageModeling(words, mlm_probability=0.5, seed=1)(
            original.tolist()
        )
        chosen = batch["labels"] != -100
        kept = torch.equal(batch["labels"][chosen], original[chosen])
        untouched = torch.equal(batch["input_ids"][~chosen], original[~chosen])
        only_minus_100 = bool((batch["labels"][~chosen] == -100).all())
        claim.check(
            kept and untouched and only_minus_100 and bool(chosen.any()),
            f"{int(chosen.sum())} chosen of {original.numel()} positions",
        )

    @pytest.mark.claim(
        "mlm-special-tokens",
        "`[CLS]`, `[SEP]` and `[PAD]` are never chosen, even with `mlm_probability=1`.",
        page="notes/mlm",
    )
    def test_special_tokens(self, claim, words, big_batch):
        """With probability 1 every ordinary token is chosen and no special one."""
        original = big_batch[:64]
        batch = DataCollatorForLanguageModeling(words, mlm_probability=1.0, seed=1)(
            original.tolist()
        )
        special = torch.isin(original, torch.tensor(words.all_special_ids))
        chosen = batch["labels"] != -100
        claim.check(
            torch.equal(chosen, ~special),
            f"special chosen: {int((chosen & special).sum())}, "
            f"ordinary unchosen: {int((~chosen & ~special).sum())}",
        )

    @pytest.mark.claim(
        "mlm-80-10-10",
        "`mask_replace_prob` (0.8) and `random_replace_prob` (0.1) split the chosen tokens into "
        "`[MASK]`, a random id and unchanged: 80/10/10 by default.",
        page="notes/mlm",
        cite="hf_transformers_pr35251",
    )
    def test_replace_probabilities(self, claim, words, big_batch):
        """Defaults 0.8/0.1, measured split within 0.02 of them, and a custom split honoured."""
        default = DataCollatorForLanguageModeling(words, seed=1)
        has = hasattr(default, "mask_replace_prob") and hasattr(default, "random_replace_prob")
        if not has:
            claim.check(False, "the collator has no mask_replace_prob/random_replace_prob")
            return
        stats = measure_collator(default, big_batch)
        custom = measure_collator(
            DataCollatorForLanguageModeling(
                words, mask_replace_prob=0.5, random_replace_prob=0.3, seed=1
            ),
            big_batch,
        )
        close = (
            abs(stats.mask_fraction - 0.8) < 0.02
            and abs(stats.random_fraction - 0.1) < 0.02
            and abs(custom.mask_fraction - 0.5) < 0.02
            and abs(custom.random_fraction - 0.3) < 0.02
        )
        claim.check(
            (default.mask_replace_prob, default.random_replace_prob) == (0.8, 0.1) and close,
            f"default split {stats.mask_fraction:.3f}/{stats.random_fraction:.3f}/"
            f"{stats.unchanged_fraction:.3f}; 0.5/0.3 gives {custom.mask_fraction:.3f}/"
            f"{custom.random_fraction:.3f}",
        )

    @pytest.mark.claim(
        "mlm-seed",
        "A collator built with `seed=s` draws from its own `torch.Generator`: two collators with "
        "the same seed give the same batches, whatever the global random state.",
        page="notes/mlm",
        cite="hf_transformers_pr36497",
    )
    def test_seed(self, claim, words, big_batch):
        """Same seed, global RNG reseeded differently before each call: same batches."""
        rows = big_batch[:32].tolist()
        first, second = (DataCollatorForLanguageModeling(words, seed=7) for _ in range(2))
        same = True
        for call in range(3):
            torch.manual_seed(100 + call)
            a = first(rows)
            torch.manual_seed(200 + call)
            b = second(rows)
            same &= torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(
                a["labels"], b["labels"]
            )
        claim.check(same, "3 calls compared")

    @pytest.mark.claim(
        "mlm-seed-zero",
        "`seed=0` seeds the collator like any other seed (before {since}`mlm-seed-zero` it was "
        "ignored and the global random state was used).",
        page="notes/mlm",
    )
    def test_seed_zero(self, claim, words, big_batch):
        """Two collators with seed=0, global RNG reseeded differently: same batches?"""
        rows = big_batch[:32].tolist()
        torch.manual_seed(1)
        a = DataCollatorForLanguageModeling(words, seed=0)(rows)
        torch.manual_seed(2)
        b = DataCollatorForLanguageModeling(words, seed=0)(rows)
        same = torch.equal(a["labels"], b["labels"])
        claim.check(same, "same batches" if same else "batches follow the global random state")

    @pytest.mark.claim(
        "mlm-mask-tokens-parity",
        "`lmnotes.mlm.mask_tokens` with `torch.Generator().manual_seed(s)` is bit-identical to "
        "the collator built with `seed=s` (`s` other than 0), call after call.",
        page="notes/mlm",
        cite="hf_transformers_pr36497",
    )
    @pytest.mark.parametrize("probabilities", [(0.15, 0.8, 0.1), (0.5, 0.6, 0.3), (0.3, 1.0, 0.0)])
    def test_mask_tokens_parity(self, claim, words, big_batch, probabilities):
        """Two successive calls, same draws, for several settings."""
        p, mask, rand = probabilities
        rows = big_batch[:64]
        collator = DataCollatorForLanguageModeling(
            words, mlm_probability=p, mask_replace_prob=mask, random_replace_prob=rand, seed=11
        )
        generator = torch.Generator().manual_seed(11)
        same = True
        for _ in range(2):
            batch = collator(rows.tolist())
            inputs, labels = mask_tokens(
                rows,
                words,
                mlm_probability=p,
                mask_replace_prob=mask,
                random_replace_prob=rand,
                generator=generator,
            )
            same &= torch.equal(inputs, batch["input_ids"]) and torch.equal(labels, batch["labels"])
        claim.check(same, f"settings {probabilities}, 2 calls")

    @pytest.mark.claim(
        "mlm-dynamic-masking",
        "Masking is redrawn at every call: the same examples are masked differently each time "
        "(dynamic masking).",
        page="notes/mlm",
    )
    def test_dynamic_masking(self, claim, words, big_batch):
        """Two calls of one collator on the same rows choose different positions."""
        collator = DataCollatorForLanguageModeling(words, seed=1)
        rows = big_batch[:32].tolist()
        first, second = collator(rows)["labels"], collator(rows)["labels"]
        changed = float(((first != -100) != (second != -100)).float().mean())
        claim.check(changed > 0, f"{changed:.3f} of positions changed state")

    @pytest.mark.claim(
        "mlm-whole-word",
        "`whole_word_mask=True` (with a fast tokenizer's offsets) chooses all the pieces of a word "
        "together, and every chosen piece becomes `[MASK]`.",
        page="notes/whole-word",
        cite="hf_transformers_pr39485",
    )
    def test_whole_word_mask(self, claim):
        """Over many calls, a word's pieces are chosen or left together, always as [MASK]."""
        tokenizer = bert_tokenizer(PIECES)
        # Same length: the offsets cannot be padded, so the examples must not need padding.
        texts = ["the cat sat unbelievably faster", "unbelievably the faster cat sat"]
        examples = [tokenizer(t, return_offsets_mapping=True) for t in texts]
        collator = DataCollatorForLanguageModeling(
            tokenizer,
            whole_word_mask=True,
            mlm_probability=0.4,
            mask_replace_prob=1.0,
            random_replace_prob=0.0,
            seed=1,
        )
        split, chosen_words, not_mask = 0, 0, 0
        for _ in range(50):
            batch = collator([dict(e) for e in examples])
            for row, example in enumerate(examples):
                word_ids = example.word_ids()
                chosen = (batch["labels"][row] != -100).tolist()
                not_mask += int(
                    (
                        batch["input_ids"][row][batch["labels"][row] != -100]
                        != tokenizer.mask_token_id
                    ).sum()
                )
                for word in {w for w in word_ids if w is not None}:
                    states = {c for c, w in zip(chosen, word_ids, strict=True) if w == word}
                    split += len(states) > 1
                    chosen_words += True in states
        claim.check(
            split == 0 and chosen_words > 0 and not_mask == 0,
            f"words split: {split}, words chosen: {chosen_words}, chosen not [MASK]: {not_mask}",
        )

    @pytest.mark.claim(
        "mlm-whole-word-offsets",
        "`whole_word_mask=True` reads the words from the examples' `offset_mapping`: examples "
        "tokenized without `return_offsets_mapping=True` make the collator raise an error.",
        page="notes/whole-word",
    )
    def test_whole_word_offsets(self, claim):
        """Collate examples without offsets, then with them."""
        tokenizer = bert_tokenizer(PIECES)
        collator = DataCollatorForLanguageModeling(
            tokenizer, whole_word_mask=True, mask_replace_prob=1, random_replace_prob=0, seed=1
        )
        text = "the cat sat unbelievably faster"
        try:
            collator([dict(tokenizer(text))])
            without = "collated"
        except Exception as err:  # noqa: BLE001 - the error is the evidence
            without = f"{type(err).__name__}: {err}"
        batch = collator([dict(tokenizer(text, return_offsets_mapping=True))])
        claim.check(
            without != "collated" and "labels" in batch,
            f"without offsets: {without}; with offsets: labels {batch['labels'].tolist()}",
        )

    @pytest.mark.claim(
        "mlm-whole-word-defaults",
        "`whole_word_mask=True` accepts the default probabilities: the collator warns and sets "
        "`mask_replace_prob` to 1 and `random_replace_prob` to 0 (before, the warning call "
        "itself raised a `TypeError`: it passed its second sentence as the warning category).",
        page="notes/whole-word",
    )
    def test_whole_word_mask_defaults(self, claim):
        """Build the collator with the default 0.8/0.1 split."""
        tokenizer = bert_tokenizer(PIECES)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                collator = DataCollatorForLanguageModeling(tokenizer, whole_word_mask=True)
        except TypeError as err:
            claim.check(False, f"TypeError: {err}")
            return
        warned = any("mask_replace_prob" in str(w.message) for w in caught)
        probabilities = (collator.mask_replace_prob, collator.random_replace_prob)
        claim.check(
            warned and probabilities == (1, 0),
            f"warned: {warned}, mask/random replace prob {probabilities}",
        )

    @pytest.mark.claim(
        "mlm-whole-word-replace-probabilities",
        "With `whole_word_mask=True`, `mask_replace_prob=1` alone raises a `ValueError` (the "
        "default `random_replace_prob=0.1` brings the sum to 1.1); `mask_replace_prob=1, "
        "random_replace_prob=0` builds the collator, without a warning.",
        page="notes/whole-word",
    )
    def test_whole_word_replace_probabilities(self, claim):
        """Build the collator with mask_replace_prob=1 alone, then with both probabilities."""
        tokenizer = bert_tokenizer(PIECES)
        try:
            DataCollatorForLanguageModeling(tokenizer, whole_word_mask=True, mask_replace_prob=1)
            alone = "accepted"
        except ValueError as err:
            alone = f"ValueError: {err}"
        except TypeError as err:  # a release without whole_word_mask
            claim.check(False, f"TypeError: {err}")
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            collator = DataCollatorForLanguageModeling(
                tokenizer, whole_word_mask=True, mask_replace_prob=1, random_replace_prob=0
            )
        messages = [str(w.message) for w in caught if "replace_prob" in str(w.message)]
        probabilities = (collator.mask_replace_prob, collator.random_replace_prob)
        claim.check(
            alone.startswith("ValueError")
            and "sum" in alone
            and not messages
            and probabilities == (1, 0),
            f"mask_replace_prob=1 alone: {alone}; both: warnings {messages}, "
            f"mask/random replace prob {probabilities}",
        )

    @pytest.mark.claim(
        "mlm-whole-word-rates",
        "With `whole_word_mask=True` a word is a run of text without a space (punctuation glued "
        "to a word goes with it); about `mlm_probability` of the words are chosen, and so about "
        "`mlm_probability` of the tokens.",
        page="notes/whole-word",
    )
    def test_whole_word_rates(self, claim):
        """lmnotes.whole_word.compare_whole_word_masking on a toy WordPiece vocabulary."""
        from lmnotes.whole_word import compare_whole_word_masking

        tokenizer = bert_tokenizer(PIECES + [","])
        try:
            result = compare_whole_word_masking(
                tokenizer, "the unbelievably faster, cat sat", draws=3000
            )
        except (TypeError, ValueError) as err:
            claim.check(False, f"{type(err).__name__}: {err}")
            return
        row = result.row("whole-word")
        holds = (
            result.words == 5
            and row["words split"] == 0.0
            and abs(row["words touched"] - 0.15) < 0.02
            and abs(row["chosen tokens"] - 0.15) < 0.02
        )
        claim.check(
            holds,
            f"{result.words} words; words touched {row['words touched']:.3f}, "
            f"tokens chosen {row['chosen tokens']:.3f}, split {row['words split']}",
        )

    @pytest.mark.claim(
        "mlm-whole-word-collator-removed",
        "transformers no longer exports `DataCollatorForWholeWordMask`, which older releases "
        "deprecate in favour of `whole_word_mask=True`.",
        page="notes/whole-word",
    )
    def test_whole_word_collator_removed(self, claim):
        """Whether transformers still exports the class."""
        import transformers

        present = hasattr(transformers, "DataCollatorForWholeWordMask")
        claim.check(not present, "present" if present else "absent")

    @pytest.mark.claim(
        "mlm-whole-word-legacy-alias",
        "Where the name `DataCollatorForWholeWordMask` remains, it is "
        "`DataCollatorForLanguageModeling` with `whole_word_mask=True` set: no algorithm of its "
        "own (before {since}`mlm-whole-word-legacy-alias` it still has the old one).",
        page="notes/whole-word",
    )
    def test_whole_word_legacy_alias(self, claim):
        """The class's own methods: the old _whole_word_mask(input_tokens) and torch_call?"""
        import transformers

        legacy = getattr(transformers, "DataCollatorForWholeWordMask", None)
        if legacy is None:
            pytest.skip("this release has no DataCollatorForWholeWordMask")
        own = sorted(
            name
            for name in ("torch_call", "torch_mask_tokens", "_whole_word_mask")
            if name in vars(legacy)
        )
        claim.check(not own, f"methods of its own: {own or 'none'}")

    @pytest.mark.claim(
        "mlm-whole-word-legacy-budget",
        "Where `DataCollatorForWholeWordMask` has its own algorithm (before "
        "{since}`mlm-whole-word-legacy-alias`), it chooses `##` "
        "words in a shuffled order until a budget of `max(1, round(len(tokens) * "
        "mlm_probability))` tokens, `[CLS]` and `[SEP]` counted, skipping any word that would "
        "overflow it: `lmnotes.whole_word.legacy_whole_word_mask` makes the same choices.",
        page="notes/whole-word",
    )
    def test_whole_word_legacy_budget(self, claim):
        """Seeded collator, first call, against legacy_whole_word_mask with the same seed."""
        import transformers

        from lmnotes.whole_word import legacy_whole_word_mask

        legacy = getattr(transformers, "DataCollatorForWholeWordMask", None)
        method = getattr(legacy, "_whole_word_mask", None)
        if method is None or "input_tokens" not in inspect.signature(method).parameters:
            pytest.skip("this release has no DataCollatorForWholeWordMask of its own algorithm")
        tokenizer = bert_tokenizer(PIECES)
        texts = [
            "the cat sat unbelievably faster",
            "unbelievably the faster cat sat",
            "the cat sat the cat sat unbelievably faster faster the cat",
        ]
        same, counts, budgets = True, [], []
        for seed in range(1, 21):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                collator = legacy(tokenizer, mlm_probability=0.3, seed=seed)
            rows = [tokenizer(t)["input_ids"] for t in texts]
            batch = collator([{"input_ids": r} for r in rows])
            generator = torch.Generator().manual_seed(seed)
            for row, ids in enumerate(rows):
                choice = legacy_whole_word_mask(
                    tokenizer.convert_ids_to_tokens(ids), 0.3, generator=generator
                )
                chosen = (batch["labels"][row, : len(ids)] != -100).long().tolist()
                same &= chosen == list(choice.chosen)
                counts.append(choice.count)
                budgets.append(choice.budget)
        claim.check(
            same and all(c <= b for c, b in zip(counts, budgets, strict=True)),
            f"60 sequences, budgets {sorted(set(budgets))}, chosen counts {sorted(set(counts))}",
        )


# --------------------------------------------------------------------------- CLM collator


class TestCausalLanguageModelling:
    @pytest.mark.claim(
        "clm-labels",
        "With `mlm=False`, `labels` is a copy of `input_ids` in which every pad id is `-100`: no "
        "shift.",
        page="notes/clm",
    )
    def test_labels(self, claim, words):
        """Right-padded batch: labels equal input_ids except at pads."""
        collator = DataCollatorForLanguageModeling(words, mlm=False)
        batch = collator([words("w1 w2 w3 w4"), words("w5 w6")])
        expected = batch["input_ids"].masked_fill(batch["input_ids"] == words.pad_token_id, -100)
        claim.check(torch.equal(batch["labels"], expected), f"labels {batch['labels'].tolist()}")

    @pytest.mark.claim(
        "clm-labels-overwritten",
        "Labels passed in the examples are overwritten by the collator (issue #26357).",
        page="notes/clm",
    )
    def test_labels_overwritten(self, claim, words):
        """Examples carrying their own labels: the batch's labels are rebuilt from input_ids."""
        # Same length: the collator pads input_ids but cannot pad the labels it then replaces.
        examples = [dict(words("w1 w2 w3")), dict(words("w4 w5 w6"))]
        for example in examples:
            example["labels"] = [7] * len(example["input_ids"])
        batch = DataCollatorForLanguageModeling(words, mlm=False)(examples)
        rebuilt = batch["input_ids"].masked_fill(batch["input_ids"] == words.pad_token_id, -100)
        claim.check(torch.equal(batch["labels"], rebuilt), f"labels {batch['labels'].tolist()}")

    @pytest.mark.claim(
        "clm-pad-eos",
        "With `pad_token = eos_token`, every real EOS also gets the label `-100` while its "
        "attention-mask bit stays 1.",
        page="notes/clm",
    )
    def test_pad_equals_eos(self, claim):
        """GPT-2's tokenizer, pad = eos, texts ending with EOS: every real EOS is hidden."""
        from lmnotes.assets import load_tokenizer
        from lmnotes.clm import hidden_eos_labels

        tokenizer = load_tokenizer("gpt2", source="packages")
        tokenizer.pad_token = tokenizer.eos_token
        eos = tokenizer.eos_token
        batch = DataCollatorForLanguageModeling(tokenizer, mlm=False)(
            [tokenizer("def hello_world():" + eos), tokenizer("import numpy as np" + eos + " x")]
        )
        count = hidden_eos_labels(batch, tokenizer.eos_token_id)
        claim.check(count.real_eos == 2 and count.hidden == 2, str(count))

    @pytest.mark.claim(
        "clm-loss-shift",
        "A causal LM shifts inside its loss: `outputs.loss` equals "
        "`lmnotes.clm.shifted_loss(logits, labels)` bit for bit.",
        page="notes/clm",
        cite="hf_transformers_pr34191",
    )
    @pytest.mark.parametrize("build", ["gpt2", "llama"])
    def test_loss_shift(self, claim, build):
        """Tiny GPT-2 and Llama, labels with -100: the model's loss is shifted_loss exactly."""
        from lmnotes.clm import shifted_loss
        from lmnotes.tiny import tiny_gpt2

        model = {"gpt2": tiny_gpt2, "llama": tiny_llama}[build]()
        ids = torch.randint(3, 100, (2, 7), generator=torch.Generator().manual_seed(0))
        labels = ids.masked_fill(torch.tensor([[0] * 7, [0] * 5 + [1, 1]]).bool(), -100)
        with torch.no_grad():
            out = model(input_ids=ids, labels=labels)
        ours = shifted_loss(out.logits, labels)
        claim.check(
            torch.equal(out.loss, ours), f"{build}: {out.loss.item():.6f} vs {ours.item():.6f}"
        )


# --------------------------------------------------------------------------- encoder-decoder labels


@pytest.fixture(scope="module")
def seq2seq_batch():
    """DataCollatorForSeq2Seq, given the tiny BART, on two pairs of different lengths."""
    from transformers import DataCollatorForSeq2Seq

    from lmnotes.tiny import tiny_bart_lm, word_tokenizer

    tokenizer = word_tokenizer()
    pairs = [("w5 w17 w42 w8", "w61 w13 w77"), ("w9 w33", "w24 w50 w86 w71 w40")]
    examples = [{**tokenizer(s), "labels": tokenizer(t)["input_ids"]} for s, t in pairs]
    return DataCollatorForSeq2Seq(tokenizer, model=tiny_bart_lm())(examples)


class TestSeq2Seq:
    @pytest.mark.claim(
        "seq2seq-collator",
        "`DataCollatorForSeq2Seq` pads `labels` with `-100` and, given the model, sets "
        "`decoder_input_ids = shift_tokens_right(labels, pad_token_id, decoder_start_token_id)`: "
        "the labels one step to the right, each `-100` read as the pad id.",
        page="notes/seq2seq",
    )
    def test_collator(self, claim, seq2seq_batch):
        """Labels padded with -100; decoder inputs equal lmnotes.seq2seq's shift."""
        from lmnotes.seq2seq import decoder_input_ids_from_labels

        labels = seq2seq_batch["labels"]
        padded_with_minus_100 = labels[0, -2:].tolist() == [-100, -100]
        expected = decoder_input_ids_from_labels(labels, 1, 2)
        shifted = torch.equal(seq2seq_batch.get("decoder_input_ids", torch.empty(0)), expected)
        claim.check(
            padded_with_minus_100 and shifted,
            f"labels {labels.tolist()}, decoder_input_ids "
            f"{seq2seq_batch.get('decoder_input_ids', torch.empty(0)).tolist()}",
        )

    @pytest.mark.claim(
        "seq2seq-loss-unshifted",
        "An encoder-decoder model (BART) scores its logits against the labels as they are: its "
        "loss equals `lmnotes.seq2seq.seq2seq_loss` bit for bit, and the model builds the same "
        "decoder inputs from `labels` alone.",
        page="notes/seq2seq",
    )
    def test_loss_unshifted(self, claim, seq2seq_batch):
        """Tiny BART with and without decoder_input_ids: one loss, the unshifted cross-entropy."""
        from lmnotes.seq2seq import seq2seq_loss
        from lmnotes.tiny import tiny_bart_lm

        model = tiny_bart_lm()
        with torch.no_grad():
            out = model(**seq2seq_batch)
            alone = model(
                input_ids=seq2seq_batch["input_ids"],
                attention_mask=seq2seq_batch["attention_mask"],
                labels=seq2seq_batch["labels"],
            )
        ours = seq2seq_loss(out.logits, seq2seq_batch["labels"])
        claim.check(
            torch.equal(out.loss, ours) and torch.equal(alone.loss, out.loss),
            f"model {out.loss.item():.6f}, labels only {alone.loss.item():.6f}, "
            f"seq2seq_loss {ours.item():.6f}",
        )


# --------------------------------------------------------------------------- instruction tuning


class TestInstructionTuning:
    TEMPLATE = (
        "{% for m in messages %}{% if m['role'] == 'assistant' %}"
        "{% generation %}{{ m['content'] }} {% endgeneration %}"
        "{% else %}{{ m['content'] }} {% endif %}{% endfor %}"
    )
    CHAT = [{"role": "user", "content": "w10 w11"}, {"role": "assistant", "content": "w20 w21"}]

    @pytest.mark.claim(
        "chat-assistant-mask",
        "`apply_chat_template(..., return_dict=True, return_assistant_tokens_mask=True)` marks the "
        "tokens a template wraps in `{% generation %}` (transformers PR #30650); a template "
        "without that block, as SmolLM2's, gets a mask of zeros.",
        page="notes/instruct",
        cite="hf_transformers_pr30650",
    )
    def test_assistant_mask(self, claim):
        """The tiny word tokenizer with and without {% generation %} in its template."""
        from lmnotes.tiny import word_tokenizer

        tokenizer = word_tokenizer()
        masks = []
        for template in (
            self.TEMPLATE,
            self.TEMPLATE.replace("{% generation %}", "").replace("{% endgeneration %}", ""),
        ):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = tokenizer.apply_chat_template(
                    self.CHAT,
                    chat_template=template,
                    tokenize=True,
                    return_dict=True,
                    return_assistant_tokens_mask=True,
                )
            masks.append(list(out["assistant_masks"]))
        claim.check(masks == [[0, 0, 1, 1], [0, 0, 0, 0]], f"with, without: {masks}")

    @pytest.mark.claim(
        "chat-template-dict",
        "`apply_chat_template(messages)` (tokenize=True) returns a dict with `input_ids` and "
        "`attention_mask`; before {since}`chat-template-dict` it returned a list of ids unless "
        "`return_dict=True`.",
        page="notes/instruct",
    )
    def test_returns_dict(self, claim):
        """The type of apply_chat_template's default tokenized output."""
        from lmnotes.tiny import word_tokenizer

        tokenizer = word_tokenizer()
        out = tokenizer.apply_chat_template(
            self.CHAT,
            chat_template=self.TEMPLATE.replace("{% generation %}", "").replace(
                "{% endgeneration %}", ""
            ),
        )
        claim.check(hasattr(out, "keys") and "input_ids" in out, type(out).__name__)


# --------------------------------------------------------------------------- loss normalisation


class TestLossNormalisation:
    EXAMPLES = [[5, 6, 7], [8, 9, 10], [11] * 12, [12] * 12]

    @pytest.mark.claim(
        "loss-num-items",
        "A causal LM called with `num_items_in_batch` returns the sum of its token losses divided "
        "by it: accumulated over micro-batches with the whole batch's count, the gradients are "
        "those of the whole batch (transformers PR #34191).",
        page="notes/loss-normalisation",
    )
    def test_num_items(self, claim):
        """accumulation_gradients on a tiny Llama, micro-batches of 4 and 22 targets."""
        from lmnotes.loss_normalisation import accumulation_gradients
        from lmnotes.packing import padded_batch

        result = accumulation_gradients(tiny_llama(), padded_batch(self.EXAMPLES, 1), steps=2)
        error = result.error("sum / num_items_in_batch (labels[..., 1:])")
        claim.check(error < 1e-5, f"relative gradient error {error:.1e}")

    @pytest.mark.claim(
        "trainer-num-items-shifted",
        "For a causal LM, the Trainer counts `num_items_in_batch` over `labels[..., 1:]`, the "
        "targets the shifted loss scores (PR #46204); before, over every label: one too many "
        "per row.",
        page="notes/loss-normalisation",
        cite="hf_transformers_pr46204",
    )
    def test_trainer_count(self, claim, tmp_path):
        """Trainer._get_num_items_in_batch on a padded batch of a tiny Llama."""
        from transformers import Trainer, TrainingArguments

        from lmnotes.packing import padded_batch

        batch = padded_batch(self.EXAMPLES, 1)
        trainer = Trainer(
            model=tiny_llama(),
            args=TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True),
        )
        count = int(trainer._get_num_items_in_batch([batch], torch.device("cpu")))
        shifted = int((batch["labels"][:, 1:] != -100).sum())
        claim.check(
            count == shifted,
            f"Trainer counts {count}; shifted targets {shifted}, "
            f"labels {int((batch['labels'] != -100).sum())}",
        )

    @pytest.mark.claim(
        "trainer-accumulation-bert",
        "Under gradient accumulation, the `Trainer`'s gradient for `BertForMaskedLM` is the sum "
        "of the micro-batches' mean-loss gradients, not the whole batch's: its forward takes "
        "`**kwargs`, so the Trainer skips its division by the number of steps, but its loss is "
        "a plain mean (where it differs, the Trainer divides and the gradient is the mean of "
        "the micro-batches' means; the evidence says whether the forward takes `**kwargs`).",
        page="notes/loss-normalisation",
    )
    def test_trainer_bert(self, claim):
        """trainer_accumulation on a tiny BERT, micro-batches of 2 and 12 scored tokens."""
        from lmnotes.loss_normalisation import trainer_accumulation
        from lmnotes.tiny import random_word_ids

        ids = random_word_ids(8, seed=0, batch=4)
        labels = torch.full_like(ids, -100)
        labels[0, 3], labels[1, 5] = ids[0, 3], ids[1, 5]
        labels[2:, 1:7] = ids[2:, 1:7]
        batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
        result = trainer_accumulation(tiny_bert(), batch, steps=2)
        summed = result.error("the sum of the micro-batch means")
        whole = result.error("the whole batch")
        claim.check(
            result.accepts_loss_kwargs and summed < 1e-6 and whole > 0.1,
            f"accepts loss kwargs: {result.accepts_loss_kwargs}; against the sum of the means "
            f"{summed:.1e}, the mean of the means "
            f"{result.error('the mean of the micro-batch means'):.1e}, the whole batch {whole:.1e}",
        )

    @pytest.mark.claim(
        "loss-empty-mlm-batch",
        "An MLM batch in which no token was chosen has a NaN loss (0 / 0) and zero gradients; "
        "`fixed_cross_entropy` with a positive `num_items_in_batch` gives 0; `BertForMaskedLM` "
        "takes its own mean, without `num_items_in_batch`.",
        page="notes/loss-normalisation",
    )
    def test_empty_mlm_batch(self, claim):
        """Tiny BERT, every label -100."""
        from transformers.loss.loss_utils import fixed_cross_entropy

        model = tiny_bert()
        ids = torch.randint(5, 100, (2, 6), generator=torch.Generator().manual_seed(0))
        labels = torch.full_like(ids, -100)
        out = model(input_ids=ids, labels=labels)
        out.loss.backward()
        zero = all(bool((p.grad == 0).all()) for p in model.parameters() if p.grad is not None)
        summed = fixed_cross_entropy(
            out.logits.detach().view(-1, 100), labels.view(-1), num_items_in_batch=torch.tensor(7)
        )
        claim.check(
            bool(out.loss.isnan()) and zero and summed.item() == 0.0,
            f"loss {out.loss.item()}, gradients zero: {zero}, with num_items {summed.item()}",
        )


# --------------------------------------------------------------------------- batched generation


class TestBatchedGeneration:
    PROMPTS = ["w5 w6 w7 w9", "w8", "w10 w11"]

    @pytest.mark.claim(
        "generate-position-ids",
        "`generate()` on a left-padded batch passes the model position ids `cumsum(mask) - 1` on "
        "the real tokens.",
        page="notes/batched-generation",
    )
    def test_position_ids(self, claim):
        """The position ids a tiny Llama receives at generate()'s first step."""
        from lmnotes.batched_generation import captured_position_ids
        from lmnotes.tiny import word_tokenizer

        seen = captured_position_ids(tiny_llama(), word_tokenizer(), self.PROMPTS)
        mask = seen["attention_mask"].bool()
        expected = seen["attention_mask"].cumsum(-1) - 1
        got = seen["position_ids"]
        holds = got is not None and torch.equal(got[mask], expected[mask])
        claim.check(holds, f"position ids {None if got is None else got.tolist()}")

    @pytest.mark.claim(
        "generate-left-padding",
        "Greedy generation from a left-padded batch gives each prompt the tokens it gets alone; "
        "a right-padded decoder-only batch makes `generate()` log a warning.",
        page="notes/batched-generation",
    )
    def test_left_padding(self, claim):
        """batched_vs_alone and right_padding_warning on a tiny Llama."""
        from lmnotes.batched_generation import batched_vs_alone, right_padding_warning
        from lmnotes.tiny import word_tokenizer

        model, tokenizer = tiny_llama(), word_tokenizer()
        result = batched_vs_alone(model, tokenizer, self.PROMPTS, max_new_tokens=6)
        warning = right_padding_warning(model, tokenizer, self.PROMPTS)
        claim.check(
            result.all_equal and "right-padding" in warning,
            f"same tokens: {result.all_equal}, warning: {warning[:60]!r}",
        )

    @pytest.mark.claim(
        "generate-pad-position-ids",
        "`generate()` on a left-padded batch gives the pad positions the position id 0 (before: "
        "1, from `position_ids.masked_fill_(attention_mask == 0, 1)`).",
        page="notes/batched-generation",
    )
    def test_pad_position_ids(self, claim):
        """The position ids of the pads, at generate()'s first step on a tiny Llama."""
        from lmnotes.batched_generation import captured_position_ids
        from lmnotes.tiny import word_tokenizer

        seen = captured_position_ids(tiny_llama(), word_tokenizer(), self.PROMPTS)
        pads = seen["position_ids"][seen["attention_mask"] == 0]
        claim.check(bool((pads == 0).all()), f"pad positions {sorted(set(pads.tolist()))}")

    @pytest.mark.claim(
        "generate-right-padding-check",
        "Given an attention mask, `generate()` detects right padding from its last column: a "
        "left-padded batch whose prompts end with the pad id draws no warning (before: the last "
        "input id of each row is compared with the pad id, and that batch draws the warning).",
        page="notes/batched-generation",
    )
    def test_right_padding_check(self, claim):
        """Same last column of ids (one row ends with the pad id 1); left, then right padding."""
        from lmnotes.batched_generation import padding_warning

        ids = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 1]])
        left = padding_warning(tiny_llama(), ids, torch.tensor([[1, 1, 1, 1], [0, 1, 1, 1]]), 1)
        right = padding_warning(tiny_llama(), ids, torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]), 1)
        claim.check(
            left == "" and "right-padding" in right,
            f"left-padded, ending with the pad id: {'warning' if left else 'no warning'}; "
            f"right-padded: {'warning' if right else 'no warning'}",
        )


# --------------------------------------------------------------------------- masks


class TestMasks:
    @pytest.mark.claim(
        "mask-create-causal-mask",
        "`masking_utils.create_causal_mask` combines the causal rule with a padding rule on keys: "
        "it equals `lmnotes.masks.causal_padding_mask`.",
        page="notes/causal-mask",
    )
    def test_create_causal_mask(self, claim):
        """SDPA mask for right, left and no padding (None means plain causal)."""
        ours = causal_padding_mask(PADDED)
        theirs = transformers_causal_mask(PADDED, "sdpa")
        claim.check(theirs is not None and torch.equal(theirs, ours), "right, left and no padding")

    @pytest.mark.claim(
        "mask-one-place",
        "Every model builds its masks with `masking_utils`: no modelling file calls "
        "`_update_causal_mask` or `_prepare_4d_causal_attention_mask` (before "
        "{since}`mask-one-place`, some still did).",
        page="notes/causal-mask",
    )
    def test_one_place(self, claim):
        """lmnotes.inspection.models_with_older_mask_builders on the installed transformers."""
        from lmnotes.inspection import models_with_older_mask_builders

        older = models_with_older_mask_builders()
        claim.check(not older, f"{len(older)} model files: {', '.join(older[:5])}")

    @pytest.mark.claim(
        "mask-eager-additive",
        "Eager attention receives an additive float mask: 0 where attention is allowed, "
        "`torch.finfo(dtype).min` elsewhere.",
        page="notes/causal-mask",
    )
    @pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
    def test_eager_additive(self, claim, dtype):
        """create_causal_mask under eager equals to_additive(causal_padding_mask, dtype)."""
        theirs = transformers_causal_mask(PADDED, "eager", dtype)
        expected = to_additive(causal_padding_mask(PADDED), dtype)
        claim.check(theirs is not None and torch.equal(theirs, expected), f"dtype {dtype}")

    @pytest.mark.claim(
        "mask-sdpa-decoder",
        "Under SDPA, the attention of a decoder-only model receives a boolean mask, or none at all "
        "(`is_causal`) when nothing is padded.",
        page="notes/causal-mask",
    )
    def test_sdpa_decoder(self, claim):
        """Tiny Llama under SDPA: bool mask with padding, None without."""
        model = tiny_llama(attn_implementation="sdpa")
        layer = model.model.layers[0].self_attn
        ids = torch.randint(3, 100, PADDED.shape, generator=torch.Generator().manual_seed(0))
        padded = capture_attention_mask(model, layer, input_ids=ids, attention_mask=PADDED)
        plain = capture_attention_mask(model, layer, input_ids=ids[2:], attention_mask=PADDED[2:])
        holds = (
            padded is not None
            and padded.dtype == torch.bool
            and torch.equal(padded, causal_padding_mask(PADDED))
            and plain is None
        )
        claim.check(
            holds,
            f"padded: {None if padded is None else padded.dtype}, "
            f"unpadded: {None if plain is None else plain.dtype}",
        )

    @pytest.mark.claim(
        "mask-sdpa-encoder",
        "Under SDPA, BERT's self-attention and BART's cross-attention receive boolean masks too "
        "(before {since}`mask-sdpa-encoder`: additive float masks, as under eager).",
        page="notes/cross-attention",
    )
    def test_sdpa_encoder(self, claim):
        """Tiny BERT and tiny BART under SDPA, padded inputs: the masks' dtypes."""
        bert = tiny_bert(attn_implementation="sdpa")
        ids = torch.randint(3, 100, PADDED.shape, generator=torch.Generator().manual_seed(0))
        bert_mask = capture_attention_mask(
            bert, bert.bert.encoder.layer[0].attention.self, input_ids=ids, attention_mask=PADDED
        )
        bart = tiny_bart(attn_implementation="sdpa")
        bart_mask = capture_attention_mask(
            bart,
            bart.decoder.layers[0].encoder_attn,
            input_ids=ids,
            attention_mask=PADDED,
            decoder_input_ids=ids[:, :3],
        )
        dtypes = (bert_mask.dtype, bart_mask.dtype)
        claim.check(dtypes == (torch.bool, torch.bool), f"BERT {dtypes[0]}, BART {dtypes[1]}")

    @pytest.mark.claim(
        "mask-cross-attention",
        "BART's cross-attention mask hides the encoder's padding only: shape "
        "`(batch, 1, T_dec, S_enc)`, no causal part.",
        page="notes/cross-attention",
    )
    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    def test_cross_attention(self, claim, impl):
        """The captured mask, read as booleans, equals cross_attention_mask."""
        model = tiny_bart(attn_implementation=impl)
        ids = torch.randint(3, 100, PADDED.shape, generator=torch.Generator().manual_seed(0))
        received = capture_attention_mask(
            model,
            model.decoder.layers[0].encoder_attn,
            input_ids=ids,
            attention_mask=PADDED,
            decoder_input_ids=ids[:, :4],
        )
        expected = cross_attention_mask(PADDED, 4)
        holds = received is not None and torch.equal(as_boolean_mask(received), expected)
        claim.check(holds, f"{impl}: shape {None if received is None else tuple(received.shape)}")

    @pytest.mark.claim(
        "mask-left-padding-positions",
        "With left padding, the attention mask and `position_ids = cumsum(mask) - 1` reproduce "
        "the unpadded logits; the mask alone does not (GPT-2's learned positions).",
        page="notes/padding-mask",
    )
    def test_left_padding(self, claim):
        """padding_probe on the tiny GPT-2."""
        result = padding_probe()
        holds = (
            result.left_padding_mask_and_positions < 1e-5
            and result.left_padding_mask_default_positions > 1e-2
            and result.right_padding < 1e-5
        )
        claim.check(
            holds,
            f"mask and positions {result.left_padding_mask_and_positions:.1e}, "
            f"mask only {result.left_padding_mask_default_positions:.1e}",
        )

    @pytest.mark.claim(
        "mask-empty-rows-finite",
        "A left-padded batch (pad queries that may attend to no key) gives finite outputs for "
        "the real tokens with eager (`finfo.min` mask) and SDPA attention (torch 2.13 measured "
        "only).",
        page="notes/padding-mask",
    )
    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    def test_empty_rows_finite(self, claim, impl):
        """Tiny Llama, left-padded row: no NaN or inf in the real tokens' logits."""
        ids = torch.tensor([[0, 0, 5, 6, 7], [5, 6, 7, 8, 9]])
        mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
        with torch.no_grad():
            logits = tiny_llama(attn_implementation=impl)(input_ids=ids, attention_mask=mask).logits
        finite = bool(logits[mask.bool()].isfinite().all())
        claim.check(finite, f"{impl}: real-token logits finite: {finite}")

    @pytest.mark.claim(
        "t5-no-scaling",
        "T5's attention does not divide the scores by `sqrt(d_k)`: its output equals unscaled "
        "attention over its own projections.",
        page="notes/cross-attention",
    )
    def test_t5_no_scaling(self, claim):
        """A T5Attention layer against softmax(q k^T) v rebuilt from its projections."""
        from transformers import T5Config
        from transformers.models.t5.modeling_t5 import T5Attention

        t5 = T5Attention(
            T5Config(d_model=16, d_kv=8, num_heads=2, dropout_rate=0.0, attn_implementation="eager")
        ).eval()
        x = torch.randn(1, 5, 16, generator=torch.Generator().manual_seed(0))
        # 4.57 reads the query length from cache_position when no cache is given.
        extra = (
            {"cache_position": torch.arange(5)}
            if "cache_position" in inspect.signature(t5.forward).parameters
            else {}
        )
        with torch.no_grad():
            q, k, v = (p(x).view(1, 5, 2, 8).transpose(1, 2) for p in (t5.q, t5.k, t5.v))
            by_hand = t5.o(
                (torch.softmax(q @ k.transpose(-2, -1), -1) @ v).transpose(1, 2).reshape(1, 5, 16)
            )
            difference = float((by_hand - t5(x, **extra)[0]).abs().max())
        claim.check(difference < 1e-5, f"max difference to unscaled attention {difference:.1e}")

    @pytest.mark.claim(
        "mask-empty-rows-unpatched",
        "With the torch of these runs (2.13), the masks `create_causal_mask` builds leave the "
        "pad rows of a left-padded batch unpatched: all `False` for SDPA (torch returns zeros "
        "there), all `finfo.min` for eager attention (a uniform softmax in float32).",
        page="notes/padding-mask",
    )
    def test_empty_rows_unpatched(self, claim):
        """The pad query rows of the SDPA and eager masks of create_causal_mask."""
        mask = torch.tensor([[0, 0, 1, 1, 1]])
        sdpa = transformers_causal_mask(mask, "sdpa")
        eager = transformers_causal_mask(mask, "eager")
        sdpa_empty = sdpa is not None and not bool(sdpa[0, 0, :2].any())
        eager_min = bool((eager[0, 0, :2] == torch.finfo(eager.dtype).min).all())
        claim.check(
            sdpa_empty and eager_min,
            f"SDPA pad rows empty: {sdpa_empty}, eager pad rows all finfo.min: {eager_min}",
        )


# --------------------------------------------------------------------------- packing


class TestPacking:
    @pytest.mark.claim(
        "packing-flattening",
        "`DataCollatorWithFlattening` packs a batch into one row, restarts `position_ids` at each "
        "example and sets each example's first label to `-100`.",
        page="notes/packing",
        cite="hf_transformers_pr31629",
    )
    def test_flattening(self, claim):
        """Two examples: one row, positions 0.. twice, -100 at each start."""
        batch = DataCollatorWithFlattening(return_tensors="pt")(
            [{"input_ids": [5, 6, 7]}, {"input_ids": [8, 9]}]
        )
        holds = (
            batch["input_ids"].tolist() == [[5, 6, 7, 8, 9]]
            and batch["position_ids"].tolist() == [[0, 1, 2, 0, 1]]
            and batch["labels"].tolist() == [[-100, 6, 7, -100, 9]]
        )
        claim.check(holds, f"{ {k: v.tolist() for k, v in batch.items()} }")

    @pytest.mark.claim(
        "packing-position-ids",
        "Without a cache (`use_cache=False`), eager and SDPA attention keep packed examples apart "
        "from `position_ids` alone: the packed loss equals the padded loss.",
        page="notes/packing",
    )
    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    def test_position_ids(self, claim, impl):
        """packed_vs_padded_loss on a tiny Llama."""
        from lmnotes.packing import packed_vs_padded_loss

        result = packed_vs_padded_loss(tiny_llama(attn_implementation=impl))
        diff = abs(result.packed - result.padded)
        claim.check(diff < 1e-5, f"{impl}: |packed - padded| = {diff:.1e}")

    @pytest.mark.claim(
        "packing-use-cache",
        "With `use_cache=True` the detection of packed sequences is skipped: packed examples "
        "attend to each other.",
        page="notes/packing",
    )
    def test_use_cache(self, claim):
        """The packed loss with use_cache=True differs from the padded loss."""
        from lmnotes.packing import packed_vs_padded_loss

        result = packed_vs_padded_loss(tiny_llama())
        diff = abs(result.packed_use_cache - result.padded)
        claim.check(diff > 1e-3, f"|packed with cache - padded| = {diff:.1e}")

    @pytest.mark.claim(
        "packing-trainer-default",
        "A `Trainer` with default `TrainingArguments` runs the model without a cache "
        "(`TrainingArguments.use_cache=False` sets `model.config.use_cache`): its loss on a "
        "`DataCollatorWithFlattening` batch equals the padded loss (before "
        "{since}`packing-trainer-default` there is no such argument: the model builds a cache "
        "from `config.use_cache` and packed examples attend to each other).",
        page="notes/packing",
    )
    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    def test_trainer_default(self, claim, impl):
        """trainer_packing_loss on a tiny Llama: packed against padded, the Trainer as built."""
        from lmnotes.packing import trainer_packing_loss

        result = trainer_packing_loss(tiny_llama(attn_implementation=impl))
        diff = abs(result.packed - result.padded)
        claim.check(
            diff < 1e-5,
            f"{impl}: TrainingArguments.use_cache {result.training_args_use_cache}, "
            f"config.use_cache {result.config_use_cache}, |packed - padded| = {diff:.1e}",
        )

    @pytest.mark.claim(
        "packing-trainer-config-no-cache",
        "With `model.config.use_cache = False`, the `Trainer`'s loss on a "
        "`DataCollatorWithFlattening` batch equals the padded loss.",
        page="notes/packing",
    )
    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    def test_trainer_config_no_cache(self, claim, impl):
        """trainer_packing_loss on a tiny Llama: packed after config.use_cache = False."""
        from lmnotes.packing import trainer_packing_loss

        result = trainer_packing_loss(tiny_llama(attn_implementation=impl))
        diff = abs(result.packed_config_no_cache - result.padded)
        claim.check(diff < 1e-5, f"{impl}: |packed - padded| = {diff:.1e}")


# --------------------------------------------------------------------------- APIs lmnotes adapts to


class TestApis:
    @pytest.mark.claim(
        "api-bert-tokenizer-vocab",
        "`BertTokenizer(vocab={...})` builds a tokenizer from an in-memory vocabulary "
        "(`lmnotes.tiny.bert_tokenizer` works on every release).",
    )
    def test_bert_tokenizer_vocab(self, claim):
        """The library class from a dict, against lmnotes.tiny.bert_tokenizer."""
        from transformers import BertTokenizer

        vocab = dict(zip(PIECES, range(len(PIECES)), strict=True))
        try:
            tokenizer = BertTokenizer(vocab=vocab)
        except (TypeError, ValueError) as err:
            claim.check(False, f"{type(err).__name__}: {err}")
            return
        ids = tokenizer("the cat sat")["input_ids"]
        claim.check(ids == bert_tokenizer(PIECES)("the cat sat")["input_ids"], f"ids {ids}")

    @pytest.mark.claim(
        "api-cache-argument",
        "A causal LM takes its key/value cache as `cache` (formerly `past_key_values`; "
        "`lmnotes.compat.cache_argument` gives the name).",
    )
    def test_cache_argument(self, claim):
        """The name in tiny Llama's forward signature."""
        import inspect

        parameters = inspect.signature(tiny_llama().forward).parameters
        claim.check("cache" in parameters, "cache" if "cache" in parameters else "past_key_values")

    @pytest.mark.claim(
        "api-cache-keyword-used",
        "A causal LM given its key/value cache as `cache=` continues from it: the logits of the "
        "new tokens equal those of one pass over the whole sequence (before, `cache=` lands in "
        "`**kwargs` and is ignored without an error: the new tokens run without the cache).",
        page="notes/causal-mask",
    )
    def test_cache_keyword_used(self, claim):
        """Tiny Llama: 4 tokens with use_cache, then 2 more passed with cache=."""
        model = tiny_llama()
        ids = torch.tensor([[5, 17, 42, 8, 23, 61]])
        with torch.no_grad():
            first = model(input_ids=ids[:, :4], use_cache=True)
            cache = getattr(first, "cache", None) or first.past_key_values
            try:
                step = model(input_ids=ids[:, 4:], cache=cache).logits
            except Exception as err:  # noqa: BLE001 - the outcome is recorded, not raised
                claim.check(False, f"cache= raised {type(err).__name__}: {err}")
                return
            full = model(input_ids=ids).logits[:, 4:]
        diff = (step - full).abs().max().item()
        claim.check(diff < 1e-4, f"no error; max logit difference from one pass: {diff:.2g}")

    @pytest.mark.claim(
        "generation-cache",
        "Greedy generation with the key/value cache picks the same tokens as without it and as "
        "one teacher-forced pass.",
        page="notes/causal-mask",
    )
    def test_generation_cache(self, claim):
        """lmnotes.generation.teacher_forcing_vs_generation on the tiny GPT-2."""
        from lmnotes.generation import teacher_forcing_vs_generation
        from lmnotes.tiny import tiny_gpt2

        result = teacher_forcing_vs_generation(tiny_gpt2(), [5, 17, 42, 8], n_new=5)
        claim.check(
            result.agree and result.max_logit_diff_cache < 1e-4,
            f"agree: {result.agree}, max logit diff {result.max_logit_diff_cache:.1e}",
        )

    @pytest.mark.slow
    @pytest.mark.claim(
        "smollm2-paris",
        'The pinned SmolLM2 (`lmnotes.assets.load_causal_lm`) continues "The capital of France '
        'is" with " Paris", p = 0.77.',
        page="how-to/offline",
    )
    def test_smollm2_paris(self, claim):
        """Tokens of the prompt (no BOS), argmax and its probability."""
        from lmnotes.assets import load_causal_lm

        model, tokenizer = load_causal_lm()
        ids = tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
        with torch.no_grad():
            probs = model(ids).logits[0, -1].softmax(-1)
        word, p = tokenizer.decode(probs.argmax()), probs.max().item()
        claim.check(
            ids[0].tolist() == [504, 3575, 282, 4649, 314]
            and word == " Paris"
            and abs(p - 0.77) < 0.005,
            f"ids {ids[0].tolist()}, {word!r} p = {p:.3f}",
        )
