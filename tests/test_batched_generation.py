"""Tests for lmnotes.batched_generation: left padding, position ids, the right-padding warning."""

from __future__ import annotations

import pytest
import torch
from packaging.version import Version

from lmnotes.batched_generation import (
    batched_vs_alone,
    captured_position_ids,
    padding_warning,
    right_padding_warning,
)
from lmnotes.compat import TRANSFORMERS_VERSION
from lmnotes.masks import position_ids_from_attention_mask
from lmnotes.tiny import tiny_gpt2, tiny_llama, word_tokenizer

PROMPTS = ["w5 w6 w7 w9", "w8", "w10 w11"]


class TestCapturedPositionIds:
    def test_real_tokens_count_from_zero(self):
        """On real tokens the ids are those of lmnotes.masks.position_ids_from_attention_mask."""
        seen = captured_position_ids(tiny_llama(), word_tokenizer(), PROMPTS)
        mask = seen["attention_mask"].bool()
        assert mask[:, -1].all() and not mask[1, 0]  # left padding
        ours = position_ids_from_attention_mask(seen["attention_mask"])
        assert torch.equal(seen["position_ids"][mask], ours[mask])

    def test_padding_side_restored(self):
        """The tokenizer's padding side is what it was before."""
        tokenizer = word_tokenizer()
        captured_position_ids(tiny_llama(), tokenizer, PROMPTS)
        assert tokenizer.padding_side == "right"

    def test_errors(self):
        """A bare string is a TypeError, an empty prompt a ValueError."""
        with pytest.raises(TypeError, match="prompts"):
            captured_position_ids(tiny_llama(), word_tokenizer(), "w5")
        with pytest.raises(ValueError, match="prompts"):
            captured_position_ids(tiny_llama(), word_tokenizer(), ["w5", ""])


class TestBatchedVsAlone:
    def test_same_tokens(self):
        """Left padding: every prompt generates what it generates alone (Llama and GPT-2)."""
        for model in (tiny_llama(), tiny_gpt2()):
            result = batched_vs_alone(model, word_tokenizer(), PROMPTS, max_new_tokens=5)
            assert result.all_equal
            assert [row[1] for row in result.rows] == [0, 3, 2]
            assert result.max_score_diff < 1e-4

    def test_table(self):
        """One line per prompt after the header, 'yes' in the last column."""
        lines = str(batched_vs_alone(tiny_llama(), word_tokenizer(), PROMPTS, 3)).splitlines()
        assert len(lines) == 2 + len(PROMPTS) and all(line.endswith("yes") for line in lines[2:])

    def test_errors(self):
        """max_new_tokens below 1 is a ValueError."""
        with pytest.raises(ValueError, match="max_new_tokens"):
            batched_vs_alone(tiny_llama(), word_tokenizer(), PROMPTS, 0)


class TestRightPaddingWarning:
    def test_warns_on_right_padding_only(self):
        """A right-padded batch is warned about; prompts of one length: no padding, no warning."""
        assert "right-padding" in right_padding_warning(tiny_llama(), word_tokenizer(), PROMPTS)
        assert right_padding_warning(tiny_llama(), word_tokenizer(), ["w5 w6", "w7 w8"]) == ""


class TestPaddingWarning:
    IDS = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 1]])

    def test_zero_in_the_last_column(self):
        """A 0 in the last column of the mask, the pad id in the last column: a warning."""
        mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
        assert "right-padding" in padding_warning(tiny_llama(), self.IDS, mask, 1)

    def test_left_padding_without_pad_at_the_end(self):
        """Left padding and no pad id in the last column: no warning on any release."""
        ids = torch.tensor([[5, 6, 7, 8], [1, 9, 10, 11]])
        mask = torch.tensor([[1, 1, 1, 1], [0, 1, 1, 1]])
        assert padding_warning(tiny_llama(), ids, mask, 1) == ""

    def test_left_padding_ending_with_the_pad_id(self):
        """Left padding, prompts ending with the pad id: 5.x reads the mask (no warning), 4.57
        the last id (a warning)."""
        mask = torch.tensor([[1, 1, 1, 1], [0, 1, 1, 1]])
        warning = padding_warning(tiny_llama(), self.IDS, mask, 1)
        assert (warning == "") == (TRANSFORMERS_VERSION >= Version("5.3.0"))

    def test_pad_token_id_must_be_an_int(self):
        """A float pad id is a TypeError naming the argument."""
        with pytest.raises(TypeError, match="pad_token_id"):
            padding_warning(tiny_llama(), self.IDS, torch.ones_like(self.IDS), 1.0)
