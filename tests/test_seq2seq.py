"""Tests for lmnotes.seq2seq: the input-side shift and the unshifted encoder-decoder loss."""

from __future__ import annotations

import pytest
import torch
from transformers import DataCollatorForSeq2Seq
from transformers.models.bart.modeling_bart import shift_tokens_right

from lmnotes.clm import shifted_loss
from lmnotes.seq2seq import decoder_input_ids_from_labels, seq2seq_loss
from lmnotes.tiny import tiny_bart_lm, word_tokenizer

PAIRS = [("w5 w17 w42 w8", "w61 w13 w77"), ("w9 w33", "w24 w50 w86 w71 w40")]


@pytest.fixture(scope="module")
def batch():
    """DataCollatorForSeq2Seq on two pairs whose targets have different lengths."""
    tokenizer = word_tokenizer()
    examples = [{**tokenizer(src), "labels": tokenizer(tgt)["input_ids"]} for src, tgt in PAIRS]
    return DataCollatorForSeq2Seq(tokenizer, model=tiny_bart_lm())(examples)


class TestDecoderInputIdsFromLabels:
    def test_equals_shift_tokens_right(self, batch):
        """Same tensor as transformers' shift_tokens_right and the collator's decoder_input_ids."""
        ours = decoder_input_ids_from_labels(batch["labels"], 1, 2)
        assert torch.equal(ours, shift_tokens_right(batch["labels"], 1, 2))
        assert torch.equal(ours, batch["decoder_input_ids"])

    def test_start_token_then_labels(self):
        """Position 0 is the start token, position i the label i - 1, -100 read as pad."""
        labels = torch.tensor([[7, 8, -100]])
        assert decoder_input_ids_from_labels(labels, 1, 2).tolist() == [[2, 7, 8]]
        assert decoder_input_ids_from_labels(torch.tensor([[7, -100, -100]]), 0, 5).tolist() == [
            [5, 7, 0]
        ]

    def test_labels_not_modified(self):
        """The input tensor is left as it was."""
        labels = torch.tensor([[7, -100]])
        decoder_input_ids_from_labels(labels, 1, 2)
        assert labels.tolist() == [[7, -100]]

    def test_argument_errors(self):
        """A float tensor is a ValueError; a non-int id a TypeError naming the argument."""
        with pytest.raises(ValueError, match="labels"):
            decoder_input_ids_from_labels(torch.zeros(1, 3), 1, 2)
        with pytest.raises(TypeError, match="pad_token_id"):
            decoder_input_ids_from_labels(torch.tensor([[3]]), 1.0, 2)
        with pytest.raises(TypeError, match="decoder_start_token_id"):
            decoder_input_ids_from_labels(torch.tensor([[3]]), 1, None)


class TestSeq2SeqLoss:
    def test_equals_the_model_loss(self, batch):
        """BART's own loss is the unshifted cross-entropy, bit for bit; the CLM shift differs."""
        with torch.no_grad():
            out = tiny_bart_lm()(**batch)
        assert torch.equal(seq2seq_loss(out.logits, batch["labels"]), out.loss)
        assert not torch.isclose(shifted_loss(out.logits, batch["labels"]), out.loss)

    def test_ignored_labels_do_not_count(self):
        """A -100 label leaves the mean over the others; all ignored gives nan."""
        logits = torch.randn(1, 3, 5, generator=torch.Generator().manual_seed(0))
        full = seq2seq_loss(logits[:, :2], torch.tensor([[1, 4]]))
        assert torch.isclose(seq2seq_loss(logits, torch.tensor([[1, 4, -100]])), full)
        assert seq2seq_loss(logits, torch.full((1, 3), -100)).isnan()

    def test_shape_mismatch(self):
        """Labels of another length are a ValueError."""
        with pytest.raises(ValueError, match="labels"):
            seq2seq_loss(torch.zeros(1, 3, 5), torch.tensor([[1, 2]]))
