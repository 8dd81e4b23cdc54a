"""Tests for lmnotes.loss_normalisation: token against example means, accumulation, sums."""

from __future__ import annotations

import math

import pytest
import torch

from lmnotes.clm import next_token_losses
from lmnotes.loss_normalisation import (
    accumulation_gradients,
    summed_loss,
    token_and_example_means,
    trainer_accumulation,
)
from lmnotes.packing import packed_batch, padded_batch
from lmnotes.tiny import random_word_ids, tiny_bert, tiny_llama

NAN = float("nan")
EXAMPLES = [[5, 6, 7], [8, 9, 10], [11] * 12, [12] * 12]


class TestTokenAndExampleMeans:
    def test_means(self):
        """Token mean weighs rows by their scored tokens, example mean equally."""
        result = token_and_example_means(torch.tensor([[1.0, NAN, NAN], [3.0, 3.0, NAN]]))
        assert result.token_mean == pytest.approx(7 / 3)
        assert result.example_mean == pytest.approx(2.0)
        assert [row[3] for row in result.rows] == pytest.approx([1 / 3, 2 / 3])

    def test_token_mean_is_the_model_loss(self):
        """On a tiny Llama, the token mean of next_token_losses is the model's loss."""
        batch = padded_batch(EXAMPLES, pad_token_id=1)
        with torch.no_grad():
            out = tiny_llama()(**batch)
        result = token_and_example_means(next_token_losses(out.logits, batch["labels"]))
        assert result.token_mean == pytest.approx(out.loss.item(), abs=1e-5)
        assert not math.isclose(result.example_mean, result.token_mean, abs_tol=1e-4)

    def test_errors(self):
        """A row without a scored token is a ValueError; a list a TypeError."""
        with pytest.raises(ValueError, match="losses"):
            token_and_example_means(torch.tensor([[1.0], [NAN]]))
        with pytest.raises(TypeError, match="losses"):
            token_and_example_means([[1.0]])


class TestAccumulationGradients:
    def test_num_items_matches_the_full_batch(self):
        """sum / num_items_in_batch gives the full-batch gradient; per-step means do not."""
        result = accumulation_gradients(tiny_llama(), padded_batch(EXAMPLES, 1), steps=2)
        assert result.targets_per_step == (4, 22)
        assert result.error("sum / num_items_in_batch (labels[..., 1:])") < 1e-5
        assert result.error("sum / num_items_in_batch (labels)") == pytest.approx(4 / 30, rel=1e-3)
        assert result.error("mean per step") > 0.1

    def test_equal_micro_batches_agree(self):
        """With the same number of targets per step, the per-step mean is right too."""
        batch = padded_batch([[5, 6, 7, 8]] * 4, 1)
        assert accumulation_gradients(tiny_llama(), batch, steps=2).error("mean per step") < 1e-5

    def test_gradients_are_reset(self):
        """The model has no gradient afterwards."""
        model = tiny_llama()
        accumulation_gradients(model, padded_batch(EXAMPLES, 1), steps=4)
        assert all(p.grad is None for p in model.parameters())

    def test_errors(self):
        """Rows that do not split evenly, or a missing key, are ValueErrors."""
        with pytest.raises(ValueError, match="steps"):
            accumulation_gradients(tiny_llama(), padded_batch(EXAMPLES, 1), steps=3)
        with pytest.raises(ValueError, match="labels"):
            accumulation_gradients(
                tiny_llama(),
                {
                    "input_ids": torch.ones(2, 2, dtype=torch.long),
                    "attention_mask": torch.ones(2, 2),
                },
                steps=1,
            )


class TestSummedLoss:
    def test_padded_equals_packed(self):
        """Padded and padding-free batches give the same sum over the same targets."""
        padded = summed_loss(tiny_llama(), padded_batch(EXAMPLES, 1))
        packed = summed_loss(tiny_llama(), packed_batch(EXAMPLES))
        assert padded.targets == packed.targets == 26
        assert padded.total == pytest.approx(packed.total, rel=1e-5)

    def test_mean_is_the_model_loss(self):
        """total / targets is the model's loss on the padded batch."""
        batch = padded_batch(EXAMPLES, 1)
        with torch.no_grad():
            expected = tiny_llama()(**batch).loss.item()
        assert summed_loss(tiny_llama(), batch).mean == pytest.approx(expected, abs=1e-5)

    def test_errors(self):
        """A batch without labels is a ValueError."""
        with pytest.raises(ValueError, match="labels"):
            summed_loss(tiny_llama(), {"input_ids": torch.ones(1, 2, dtype=torch.long)})


def _bert_batch() -> dict[str, torch.Tensor]:
    """Four rows of 8 tokens: 1, 1, 6 and 6 scored tokens."""
    ids = random_word_ids(8, seed=0, batch=4)
    labels = torch.full_like(ids, -100)
    labels[0, 3], labels[1, 5] = ids[0, 3], ids[1, 5]
    labels[2:, 1:7] = ids[2:, 1:7]
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}


class TestTrainerAccumulation:
    def test_bert_matches_one_of_the_by_hand_gradients(self):
        """BERT's loss ignores num_items_in_batch: the Trainer's gradient is the sum of the
        micro-batch means where it skips its division, else their mean (always without
        model_accepts_loss_kwargs); never the whole batch's. Which one, release by release,
        is the claim trainer-accumulation-bert of the compatibility page."""
        result = trainer_accumulation(tiny_bert(), _bert_batch(), steps=2)
        assert result.model == "BertForMaskedLM"
        assert result.targets_per_step == (2, 12)
        summed = result.error("the sum of the micro-batch means")
        averaged = result.error("the mean of the micro-batch means")
        assert min(summed, averaged) < 1e-6
        if not result.accepts_loss_kwargs:
            assert averaged < 1e-6
        assert result.error("the whole batch") > 0.1

    def test_one_step_is_the_whole_batch(self):
        """Without accumulation, the Trainer's BERT gradient is the whole batch's: the copy is
        taken from the right step, before the optimizer."""
        result = trainer_accumulation(tiny_bert(), _bert_batch(), steps=1)
        assert result.targets_per_step == (14,)
        assert result.error("the whole batch") < 1e-6

    def test_causal_lm_counts_the_shifted_targets(self):
        """A Llama passes num_items_in_batch through its loss: its Trainer gradient is far from
        the sum and from the mean of the micro-batch means."""
        result = trainer_accumulation(tiny_llama(), padded_batch(EXAMPLES, 1), steps=2)
        assert result.accepts_loss_kwargs
        assert result.targets_per_step == (4, 22)
        assert result.error("the sum of the micro-batch means") > 0.1
        assert result.error("the mean of the micro-batch means") > 0.1

    def test_gradients_are_reset_and_dropout_is_off(self):
        """No gradient is left on the model, which is back in eval mode without dropout."""
        model = tiny_bert()
        trainer_accumulation(model, _bert_batch(), steps=2)
        assert all(p.grad is None for p in model.parameters())
        assert not model.training
        assert all(m.p == 0 for m in model.modules() if isinstance(m, torch.nn.Dropout))

    def test_errors(self):
        """Rows that do not split evenly, or a missing key, are ValueErrors."""
        with pytest.raises(ValueError, match="steps"):
            trainer_accumulation(tiny_bert(), _bert_batch(), steps=3)
        with pytest.raises(KeyError, match="no reference"):
            trainer_accumulation(tiny_bert(), _bert_batch(), steps=1).error("nothing")
        with pytest.raises(ValueError, match="attention_mask"):
            trainer_accumulation(
                tiny_bert(), {"input_ids": torch.ones(2, 2, dtype=torch.long)}, steps=1
            )
