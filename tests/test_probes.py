"""Tests for lmnotes.probes: the evidence the pages print must hold and be reproducible."""

from __future__ import annotations

import pytest
import torch
from transformers import BartForConditionalGeneration

from lmnotes.attention import scaled_dot_product_attention
from lmnotes.compat import TRANSFORMERS_VERSION
from lmnotes.masks import cross_attention_mask, to_additive
from lmnotes.probes import (
    capture_attention_mask,
    causality_probe,
    cross_attention_probe,
    cross_attention_tensors,
    future_token_effect,
    padding_probe,
    position_ids_from_attention_mask,
    tiny_bart,
    tiny_bert,
    tiny_gpt2,
    tiny_llama,
    transformers_causal_mask,
    transformers_cross_attention_mask,
)

# Float32 rounding noise on logits of size ~1 is ~1e-7; a real effect is many orders larger.
NOISE = 1e-5
EFFECT = 1e-2


class TestTinyModels:
    @pytest.mark.parametrize("build", [tiny_gpt2, tiny_bert, tiny_bart, tiny_llama])
    def test_same_seed_same_weights(self, build):
        """Two builds with one seed have equal weights; another seed gives other weights."""
        a, b, c = build(seed=3), build(seed=3), build(seed=4)
        pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)

    @pytest.mark.parametrize("build", [tiny_gpt2, tiny_bert, tiny_bart, tiny_llama])
    def test_tiny_and_in_eval_mode(self, build):
        """Models are in eval mode (no dropout) and have fewer than 100k parameters."""
        model = build()
        assert not model.training
        assert sum(p.numel() for p in model.parameters()) < 100_000

    def test_caller_rng_untouched(self):
        """Building a tiny model does not change the caller's global torch RNG stream."""
        torch.manual_seed(123)
        expected = torch.rand(3)
        torch.manual_seed(123)
        tiny_gpt2(seed=0)
        assert torch.equal(torch.rand(3), expected)

    def test_bad_seed_raises(self):
        """A non-int seed raises TypeError naming seed."""
        with pytest.raises(TypeError, match="seed"):
            tiny_gpt2(seed=0.5)


class TestPositionIds:
    def test_left_padding_starts_text_at_zero(self):
        """With left padding the first real token gets position 0 and the rest count up."""
        mask = torch.tensor([[0, 0, 1, 1, 1]])
        assert position_ids_from_attention_mask(mask)[0, 2:].tolist() == [0, 1, 2]

    def test_no_padding_is_arange(self):
        """Without padding the position ids are 0 .. T-1."""
        assert torch.equal(
            position_ids_from_attention_mask(torch.ones(2, 6, dtype=torch.long))[1], torch.arange(6)
        )

    def test_bad_input_raises(self):
        """A 1D mask raises ValueError naming attention_mask."""
        with pytest.raises(ValueError, match="attention_mask"):
            position_ids_from_attention_mask(torch.ones(4))


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


class TestCaptureAttentionMask:
    def test_captures_what_the_module_receives(self):
        """The captured GPT-2 eager mask is 0 on allowed pairs and finfo.min on padded keys."""
        model = tiny_gpt2()
        mask = capture_attention_mask(
            model,
            model.transformer.h[1].attn,
            input_ids=torch.tensor([[5, 6, 7]]),
            attention_mask=torch.tensor([[1, 1, 0]]),
        )
        assert mask.shape == (1, 1, 3, 3)
        assert bool((mask[0, 0, :, 2] == torch.finfo(torch.float32).min).all())
        assert mask[0, 0, 1, 0] == 0

    def test_foreign_module_raises(self):
        """A module that is not part of the model raises ValueError naming module."""
        with pytest.raises(ValueError, match="module"):
            capture_attention_mask(
                tiny_gpt2(),
                tiny_bert().bert.encoder.layer[0].attention.self,
                input_ids=torch.ones(1, 2),
            )

    def test_module_without_mask_argument_raises(self):
        """A module without an attention_mask argument raises ValueError naming it."""
        model = tiny_gpt2()
        with pytest.raises(ValueError, match="attention_mask"):
            capture_attention_mask(model, model.lm_head, input_ids=torch.tensor([[5, 6]]))


class TestTransformersMasks:
    def test_bad_attn_implementation_raises(self):
        """An unknown attention implementation raises ValueError naming attn_implementation."""
        with pytest.raises(ValueError, match="attn_implementation"):
            transformers_causal_mask(torch.ones(1, 3, dtype=torch.long), "flash")

    def test_cross_mask_bad_tgt_len_raises(self):
        """tgt_len = 0 raises ValueError naming tgt_len."""
        with pytest.raises(ValueError, match="tgt_len"):
            transformers_cross_attention_mask(torch.ones(1, 3, dtype=torch.long), 0)

    def test_eager_mask_dtype_follows_embeddings(self):
        """The eager causal mask takes the dtype of the inputs and its finfo.min."""
        mask = transformers_causal_mask(torch.tensor([[1, 1, 0]]), "eager", torch.float16)
        assert mask.dtype == torch.float16 and mask.min() == torch.finfo(torch.float16).min


def _seq2seq_batch():
    """Two sources (one right-padded with BART's pad id 1) and two decoder inputs."""
    src_mask = torch.tensor([[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]])
    src = torch.randint(3, 100, (2, 7), generator=torch.Generator().manual_seed(0))
    tgt = torch.randint(3, 100, (2, 5), generator=torch.Generator().manual_seed(1))
    return {
        "input_ids": src.masked_fill(src_mask == 0, 1),
        "attention_mask": src_mask,
        "decoder_input_ids": tgt,
    }


class TestCrossAttentionTensors:
    @pytest.mark.parametrize("layer", [0, 1])
    def test_keys_and_values_come_from_the_encoder_output(self, layer):
        """k_proj and v_proj receive the encoder's last hidden state itself, in every layer."""
        t = cross_attention_tensors(tiny_bart(), layer, **_seq2seq_batch())
        assert torch.equal(t.key_input, t.encoder_output)
        assert torch.equal(t.value_input, t.encoder_output)

    def test_queries_come_from_the_decoder(self):
        """q_proj gets one row per decoder position; keys and values one per source position."""
        batch = _seq2seq_batch()
        t = cross_attention_tensors(tiny_bart(), **batch)
        tgt_len, src_len = batch["decoder_input_ids"].shape[1], batch["input_ids"].shape[1]
        assert t.query_input.shape[:2] == (2, tgt_len)
        assert t.query.shape[:3] == (2, 2, tgt_len) and t.key.shape[:3] == (2, 2, src_len)
        assert t.weights.shape == (2, 2, tgt_len, src_len)

    @pytest.mark.parametrize("layer", [0, 1])
    def test_reference_attention_reproduces_the_layer(self, layer):
        """Reference SDPA on the captured q, k, v and cross_attention_mask gives BART's numbers."""
        batch = _seq2seq_batch()
        t = cross_attention_tensors(tiny_bart(), layer, **batch)
        mask = cross_attention_mask(batch["attention_mask"], batch["decoder_input_ids"].shape[1])
        out, weights = scaled_dot_product_attention(t.query, t.key, t.value, mask)
        assert torch.allclose(weights, t.weights, atol=1e-6)
        assert torch.allclose(out.transpose(1, 2).flatten(2), t.output, atol=1e-6)
        assert torch.equal(t.mask, to_additive(mask))
        assert t.scaling == pytest.approx(t.query.shape[-1] ** -0.5)

    def test_sdpa_model_gives_boolean_mask_and_no_weights(self):
        """Under SDPA the layer receives the boolean mask (additive before transformers 5.0)
        and returns no weights."""
        batch = _seq2seq_batch()
        t = cross_attention_tensors(tiny_bart(attn_implementation="sdpa"), **batch)
        assert t.weights is None and t.shapes()["weights"] is None
        expected = cross_attention_mask(batch["attention_mask"], 5)
        if TRANSFORMERS_VERSION.major < 5:
            expected = to_additive(expected)
        assert torch.equal(t.mask, expected)

    def test_bad_model_or_layer_raises(self):
        """A decoder-only model or a layer index out of range raises ValueError naming it."""
        with pytest.raises(ValueError, match="encoder_attn"):
            cross_attention_tensors(tiny_gpt2(), input_ids=torch.tensor([[5, 6]]))
        with pytest.raises(ValueError, match="layer"):
            cross_attention_tensors(tiny_bart(), 2, **_seq2seq_batch())


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
