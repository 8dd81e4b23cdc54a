"""Tests for lmnotes.probes: the evidence the pages print must hold and be reproducible."""

from __future__ import annotations

import pytest
import torch
from transformers import BartForConditionalGeneration

from lmnotes.probes import (
    causality_probe,
    cross_attention_probe,
    future_token_effect,
    padding_probe,
)
from lmnotes.tiny import tiny_bart, tiny_gpt2, tiny_llama

# Float32 rounding noise on logits of size ~1 is ~1e-7; a real effect is many orders larger.
NOISE = 1e-5
EFFECT = 1e-2


class TestCausality:
    @pytest.mark.parametrize("seed", [0, 1])
    def test_causal_model_ignores_future(self, seed):
        """GPT-2: outputs before the changed token are bitwise equal; from it on they change."""
        result = causality_probe(seed=seed)["causal"]
        assert result.model == "GPT2LMHeadModel"
        assert result.max_diff_before == 0.0
        assert result.max_diff_from > EFFECT

    @pytest.mark.parametrize("seed", [0, 1])
    def test_bidirectional_model_sees_future(self, seed):
        """In BERT, outputs before the changed token change too, far above rounding noise."""
        result = causality_probe(seed=seed)["bidirectional"]
        assert result.model == "BertForMaskedLM"
        assert result.max_diff_before > EFFECT

    def test_sdpa_gpt2_is_causal_too(self):
        """With SDPA attention GPT-2's earlier outputs are unchanged as well."""
        ids = torch.tensor([[4, 9, 33, 70, 12, 5, 8]])
        result = future_token_effect(tiny_gpt2(attn_implementation="sdpa"), ids, position=4)
        assert result.max_diff_before < NOISE < EFFECT < result.max_diff_from

    def test_deterministic(self):
        """Two calls with the same seed return identical numbers."""
        assert causality_probe(seed=2) == causality_probe(seed=2)

    @pytest.mark.parametrize(
        ("position", "error"),
        [(0, ValueError), (6, ValueError), (-1, ValueError), (2.0, TypeError)],
    )
    def test_bad_position_raises(self, position, error):
        """position outside 1 .. seq_len-1: ValueError; non-int: TypeError; both name it."""
        with pytest.raises(error, match="position"):
            future_token_effect(tiny_gpt2(), torch.tensor([[4, 5, 6, 7, 8, 9]]), position)

    def test_same_new_token_raises(self):
        """Replacing a token by itself raises ValueError naming new_token_id."""
        with pytest.raises(ValueError, match="new_token_id"):
            future_token_effect(tiny_gpt2(), torch.tensor([[4, 5, 6]]), 1, new_token_id=5)


class TestPaddingProbe:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_gpt2_padding_invariance(self, seed):
        """Right padding, and left padding with mask + position ids, are invariant; not the rest."""
        result = padding_probe(seed=seed)
        assert result.right_padding < NOISE
        assert result.left_padding_mask_and_positions < NOISE
        assert result.left_padding_no_mask > EFFECT
        assert result.left_padding_mask_default_positions > EFFECT  # learned absolute positions

    def test_rotary_model_needs_no_position_ids(self):
        """Llama (rotary = relative positions): default position ids suffice under the mask."""
        result = padding_probe(model=tiny_llama(), pad_token_id=1)
        assert result.left_padding_mask_default_positions < NOISE
        assert result.left_padding_no_mask > EFFECT

    def test_sdpa_matches_eager_conclusions(self):
        """The same conclusions hold with SDPA attention (boolean masks, fully masked pad rows)."""
        result = padding_probe(model=tiny_gpt2(attn_implementation="sdpa"))
        assert max(result.right_padding, result.left_padding_mask_and_positions) < NOISE
        assert min(result.left_padding_no_mask, result.left_padding_mask_default_positions) > EFFECT

    def test_accepts_list_of_ids_and_is_deterministic(self):
        """A list of ids works, and two runs give identical numbers."""
        model = tiny_gpt2(seed=5)
        first = padding_probe(model=model, input_ids=[7, 8, 9, 10], pad_token_id=0, n_pad=2)
        assert first == padding_probe(model=model, input_ids=[7, 8, 9, 10], pad_token_id=0, n_pad=2)

    @pytest.mark.parametrize(
        ("kwargs", "name"),
        [
            ({"n_pad": 0}, "n_pad"),
            ({"input_ids": [[1, 2], [3, 4]]}, "input_ids"),
            ({"input_ids": []}, "input_ids"),
        ],
    )
    def test_bad_input_raises(self, kwargs, name):
        """n_pad < 1 or input_ids that is not one non-empty sequence raises ValueError naming it."""
        with pytest.raises(ValueError, match=name):
            padding_probe(**kwargs)

    def test_missing_pad_id_raises(self):
        """No pad_token_id given or in the config (nor eos): ValueError naming pad_token_id."""
        model = tiny_gpt2()
        model.config.eos_token_id = None
        with pytest.raises(ValueError, match="pad_token_id"):
            padding_probe(model=model)


class TestCrossAttentionProbe:
    @pytest.mark.parametrize("seed", [0, 1])
    def test_masked_encoder_padding_is_invisible(self, seed):
        """With the mask, decoder outputs stay when the source grows padding; without, they move."""
        result = cross_attention_probe(seed=seed)
        assert result.padded_with_mask < NOISE
        assert result.cross_attention_mask_dropped > EFFECT
        assert result.padded_without_mask > EFFECT

    def test_accepts_conditional_generation_model(self):
        """BartForConditionalGeneration works, with the same numbers as its BartModel weights."""
        base = tiny_bart()
        with torch.random.fork_rng(devices=[]):
            model = BartForConditionalGeneration(base.config).eval()
        model.model.load_state_dict(base.state_dict())
        assert cross_attention_probe(model=model) == cross_attention_probe(model=base)

    @pytest.mark.parametrize("name", ["src_len", "tgt_len", "n_pad"])
    def test_bad_lengths_raise(self, name):
        """A length below 1 raises ValueError naming it."""
        with pytest.raises(ValueError, match=name):
            cross_attention_probe(**{name: 0})


class TestPaddingLossProbe:
    @pytest.mark.parametrize("seed", [0, 1])
    def test_right_padding_jobs(self, seed):
        """Right padding: the collated loss equals the unpadded one, with or without the mask;
        counting the pads as targets changes it."""
        from lmnotes.probes import padding_loss_probe

        result = padding_loss_probe(seed=seed)
        assert abs(result.collated - result.unpadded) < NOISE
        assert abs(result.no_attention_mask - result.unpadded) < NOISE
        assert abs(result.pads_as_targets - result.unpadded) > EFFECT
        assert result.targets_collated == result.targets_unpadded

    def test_left_padding_adds_one_target_per_padded_row(self):
        """Left padding: the first real token of each padded row becomes an extra target,
        and dropping the mask lets real tokens see the pads."""
        from lmnotes.probes import padding_loss_probe

        seqs = [[4, 5, 6, 7, 8, 9], [10, 11, 12], [13, 14, 15, 16]]
        result = padding_loss_probe(model=tiny_llama(), sequences=seqs, padding_side="left")
        assert result.targets_unpadded == 5 + 2 + 3
        assert result.targets_collated == result.targets_unpadded + 2
        assert abs(result.collated - result.unpadded) > EFFECT
        assert abs(result.no_attention_mask - result.collated) > 100 * NOISE

    def test_pad_id_equal_to_a_real_token_is_harmless(self):
        """Labels come from the mask: a pad id that also occurs as a real token changes nothing."""
        from lmnotes.probes import padding_loss_probe

        seqs = [[4, 5, 6, 7, 8], [9, 4, 10]]
        result = padding_loss_probe(sequences=seqs, pad_token_id=4)
        assert abs(result.collated - result.unpadded) < NOISE

    @pytest.mark.parametrize(
        ("kwargs", "error", "name"),
        [
            ({"padding_side": "middle"}, ValueError, "padding_side"),
            ({"sequences": [[4, 5, 6]]}, ValueError, "sequences"),
            ({"sequences": [[4, 5], [6, 7]]}, ValueError, "sequences"),
            ({"sequences": [[4], [5, 6, 7]]}, ValueError, "sequences"),
            ({"sequences": [[4, 5.0], [5, 6, 7]]}, TypeError, "sequences"),
            ({"seed": "0"}, TypeError, "seed"),
        ],
    )
    def test_bad_input_raises(self, kwargs, error, name):
        """Bad padding_side, sequences or seed raise an error naming the argument."""
        from lmnotes.probes import padding_loss_probe

        with pytest.raises(error, match=name):
            padding_loss_probe(**kwargs)
