"""Tests for lmnotes.packing: padding waste, packed batches, block-diagonal masks, loss parity."""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pad_sequence
from transformers import LlamaConfig

from lmnotes.compat import create_causal_mask
from lmnotes.masks import causal_mask
from lmnotes.packing import (
    attention_cost,
    packed_batch,
    packed_causal_mask,
    packed_vs_padded_loss,
    padded_batch,
    padding_waste,
    synthetic_lengths,
    trainer_packing_loss,
)
from lmnotes.tiny import tiny_gpt2, tiny_llama

lengths_strategy = st.lists(st.integers(1, 40), min_size=1, max_size=30)


class TestPaddingWaste:
    @given(lengths=lengths_strategy, batch_size=st.integers(1, 8))
    def test_matches_counting_pads_in_padded_tensors(self, lengths, batch_size):
        """pad_fraction equals the share of pad slots counted in tensors padded by torch."""
        pads = slots = 0
        for start in range(0, len(lengths), batch_size):
            rows = [torch.ones(n) for n in lengths[start : start + batch_size]]
            padded = pad_sequence(rows, batch_first=True, padding_value=0)
            pads += int((padded == 0).sum())
            slots += padded.numel()
        result = padding_waste(lengths, batch_size)
        assert result.real_tokens == sum(lengths) and result.padded_tokens == slots
        assert result.pad_fraction == pytest.approx(pads / slots)

    @given(lengths=lengths_strategy, batch_size=st.integers(1, 8))
    def test_sorting_never_wastes_more(self, lengths, batch_size):
        """With full batches, grouping by length never increases the pad fraction.

        (With a smaller last batch it can: [2, 2, 1] in batches of 2 wastes nothing, sorted
        [1, 2, 2] wastes one slot.)
        """
        lengths = lengths[: len(lengths) - len(lengths) % batch_size]
        assume(lengths)
        plain = padding_waste(lengths, batch_size).pad_fraction
        assert padding_waste(lengths, batch_size, sort_by_length=True).pad_fraction <= plain + 1e-12

    def test_sorting_can_waste_more_with_a_partial_last_batch(self):
        """The counterexample above: sorting is not optimal when the last batch is smaller."""
        assert padding_waste([2, 2, 1], 2).pad_fraction == 0
        assert padding_waste([2, 2, 1], 2, sort_by_length=True).pad_fraction > 0

    def test_equal_lengths_waste_nothing_and_multiple_rounds_up(self):
        """Equal lengths give 0 waste; pad_to_multiple_of=8 pads length 5 to 8."""
        assert padding_waste([5, 5, 5], 3).pad_fraction == 0
        assert padding_waste([5, 5, 5], 3, pad_to_multiple_of=8).padded_tokens == 24

    @pytest.mark.parametrize(
        ("kwargs", "error", "name"),
        [
            ({"lengths": [], "batch_size": 2}, ValueError, "lengths"),
            ({"lengths": [3, 0], "batch_size": 2}, ValueError, "lengths"),
            ({"lengths": [3, 2.5], "batch_size": 2}, TypeError, "lengths"),
            ({"lengths": "abc", "batch_size": 2}, TypeError, "lengths"),
            ({"lengths": [3], "batch_size": 0}, ValueError, "batch_size"),
            (
                {"lengths": [3], "batch_size": 1, "pad_to_multiple_of": 0},
                ValueError,
                "pad_to_multiple_of",
            ),
        ],
    )
    def test_bad_input_raises(self, kwargs, error, name):
        """Empty or non-positive lengths and sizes < 1 raise ValueError, wrong types TypeError."""
        with pytest.raises(error, match=name):
            padding_waste(**kwargs)


class TestPackedBatch:
    @given(lengths=st.lists(st.integers(1, 10), min_size=1, max_size=6))
    def test_layout(self, lengths):
        """One row; ids concatenated; positions restart per example; first label of each is -100."""
        examples = [list(range(10 + i, 10 + i + n)) for i, n in enumerate(lengths)]
        batch = packed_batch(examples)
        total = sum(lengths)
        assert (
            batch["input_ids"].shape
            == batch["labels"].shape
            == batch["position_ids"].shape
            == (1, total)
        )
        assert batch["input_ids"][0].tolist() == [i for ex in examples for i in ex]
        assert batch["position_ids"][0].tolist() == [p for n in lengths for p in range(n)]
        expected_labels = [label for ex in examples for label in [-100, *ex[1:]]]
        assert batch["labels"][0].tolist() == expected_labels

    def test_rejects_empty_example(self):
        """An empty example raises ValueError naming examples (the collator would drop it)."""
        with pytest.raises(ValueError, match="examples"):
            packed_batch([[5, 6], []])


class TestPaddedBatch:
    def test_right_padding_and_labels(self):
        """Pads go on the right, mask is 0 there, and pad labels are -100."""
        batch = padded_batch([[5, 6], [7, 8, 9, 10]], pad_token_id=0)
        assert batch["attention_mask"].tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
        assert batch["labels"][0].tolist() == [5, 6, -100, -100]


class TestPackedCausalMask:
    @given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5))
    @settings(deadline=None)
    def test_matches_create_causal_mask_from_position_ids(self, lengths):
        """Equals create_causal_mask's mask from packed position_ids (no attention_mask)."""
        position_ids = torch.tensor([[p for n in lengths for p in range(n)]])
        config = LlamaConfig(hidden_size=32, num_attention_heads=2, attn_implementation="sdpa")
        embeds = torch.zeros(1, position_ids.shape[1], 32)
        # lmnotes.compat calls transformers' create_causal_mask with this release's arguments.
        expected = create_causal_mask(config, embeds, None, position_ids=position_ids)
        ours = packed_causal_mask(position_ids)
        if expected is None:  # one example: plain causal, SDPA uses is_causal
            assert len(lengths) == 1
            expected = causal_mask(sum(lengths))[None, None]
        assert torch.equal(ours, expected)

    @given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5))
    def test_is_block_diagonal_causal(self, lengths):
        """(i, j) allowed iff j <= i and both tokens belong to the same example."""
        owner = [k for k, n in enumerate(lengths) for _ in range(n)]
        position_ids = torch.tensor([[p for n in lengths for p in range(n)]])
        mask = packed_causal_mask(position_ids)[0, 0]
        for i in range(len(owner)):
            for j in range(len(owner)):
                assert bool(mask[i, j]) == (j <= i and owner[i] == owner[j])

    @pytest.mark.parametrize(
        ("bad", "error"),
        [
            (torch.tensor([0, 1, 2]), ValueError),
            (torch.tensor([[0.0, 1.0]]), ValueError),
            (torch.zeros(1, 0, dtype=torch.long), ValueError),
            ([[0, 1]], TypeError),
        ],
    )
    def test_bad_input_raises(self, bad, error):
        """Bad ndim, float dtype, length 0: ValueError; a list: TypeError; both name it."""
        with pytest.raises(error, match="position_ids"):
            packed_causal_mask(bad)


class TestPackedVsPaddedLoss:
    @pytest.mark.parametrize("build", [tiny_llama, tiny_gpt2])
    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    def test_packing_keeps_the_loss(self, build, impl):
        """Packed (position ids or explicit 4D mask) and padded losses agree to float precision."""
        result = packed_vs_padded_loss(model=build(attn_implementation=impl))
        assert result.packed == pytest.approx(result.padded, abs=1e-5)
        assert result.packed_explicit_mask == pytest.approx(result.padded, abs=1e-5)

    @pytest.mark.parametrize("build", [tiny_llama, tiny_gpt2])
    def test_without_separation_the_loss_changes(self, build):
        """With use_cache=True or no position ids, examples see each other and the loss moves."""
        result = packed_vs_padded_loss(model=build())
        assert abs(result.packed_use_cache - result.padded) > 1e-3
        assert abs(result.packed_without_position_ids - result.padded) > 1e-3

    def test_custom_examples_and_determinism(self):
        """Given examples work, and the result is identical on a second call."""
        examples = [[5, 6, 7, 8], [9, 10], [11, 12, 13]]
        first = packed_vs_padded_loss(examples=examples, seed=3)
        assert first == packed_vs_padded_loss(examples=examples, seed=3)
        assert first.packed == pytest.approx(first.padded, abs=1e-5)


class TestTrainerPackingLoss:
    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    def test_the_cache_decides(self, impl):
        """The Trainer's packed loss equals the padded one exactly when the model uses no cache;
        with config.use_cache=False set by hand it always does."""
        result = trainer_packing_loss(tiny_llama(attn_implementation=impl))
        reference = packed_vs_padded_loss(tiny_llama(attn_implementation=impl))
        assert result.padded == pytest.approx(reference.padded, abs=1e-6)
        assert result.packed_config_no_cache == pytest.approx(result.padded, abs=1e-5)
        expected = reference.packed_use_cache if result.config_use_cache else reference.packed
        assert result.packed == pytest.approx(expected, abs=1e-5)

    def test_training_arguments_default_is_reported(self):
        """training_args_use_cache is the dataclass default, or None where the field is absent."""
        from transformers import TrainingArguments

        field = TrainingArguments.__dataclass_fields__.get("use_cache")
        result = trainer_packing_loss(examples=[[5, 6, 7], [8, 9]])
        assert result.training_args_use_cache == (None if field is None else field.default)
        if field is not None:
            assert result.config_use_cache == field.default

    def test_rejects_empty_example(self):
        """An empty example is a ValueError."""
        with pytest.raises(ValueError):
            trainer_packing_loss(examples=[[5, 6], []])


class TestSyntheticLengths:
    def test_range_median_and_determinism(self):
        """Lengths lie in 1..max_length, the median is near the requested one, a seed repeats."""
        lengths = synthetic_lengths(n=4000, median=100, sigma=0.5, max_length=300, seed=4)
        assert min(lengths) >= 1 and max(lengths) <= 300
        assert sorted(lengths)[2000] == pytest.approx(100, rel=0.1)
        assert lengths == synthetic_lengths(n=4000, median=100, sigma=0.5, max_length=300, seed=4)
        assert lengths != synthetic_lengths(n=4000, median=100, sigma=0.5, max_length=300, seed=5)

    def test_right_skewed(self):
        """Log-normal lengths are right-skewed: the mean exceeds the median."""
        lengths = synthetic_lengths(n=4000, max_length=10_000)
        assert sum(lengths) / len(lengths) > sorted(lengths)[2000]

    @pytest.mark.parametrize(
        ("kwargs", "error", "name"),
        [
            ({"n": 0}, ValueError, "n"),
            ({"median": 0}, ValueError, "median"),
            ({"max_length": 0}, ValueError, "max_length"),
            ({"sigma": 0.0}, ValueError, "sigma"),
            ({"sigma": "wide"}, TypeError, "sigma"),
            ({"seed": -1}, ValueError, "seed"),
            ({"n": 2.5}, TypeError, "n"),
        ],
    )
    def test_bad_input_raises(self, kwargs, error, name):
        """Sizes < 1, sigma <= 0 or a negative seed raise ValueError, wrong types TypeError."""
        with pytest.raises(error, match=name):
            synthetic_lengths(**kwargs)


class TestAttentionCost:
    @given(lengths=lengths_strategy, batch_size=st.integers(1, 8))
    def test_counts_match_the_tensors_each_layout_builds(self, lengths, batch_size):
        """Slots and scores are the sizes of padded batches, packed masks, per-example squares."""
        cost = attention_cost(lengths, batch_size)
        slots = scores = dense = 0
        for start in range(0, len(lengths), batch_size):
            chunk = lengths[start : start + batch_size]
            padded = padded_batch([[5] * n for n in chunk], pad_token_id=0)["input_ids"]
            slots += padded.numel()
            scores += padded.shape[0] * padded.shape[1] ** 2
            position_ids = torch.tensor([[p for n in chunk for p in range(n)]])
            dense += packed_causal_mask(position_ids).numel()
        assert cost.real_tokens == sum(lengths)
        assert cost.padded_slots == slots == padding_waste(lengths, batch_size).padded_tokens
        assert (cost.padded_scores, cost.packed_dense_scores) == (scores, dense)
        assert cost.varlen_scores == sum(n * n for n in lengths)

    @given(lengths=lengths_strategy, batch_size=st.integers(1, 8))
    def test_varlen_never_computes_more(self, lengths, batch_size):
        """The per-example squares are never more than either dense layout computes."""
        cost = attention_cost(lengths, batch_size)
        assert cost.varlen_scores <= min(cost.padded_scores, cost.packed_dense_scores)

    def test_the_page_claims_on_its_sample(self):
        """notes/packing's 64 synthetic lengths: dense packed attention costs more than padding
        at 32 per row; varlen under a quarter of padding at 8."""
        sample = synthetic_lengths()[:64]
        c8, c32 = attention_cost(sample, 8), attention_cost(sample, 32)
        assert c32.packed_dense_scores > c32.padded_scores
        assert c8.varlen_scores < c8.padded_scores / 4

    def test_bad_input_raises(self):
        """Empty lengths or batch_size < 1 raise ValueError naming them."""
        with pytest.raises(ValueError, match="lengths"):
            attention_cost([], 2)
        with pytest.raises(ValueError, match="batch_size"):
            attention_cost([3], 0)
