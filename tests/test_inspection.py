"""Tests for lmnotes.inspection: the masks and attention inputs transformers builds, captured."""

from __future__ import annotations

import pytest
import torch

from lmnotes.attention import scaled_dot_product_attention
from lmnotes.compat import TRANSFORMERS_VERSION
from lmnotes.inspection import (
    capture_attention_mask,
    cross_attention_tensors,
    transformers_causal_mask,
    transformers_cross_attention_mask,
)
from lmnotes.masks import cross_attention_mask, to_additive
from lmnotes.tiny import tiny_bart, tiny_bert, tiny_gpt2

# Float32 rounding noise on logits of size ~1 is ~1e-7; a real effect is many orders larger.
NOISE = 1e-5
EFFECT = 1e-2


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
