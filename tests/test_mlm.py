"""Tests for lmnotes.mlm: MLM masking, parity with the library's collator, measured rates."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import DataCollatorForLanguageModeling

from lmnotes.compat import SEED_ZERO_HONOURED
from lmnotes.mlm import (
    MaskingStats,
    binomial_rate,
    count_chosen,
    mask_tokens,
    masked_token_losses,
    measure_collator,
    measure_masking,
    random_token_batch,
)

# --- strategies -------------------------------------------------------------------------------

probability = st.one_of(st.sampled_from([0.0, 1.0, 0.15, 0.5]), st.floats(0.0, 1.0))


@st.composite
def replace_probabilities(draw):
    """(mask_replace_prob, random_replace_prob) with a sum of at most 1, edges included."""
    mask = draw(st.one_of(st.sampled_from([0.0, 0.8, 1.0]), st.floats(0.0, 1.0)))
    rest = 1.0 - mask
    random = draw(st.one_of(st.sampled_from([0.0, rest, min(0.1, rest)]), st.floats(0.0, rest)))
    if mask + random > 1.0:  # rounding of 1 - mask
        random = 0.0
    return mask, random


@st.composite
def examples(draw, special_ids):
    """A list of 1 to 8 tokenized examples of different lengths (so the batch is padded)."""
    ordinary = st.integers(min_value=999, max_value=30521)  # ids of ordinary words in BERT uncased
    token = st.one_of(ordinary, ordinary, ordinary, st.sampled_from(special_ids))
    batch_size = draw(st.integers(1, 8))
    rows = []
    for _ in range(batch_size):
        body = draw(st.lists(token, min_size=0, max_size=24))
        framed = draw(st.booleans())
        rows.append([101, *body, 102] if framed else body or [1996])
    return rows


def _pad(tokenizer, rows):
    return tokenizer.pad({"input_ids": rows}, return_tensors="pt")["input_ids"]


class TestMaskTokensParity:
    """mask_tokens draws exactly what DataCollatorForLanguageModeling draws."""

    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        data=st.data(),
        mlm_probability=probability,
        replace=replace_probabilities(),
        # seed=0 is ignored by the collator before transformers 5.19 (global RNG instead).
        seed=st.integers(0 if SEED_ZERO_HONOURED else 1, 2**63 - 1),
        padding_side=st.sampled_from(["right", "left"]),
        as_dicts=st.booleans(),
        with_special_mask=st.booleans(),
    )
    def test_bit_identical_to_seeded_collator(
        self,
        bert_uncased,
        data,
        mlm_probability,
        replace,
        seed,
        padding_side,
        as_dicts,
        with_special_mask,
    ):
        """Two successive calls with one seeded generator equal two calls of one collator built with
        that seed."""
        mask_replace_prob, random_replace_prob = replace
        rows = data.draw(examples(bert_uncased.all_special_ids))
        special_masks = None
        if (
            as_dicts and with_special_mask
        ):  # a batch that carries its own special_tokens_mask (here random)
            special_masks = [
                data.draw(st.lists(st.integers(0, 1), min_size=len(r), max_size=len(r)))
                for r in rows
            ]
        old_side = bert_uncased.padding_side
        bert_uncased.padding_side = padding_side
        try:
            collator = DataCollatorForLanguageModeling(
                bert_uncased,
                mlm_probability=mlm_probability,
                mask_replace_prob=mask_replace_prob,
                random_replace_prob=random_replace_prob,
                seed=seed,
            )
            if as_dicts:
                features = [{"input_ids": r} for r in rows]
                if special_masks is not None:
                    for feature, m in zip(features, special_masks, strict=True):
                        feature["special_tokens_mask"] = m
            else:
                features = rows
            expected = [collator(features), collator(features)]

            padded = bert_uncased.pad({"input_ids": rows}, return_tensors="pt")
            special = None
            if special_masks is not None:
                special = bert_uncased.pad(
                    {"input_ids": rows, "special_tokens_mask": special_masks}, return_tensors="pt"
                )["special_tokens_mask"]
        finally:
            bert_uncased.padding_side = old_side

        generator = torch.Generator().manual_seed(seed)
        for batch in expected:
            inputs, labels = mask_tokens(
                padded["input_ids"],
                bert_uncased,
                mlm_probability=mlm_probability,
                mask_replace_prob=mask_replace_prob,
                random_replace_prob=random_replace_prob,
                generator=generator,
                special_tokens_mask=special,
            )
            assert torch.equal(inputs, batch["input_ids"])
            assert torch.equal(labels, batch["labels"])
            assert inputs.dtype == batch["input_ids"].dtype

    @pytest.mark.parametrize("seed", [0, 1, 1234])
    def test_global_rng_parity_without_seed(self, bert_uncased, seed):
        """With generator=None both draw from the global torch RNG: same global seed, same
        result."""
        rows = [
            [101, 7592, 1010, 2023, 2003, 102],
            [101, 2023, 2003, 1037, 2503, 102],
            [101, 2009, 102],
        ]
        collator = DataCollatorForLanguageModeling(bert_uncased, mlm_probability=0.5)
        torch.manual_seed(seed)
        batch = collator([{"input_ids": r} for r in rows])
        torch.manual_seed(seed)
        inputs, labels = mask_tokens(_pad(bert_uncased, rows), bert_uncased, mlm_probability=0.5)
        assert torch.equal(inputs, batch["input_ids"]) and torch.equal(labels, batch["labels"])


class TestMaskTokensBehaviour:
    """Properties of one masking, independent of the library."""

    @pytest.fixture()
    def batch(self, bert_uncased):
        return random_token_batch(
            bert_uncased, batch_size=64, max_length=48, generator=torch.Generator().manual_seed(7)
        )

    def test_input_not_modified(self, bert_uncased, batch):
        """The input tensor is left untouched (the function works on clones)."""
        before = batch.clone()
        inputs, labels = mask_tokens(
            batch, bert_uncased, mlm_probability=0.5, generator=torch.Generator()
        )
        assert torch.equal(batch, before)
        assert inputs.data_ptr() != batch.data_ptr() and labels.data_ptr() != batch.data_ptr()

    def test_labels_hold_original_ids_at_chosen_positions_only(self, bert_uncased, batch):
        """labels equal the original ids where chosen and -100 elsewhere; unchosen inputs are
        unchanged."""
        inputs, labels = mask_tokens(
            batch, bert_uncased, mlm_probability=0.3, generator=torch.Generator()
        )
        chosen = labels != -100
        assert chosen.any()
        assert torch.equal(labels[chosen], batch[chosen])
        assert torch.equal(inputs[~chosen], batch[~chosen])

    def test_special_tokens_never_chosen(self, bert_uncased, batch):
        """Even with mlm_probability=1, [CLS], [SEP] and [PAD] keep label -100 and their id."""
        inputs, labels = mask_tokens(
            batch, bert_uncased, mlm_probability=1.0, generator=torch.Generator()
        )
        special = torch.isin(batch, torch.tensor(bert_uncased.all_special_ids))
        assert (labels[special] == -100).all()
        assert torch.equal(inputs[special], batch[special])
        assert (labels[~special] != -100).all()

    def test_probability_zero_changes_nothing(self, bert_uncased, batch):
        """mlm_probability=0: inputs equal the batch and every label is -100."""
        inputs, labels = mask_tokens(
            batch, bert_uncased, mlm_probability=0.0, generator=torch.Generator()
        )
        assert torch.equal(inputs, batch)
        assert (labels == -100).all()

    def test_all_mask(self, bert_uncased, batch):
        """mask_replace_prob=1: every chosen input is [MASK]."""
        inputs, labels = mask_tokens(
            batch,
            bert_uncased,
            mlm_probability=1.0,
            mask_replace_prob=1.0,
            random_replace_prob=0.0,
        )
        chosen = labels != -100
        assert (inputs[chosen] == bert_uncased.mask_token_id).all()

    def test_no_mask_only_random(self, bert_uncased, batch):
        """mask_replace_prob=0, random_replace_prob=1: chosen inputs are random ids, almost never
        the original."""
        inputs, labels = mask_tokens(
            batch,
            bert_uncased,
            mlm_probability=1.0,
            mask_replace_prob=0.0,
            random_replace_prob=1.0,
            generator=torch.Generator().manual_seed(0),
        )
        chosen = labels != -100
        kept = (inputs[chosen] == batch[chosen]).float().mean().item()
        masked = (inputs[chosen] == bert_uncased.mask_token_id).float().mean().item()
        assert kept < 0.01 and masked < 0.01
        assert int(inputs.max()) < len(bert_uncased)

    def test_dtype_preserved(self, bert_uncased, batch):
        """An int32 batch gives int32 inputs and labels."""
        inputs, labels = mask_tokens(
            batch.int(), bert_uncased, random_replace_prob=0.2, mask_replace_prob=0.0
        )
        assert inputs.dtype == labels.dtype == torch.int32

    def test_same_seed_same_mask_one_generator_new_mask(self, bert_uncased, batch):
        """A fresh generator with the same seed repeats the mask; reusing one generator redraws
        it."""
        first = mask_tokens(batch, bert_uncased, generator=torch.Generator().manual_seed(5))[1]
        again = mask_tokens(batch, bert_uncased, generator=torch.Generator().manual_seed(5))[1]
        generator = torch.Generator().manual_seed(5)
        mask_tokens(batch, bert_uncased, generator=generator)
        second_call = mask_tokens(batch, bert_uncased, generator=generator)[1]
        assert torch.equal(first, again)
        assert not torch.equal(first, second_call)


class TestMaskTokensValidation:
    """Bad input raises ValueError (or TypeError) naming the argument."""

    @pytest.mark.parametrize(
        "value",
        [
            torch.tensor([[101.0, 7592.0, 102.0]]),
            torch.tensor([101, 7592, 102]),
            torch.tensor([[[101, 7592, 102]]]),
            torch.tensor([[True, False]]),
        ],
        ids=["float", "1-D", "3-D", "bool"],
    )
    def test_bad_input_ids(self, bert_uncased, value):
        """input_ids must be 2-D with an integer dtype."""
        with pytest.raises(ValueError, match="input_ids"):
            mask_tokens(value, bert_uncased)

    def test_input_ids_not_a_tensor(self, bert_uncased):
        """A list of lists is refused with TypeError naming input_ids."""
        with pytest.raises(TypeError, match="input_ids"):
            mask_tokens([[101, 7592, 102]], bert_uncased)

    def test_tokenizer_without_mask_token(self, gpt2_tokenizer):
        """A tokenizer without a mask token (GPT-2) is refused."""
        with pytest.raises(ValueError, match="tokenizer"):
            mask_tokens(torch.tensor([[464, 3797]]), gpt2_tokenizer)

    @pytest.mark.parametrize(
        "name", ["mlm_probability", "mask_replace_prob", "random_replace_prob"]
    )
    @pytest.mark.parametrize(
        ("value", "error"),
        [
            (-0.1, ValueError),
            (1.5, ValueError),
            (float("nan"), ValueError),
            ("0.5", TypeError),
            (None, TypeError),
        ],
    )
    def test_probability_outside_unit_interval(self, bert_uncased, name, value, error):
        """Each probability must be a number in [0, 1]."""
        kwargs = {"mask_replace_prob": 0.0, "random_replace_prob": 0.0, name: value}
        with pytest.raises(error, match=name):
            mask_tokens(torch.tensor([[101, 7592, 102]]), bert_uncased, **kwargs)

    def test_mask_plus_random_above_one(self, bert_uncased):
        """mask_replace_prob + random_replace_prob > 1 is refused, naming both."""
        with pytest.raises(ValueError, match="mask_replace_prob \\+ random_replace_prob"):
            mask_tokens(
                torch.tensor([[101, 7592, 102]]),
                bert_uncased,
                mask_replace_prob=0.8,
                random_replace_prob=0.3,
            )

    def test_generator_type(self, bert_uncased):
        """generator must be a torch.Generator."""
        with pytest.raises(TypeError, match="generator"):
            mask_tokens(torch.tensor([[101, 7592, 102]]), bert_uncased, generator=0)

    def test_special_tokens_mask_shape(self, bert_uncased):
        """special_tokens_mask must have the shape of input_ids."""
        with pytest.raises(ValueError, match="special_tokens_mask"):
            mask_tokens(
                torch.tensor([[101, 7592, 102]]),
                bert_uncased,
                special_tokens_mask=torch.zeros(1, 2),
            )


@pytest.fixture(scope="module")
def large_batch(bert_uncased):
    """1024 rows of up to 128 BERT tokens, about half of them padding."""
    return random_token_batch(
        bert_uncased, batch_size=1024, max_length=128, generator=torch.Generator().manual_seed(1)
    )


class TestMeasureMasking:
    """measure_masking reports the rates the settings predict on a large batch."""

    def test_default_rates(self, bert_uncased, large_batch):
        """About 15 % chosen, split 80/10/10, no special token chosen, 2p(1-p) redrawn (5-sigma
        bounds)."""
        stats = measure_masking(
            large_batch, bert_uncased, generator=torch.Generator().manual_seed(2)
        )
        assert isinstance(stats, MaskingStats)
        assert stats.candidates > 50_000 and stats.chosen > 7_000
        assert abs(stats.chosen_rate - 0.15) < 0.01
        assert abs(stats.mask_fraction - 0.8) < 0.02
        assert abs(stats.random_fraction - 0.1) < 0.015
        assert abs(stats.unchanged_fraction - 0.1) < 0.015
        assert stats.special_chosen == 0
        assert abs(stats.redrawn_fraction - 2 * 0.15 * 0.85) < 0.01
        assert (
            stats.mask_fraction + stats.random_fraction + stats.unchanged_fraction
            == pytest.approx(1.0)
        )

    def test_other_settings(self, bert_uncased, large_batch):
        """With mlm_probability=0.4 and a 50/30/20 split the measures follow the settings."""
        stats = measure_masking(
            large_batch,
            bert_uncased,
            mlm_probability=0.4,
            mask_replace_prob=0.5,
            random_replace_prob=0.3,
            generator=torch.Generator().manual_seed(3),
        )
        assert abs(stats.chosen_rate - 0.4) < 0.01
        assert abs(stats.mask_fraction - 0.5) < 0.015
        assert abs(stats.random_fraction - 0.3) < 0.015
        assert abs(stats.unchanged_fraction - 0.2) < 0.015
        assert abs(stats.redrawn_fraction - 2 * 0.4 * 0.6) < 0.01

    def test_counts_match_an_independent_count(self, bert_uncased, large_batch):
        """candidates is the number of non-special positions; positions the batch size."""
        stats = measure_masking(large_batch, bert_uncased, generator=torch.Generator())
        special = torch.isin(large_batch, torch.tensor(bert_uncased.all_special_ids))
        assert stats.candidates == int((~special).sum())
        assert stats.positions == large_batch.numel()

    def test_text_shows_measured_and_expected(self, bert_uncased, large_batch):
        """str(stats) is a table naming the split, with measured and expected columns."""
        text = str(measure_masking(large_batch, bert_uncased, generator=torch.Generator()))
        assert "measured" in text and "expected" in text and "mask token" in text
        assert "0.800" in text  # expected mask fraction

    def test_text_shows_intervals_that_hold_the_rates(self, bert_uncased, large_batch):
        """Each fraction has a narrow 95 % interval around it, within 4 errors of the setting."""
        generator = torch.Generator().manual_seed(3)
        stats = measure_masking(large_batch, bert_uncased, generator=generator)
        assert "interval (95%)" in str(stats)
        for key in ("chosen_rate", "mask_fraction", "random_fraction", "unchanged_fraction"):
            rate = stats.rate(key)
            assert rate.low <= getattr(stats, key) <= rate.high
            assert rate.high - rate.low < 0.05 and abs(rate.z) < 4
        assert stats.rate("chosen_rate").trials == stats.candidates
        assert stats.rate("mask_fraction").trials == stats.chosen
        with pytest.raises(ValueError, match="key"):
            stats.rate("special_chosen")

    def test_validation(self, bert_uncased, gpt2_tokenizer):
        """measure_masking validates like mask_tokens."""
        with pytest.raises(ValueError, match="input_ids"):
            measure_masking(torch.tensor([101, 102]), bert_uncased)
        with pytest.raises(ValueError, match="tokenizer"):
            measure_masking(torch.tensor([[464, 3797]]), gpt2_tokenizer)


class TestRandomTokenBatch:
    """random_token_batch builds [CLS] ordinary... [SEP] [PAD]... rows."""

    def test_structure(self, bert_uncased):
        """Every row: [CLS] first, exactly one [SEP], only [PAD] after it, no special id inside."""
        ids = random_token_batch(
            bert_uncased,
            batch_size=32,
            max_length=20,
            min_length=4,
            generator=torch.Generator().manual_seed(0),
        )
        assert ids.shape == (32, 20)
        special = set(bert_uncased.all_special_ids)
        for row in ids.tolist():
            assert row[0] == bert_uncased.cls_token_id
            sep = row.index(bert_uncased.sep_token_id)
            assert row.count(bert_uncased.sep_token_id) == 1 and sep >= 3
            assert all(t == bert_uncased.pad_token_id for t in row[sep + 1 :])
            assert not special.intersection(row[1:sep])
        assert ids[0, -1] == bert_uncased.sep_token_id  # the longest row fills the batch

    def test_validation(self, bert_uncased, gpt2_tokenizer):
        """Bad sizes, or a tokenizer without [CLS]/[SEP]/[PAD], raise ValueError naming them."""
        with pytest.raises(ValueError, match="min_length"):
            random_token_batch(bert_uncased, min_length=1)
        with pytest.raises(ValueError, match="max_length"):
            random_token_batch(bert_uncased, min_length=8, max_length=4)
        with pytest.raises(ValueError, match="batch_size"):
            random_token_batch(bert_uncased, batch_size=0)
        with pytest.raises(TypeError, match="batch_size"):
            random_token_batch(bert_uncased, batch_size=2.0)
        with pytest.raises(ValueError, match="cls_token_id"):
            random_token_batch(gpt2_tokenizer)


class TestMeasureCollator:
    """measure_collator measures the library's own collator."""

    def test_default_rates_on_the_library_collator(self, bert_uncased, large_batch):
        """About 15 % chosen, 80/10/10, no special token chosen, 2p(1-p) redrawn (5 sigma)."""
        collator = DataCollatorForLanguageModeling(bert_uncased, seed=4)
        stats = measure_collator(collator, large_batch)
        assert abs(stats.chosen_rate - 0.15) < 0.01
        assert abs(stats.mask_fraction - 0.8) < 0.02
        assert abs(stats.random_fraction - 0.1) < 0.015
        assert abs(stats.unchanged_fraction - 0.1) < 0.015
        assert stats.special_chosen == 0
        assert abs(stats.redrawn_fraction - 2 * 0.15 * 0.85) < 0.01

    def test_equals_measure_masking_with_the_same_seed(self, bert_uncased, large_batch):
        """Same seed, same draws: the collator's stats equal those of mask_tokens."""
        collator = DataCollatorForLanguageModeling(
            bert_uncased,
            mlm_probability=0.3,
            mask_replace_prob=0.6,
            random_replace_prob=0.3,
            seed=5,
        )
        from_collator = measure_collator(collator, large_batch)
        from_mask_tokens = measure_masking(
            large_batch,
            bert_uncased,
            mlm_probability=0.3,
            mask_replace_prob=0.6,
            random_replace_prob=0.3,
            generator=torch.Generator().manual_seed(5),
        )
        assert from_collator == from_mask_tokens

    def test_settings_read_from_the_collator(self, bert_uncased, large_batch):
        """The expected values come from the collator's own probabilities."""
        collator = DataCollatorForLanguageModeling(
            bert_uncased,
            mlm_probability=0.4,
            mask_replace_prob=0.5,
            random_replace_prob=0.2,
            seed=1,
        )
        stats = measure_collator(collator, large_batch[:64])
        assert (stats.mlm_probability, stats.mask_replace_prob, stats.random_replace_prob) == (
            0.4,
            0.5,
            0.2,
        )

    def test_validation(self, bert_uncased, gpt2_tokenizer):
        """A non-collator, a CLM collator or bad ids are refused, naming the argument."""
        with pytest.raises(TypeError, match="collator"):
            measure_collator(bert_uncased, torch.tensor([[101, 102]]))
        clm = DataCollatorForLanguageModeling(gpt2_tokenizer, mlm=False)
        with pytest.raises(ValueError, match="mlm=True"):
            measure_collator(clm, torch.tensor([[464, 3797]]))
        mlm = DataCollatorForLanguageModeling(bert_uncased)
        with pytest.raises(ValueError, match="input_ids"):
            measure_collator(mlm, torch.tensor([101, 102]))


class TestCountChosen:
    """count_chosen counts chosen tokens per row, call after call."""

    def test_binomial_counts(self, bert_uncased):
        """4 ordinary tokens: counts in 0..4, mean 4 p and P(0) = 0.85**4 within 5 sigma."""
        collator = DataCollatorForLanguageModeling(bert_uncased, seed=1)
        examples = [[101, 7592, 1010, 2023, 2003, 102], [101, 2023, 2003, 1037, 2503, 102]]
        counts = count_chosen(collator, examples, calls=1000)
        assert counts.shape == (1000, 2) and counts.dtype == torch.int64
        assert int(counts.min()) >= 0 and int(counts.max()) <= 4
        n = counts.numel()
        assert abs(counts.float().mean().item() - 0.6) < 5 * (4 * 0.15 * 0.85 / n) ** 0.5
        p0 = 0.85**4
        assert abs((counts == 0).float().mean().item() - p0) < 5 * (p0 * (1 - p0) / n) ** 0.5

    def test_matches_the_labels_of_a_collator_with_the_same_seed(self, bert_uncased):
        """Row counts equal the non -100 labels of the same seeded collator, call by call."""
        examples = [
            {"input_ids": [101, 2023, 2003, 1037, 2503, 102]},
            {"input_ids": [101, 2023, 102]},
        ]
        collator = DataCollatorForLanguageModeling(bert_uncased, seed=7)
        counts = count_chosen(collator, examples, calls=5)
        twin = DataCollatorForLanguageModeling(bert_uncased, seed=7)
        for call in range(5):
            labels = twin(examples)["labels"]
            assert counts[call].tolist() == (labels != -100).sum(dim=1).tolist()

    def test_validation(self, bert_uncased, gpt2_tokenizer):
        """Bad collator, empty examples or calls < 1 are refused, naming the argument."""
        collator = DataCollatorForLanguageModeling(bert_uncased)
        with pytest.raises(ValueError, match="examples"):
            count_chosen(collator, [])
        with pytest.raises(ValueError, match="calls"):
            count_chosen(collator, [[101, 102]], calls=0)
        with pytest.raises(TypeError, match="calls"):
            count_chosen(collator, [[101, 102]], calls=1.5)
        with pytest.raises(ValueError, match="mlm=True"):
            count_chosen(DataCollatorForLanguageModeling(gpt2_tokenizer, mlm=False), [[1, 2]])


class TestMaskedTokenLosses:
    """masked_token_losses is the MLM loss by hand: no shift, only chosen positions."""

    def test_mean_equals_bert_masked_lm_loss(self, bert_uncased):
        """Its nanmean equals BertForMaskedLM's loss; nan exactly where the label is -100."""
        from transformers import BertConfig, BertForMaskedLM

        torch.manual_seed(0)
        model = BertForMaskedLM(
            BertConfig(
                vocab_size=len(bert_uncased),
                hidden_size=16,
                num_hidden_layers=1,
                num_attention_heads=2,
                intermediate_size=32,
            )
        ).eval()
        collator = DataCollatorForLanguageModeling(bert_uncased, mlm_probability=0.5, seed=1)
        batch = collator([bert_uncased("the cat has four paws"), bert_uncased("hello there")])
        assert (batch["labels"] != -100).any()
        with torch.no_grad():
            outputs = model(**batch)
        losses = masked_token_losses(outputs.logits, batch["labels"])
        assert torch.equal(losses.isnan(), batch["labels"] == -100)
        torch.testing.assert_close(losses.nanmean(), outputs.loss)

    def test_no_shift(self):
        """The label at position i is scored against the logits at position i, not i - 1."""
        logits = torch.full((1, 3, 5), -10.0)
        logits[0, 1, 4] = 10.0  # position 1 is sure of token 4
        logits[0, 2, 0] = 10.0  # position 2 is sure of token 0
        labels = torch.tensor([[-100, 4, -100]])
        assert masked_token_losses(logits, labels)[0, 1].item() < 1e-6
        shifted = torch.tensor([[-100, -100, 4]])
        assert masked_token_losses(logits, shifted)[0, 2].item() > 10

    def test_each_entry_is_minus_log_softmax(self):
        """Every counted entry equals -log_softmax(logits)[label] computed independently."""
        generator = torch.Generator().manual_seed(0)
        logits = torch.randn(2, 4, 6, generator=generator)
        labels = torch.randint(0, 6, (2, 4), generator=generator)
        labels[0, 0] = -100
        losses = masked_token_losses(logits, labels)
        for b in range(2):
            for i in range(4):
                if labels[b, i] == -100:
                    assert losses[b, i].isnan()
                else:
                    expected = -torch.log_softmax(logits[b, i], -1)[labels[b, i]]
                    torch.testing.assert_close(losses[b, i], expected)

    def test_validation(self):
        """Bad shapes, dtypes, out-of-vocabulary labels or ignore_index are refused, naming them."""
        with pytest.raises(ValueError, match="logits"):
            masked_token_losses(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long))
        with pytest.raises(ValueError, match="labels"):
            masked_token_losses(torch.zeros(2, 3, 5), torch.zeros(2, 4, dtype=torch.long))
        with pytest.raises(ValueError, match="labels"):
            masked_token_losses(torch.zeros(1, 2, 5), torch.tensor([[1, 5]]))
        with pytest.raises(TypeError, match="ignore_index"):
            masked_token_losses(torch.zeros(1, 2, 5), torch.tensor([[1, 2]]), ignore_index=None)


class TestBinomialRate:
    def test_wilson_interval_and_z(self):
        """Wilson's interval of 30/200 and the z-score of 0.1 against it, by hand."""
        r = binomial_rate(30, 200, expected=0.1)
        q = 1.959963984540054
        centre = (0.15 + q * q / 400) / (1 + q * q / 200)
        half = q * (0.15 * 0.85 / 200 + q * q / 160_000) ** 0.5 / (1 + q * q / 200)
        assert r.low == pytest.approx(centre - half) and r.high == pytest.approx(centre + half)
        assert r.standard_error == pytest.approx((0.15 * 0.85 / 200) ** 0.5)
        assert r.z == pytest.approx(0.05 / (0.1 * 0.9 / 200) ** 0.5)
        assert r.p_value == pytest.approx(0.0184, abs=1e-3)
        assert r.contains_expected is False

    def test_interval_stays_in_the_unit_interval(self):
        """0 and all successes: the interval touches 0 or 1 and never leaves [0, 1]."""
        none, every = binomial_rate(0, 50), binomial_rate(50, 50)
        assert none.low == 0.0 and 0 < none.high < 0.1
        assert every.high == 1.0 and 0.9 < every.low < 1
        assert none.z is None and none.contains_expected is None

    @settings(max_examples=60, deadline=None)
    @given(st.integers(100, 10_000), st.floats(0.05, 0.95))
    def test_covers_the_true_rate_about_95_percent(self, trials, p):
        """The interval holds the true rate with probability above 0.9 (exact, not sampled).

        The coverage is the binomial probability of the counts whose interval holds ``p``;
        Wilson's 95 % interval stays above 0.9 however it oscillates with ``trials`` and ``p``.
        """
        counts = torch.arange(trials + 1, dtype=torch.float64)
        weights = (
            torch.distributions.Binomial(trials, torch.tensor(p, dtype=torch.float64))
            .log_prob(counts)
            .exp()
        )
        holds = [binomial_rate(k, trials, expected=p).contains_expected for k in range(trials + 1)]
        coverage = float(weights[torch.tensor(holds)].sum())
        assert 0.9 < coverage <= 1.0 + 1e-9

    def test_exact_expected_rates(self):
        """expected 0 or 1: z is 0 on the mark and infinite off it."""
        assert binomial_rate(0, 10, expected=0.0).z == 0.0
        assert binomial_rate(1, 10, expected=0.0).z == float("inf")

    def test_validation(self):
        """Counts must be ints with 0 <= successes <= trials; expected and level in range."""
        with pytest.raises(ValueError, match="successes"):
            binomial_rate(5, 4)
        with pytest.raises(ValueError, match="trials"):
            binomial_rate(0, 0)
        with pytest.raises(TypeError, match="successes"):
            binomial_rate(1.5, 4)
        with pytest.raises(ValueError, match="expected"):
            binomial_rate(1, 4, expected=1.5)
        with pytest.raises(ValueError, match="level"):
            binomial_rate(1, 4, level=1.0)
