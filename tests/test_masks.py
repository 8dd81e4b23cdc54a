"""Tests for lmnotes.masks, checked against the masks transformers builds itself."""

from __future__ import annotations

import inspect

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers.masking_utils import sdpa_mask

from lmnotes.compat import TRANSFORMERS_VERSION
from lmnotes.inspection import (
    capture_attention_mask,
    transformers_causal_mask,
    transformers_cross_attention_mask,
)
from lmnotes.masks import (
    causal_mask,
    causal_padding_mask,
    cross_attention_mask,
    padding_mask,
    position_ids_from_attention_mask,
    to_additive,
)
from lmnotes.tiny import tiny_bert, tiny_gpt2, tiny_llama

FLOAT_DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


@pytest.fixture(scope="module")
def gpt2_models():
    """One tiny GPT-2 per attention implementation, shared by the tests of this module."""
    return {impl: tiny_gpt2(attn_implementation=impl) for impl in ("eager", "sdpa")}


@st.composite
def attention_masks(draw, max_batch: int = 3, max_len: int = 8) -> torch.Tensor:
    """Random 2D 0/1 int64 masks; at least one real token per row, padding anywhere."""
    batch = draw(st.integers(1, max_batch))
    length = draw(st.integers(1, max_len))
    rows = []
    for _ in range(batch):
        row = draw(st.lists(st.integers(0, 1), min_size=length, max_size=length))
        row[draw(st.integers(0, length - 1))] = 1
        rows.append(row)
    return torch.tensor(rows, dtype=torch.long)


@st.composite
def padded_masks(draw, max_batch: int = 3, max_len: int = 8) -> torch.Tensor:
    """Random masks of left- or right-padded rows (each row: some pads on one side)."""
    batch = draw(st.integers(1, max_batch))
    length = draw(st.integers(1, max_len))
    left = draw(st.booleans())
    mask = torch.zeros(batch, length, dtype=torch.long)
    for b in range(batch):
        n_real = draw(st.integers(1, length))
        if left:
            mask[b, length - n_real :] = 1
        else:
            mask[b, :n_real] = 1
    return mask


class TestCausalMask:
    @given(q_len=st.integers(1, 10), extra=st.integers(0, 10))
    def test_matches_definition(self, q_len, extra):
        """(i, j) is True iff key j is not after query i's position i + k_len - q_len."""
        k_len = q_len + extra
        mask = causal_mask(q_len, k_len)
        assert mask.shape == (q_len, k_len) and mask.dtype == torch.bool
        for i in range(q_len):
            for j in range(k_len):
                assert bool(mask[i, j]) == (j <= i + extra)

    @given(q_len=st.integers(1, 10), extra=st.integers(0, 10))
    def test_matches_transformers_sdpa_mask_with_offset(self, q_len, extra):
        """Equals transformers' sdpa_mask when queries start after `extra` cached positions."""
        k_len = q_len + extra
        # transformers 4.x takes the query positions (cache_position), 5.x a length and offset.
        if "q_length" in inspect.signature(sdpa_mask).parameters:
            queries = {"q_length": q_len, "q_offset": extra}
        else:
            queries = {"cache_position": torch.arange(extra, k_len)}
        expected = sdpa_mask(batch_size=1, kv_length=k_len, allow_is_causal_skip=False, **queries)
        assert torch.equal(causal_mask(q_len, k_len), expected[0, 0])

    def test_matches_mask_llama_receives_with_kv_cache(self):
        """3 cached + 2 new tokens: Llama's attention gets to_additive(causal_mask(2, 5))."""
        model = tiny_llama(attn_implementation="eager")
        ids = torch.tensor([[5, 6, 7, 8, 9]])
        with torch.no_grad():
            out = model(input_ids=ids[:, :3], use_cache=True)
        # transformers 5 renamed past_key_values to cache (the old name is deprecated).
        name = "cache" if "cache" in out else "past_key_values"
        received = capture_attention_mask(
            model, model.model.layers[0].self_attn, input_ids=ids[:, 3:], **{name: out[name]}
        )
        assert torch.equal(received[0, 0], to_additive(causal_mask(2, 5), torch.float32))

    def test_default_k_len_is_square(self):
        """Without k_len the mask is square and lower-triangular."""
        assert torch.equal(causal_mask(4), torch.ones(4, 4).tril().bool())

    @pytest.mark.parametrize(
        ("args", "name"),
        [((0,), "q_len"), ((-1,), "q_len"), ((3, 2), "k_len"), ((3, 0), "k_len")],
    )
    def test_bad_lengths_raise(self, args, name):
        """Non-positive lengths or k_len < q_len raise ValueError naming the argument."""
        with pytest.raises(ValueError, match=name):
            causal_mask(*args)

    @pytest.mark.parametrize(
        ("args", "name"), [((2.0,), "q_len"), ((True,), "q_len"), ((2, "4"), "k_len")]
    )
    def test_non_int_lengths_raise_type_error(self, args, name):
        """Non-int lengths (float, bool, str) raise TypeError naming the argument."""
        with pytest.raises(TypeError, match=name):
            causal_mask(*args)


class TestPaddingMask:
    @given(mask=attention_masks())
    def test_shape_and_values(self, mask):
        """Shape (B, 1, 1, K); entry is True exactly for real keys."""
        out = padding_mask(mask)
        assert out.shape == (mask.shape[0], 1, 1, mask.shape[1]) and out.dtype == torch.bool
        assert torch.equal(out[:, 0, 0], mask == 1)

    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    def test_matches_mask_bert_receives(self, impl):
        """BERT's self-attention gets padding_mask broadcast to (B, 1, T, T); additive if eager.

        Before transformers 5.0 the eager mask is (B, 1, 1, T), and SDPA's is additive too.
        """
        model = tiny_bert(attn_implementation=impl)
        mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
        ids = torch.randint(3, 100, mask.shape, generator=torch.Generator().manual_seed(0))
        received = capture_attention_mask(
            model, model.bert.encoder.layer[0].attention.self, input_ids=ids, attention_mask=mask
        )
        expected = padding_mask(mask).expand(3, 1, 5, 5)
        if impl == "eager" or TRANSFORMERS_VERSION.major < 5:
            expected = to_additive(expected, torch.float32)
        if TRANSFORMERS_VERSION.major < 5:  # eager: (B, 1, 1, T), broadcast over queries
            received = received.expand(3, 1, 5, 5)
        assert torch.equal(received, expected)

    def test_accepts_bool(self):
        """A bool mask gives the same result as the 0/1 int mask."""
        mask = torch.tensor([[1, 0, 1]])
        assert torch.equal(padding_mask(mask.bool()), padding_mask(mask))

    @pytest.mark.parametrize(
        "bad",
        [
            torch.ones(3, dtype=torch.long),
            torch.ones(1, 2, 3, dtype=torch.long),
            torch.ones(2, 3),
            torch.tensor([[1, 2]]),
            torch.ones(2, 0, dtype=torch.long),
        ],
    )
    def test_bad_input_raises(self, bad):
        """Wrong ndim, float dtype, values not 0/1 or length 0 raise ValueError naming it."""
        with pytest.raises(ValueError, match="attention_mask"):
            padding_mask(bad)

    def test_non_tensor_raises_type_error(self):
        """A nested list instead of a tensor raises TypeError naming attention_mask."""
        with pytest.raises(TypeError, match="attention_mask"):
            padding_mask([[1, 0]])


class TestCausalPaddingMask:
    @given(mask=attention_masks())
    @settings(max_examples=60, deadline=None)
    def test_matches_create_causal_mask_eager(self, mask):
        """to_additive(causal_padding_mask) equals create_causal_mask's eager mask, bit for bit."""
        expected = transformers_causal_mask(mask, "eager", torch.float32)
        assert torch.equal(to_additive(causal_padding_mask(mask), torch.float32), expected)

    @given(mask=attention_masks())
    @settings(max_examples=60, deadline=None)
    def test_matches_create_causal_mask_sdpa(self, mask):
        """Equals create_causal_mask's SDPA mask; if that is None (no padding) ours is causal."""
        expected = transformers_causal_mask(mask, "sdpa")
        ours = causal_padding_mask(mask)
        if expected is None:
            assert bool(mask.all())
            assert torch.equal(ours, causal_mask(mask.shape[1]).expand_as(ours))
        else:
            assert torch.equal(ours, expected)

    @pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
    def test_matches_create_causal_mask_half(self, dtype):
        """In half precision the eager mask uses finfo(dtype).min, as to_additive does."""
        mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 0]])
        assert torch.equal(
            to_additive(causal_padding_mask(mask), dtype),
            transformers_causal_mask(mask, "eager", dtype),
        )

    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    @given(mask=padded_masks())
    @settings(max_examples=15, deadline=None)
    def test_matches_mask_gpt2_receives(self, gpt2_models, impl, mask):
        """GPT-2's attention layer receives this mask in a forward pass (left or right padding)."""
        model = gpt2_models[impl]
        ids = torch.randint(3, 100, mask.shape, generator=torch.Generator().manual_seed(1))
        received = capture_attention_mask(
            model, model.transformer.h[0].attn, input_ids=ids, attention_mask=mask
        )
        ours = causal_padding_mask(mask)
        if impl == "eager":
            assert torch.equal(received, to_additive(ours, torch.float32))
        elif received is None:  # SDPA with is_causal=True
            assert bool(mask.all())
        else:
            assert torch.equal(received, ours)

    def test_left_padding_gives_empty_rows(self):
        """With left padding, the pad query rows see nothing, and real rows never see a pad key."""
        out = causal_padding_mask(torch.tensor([[0, 0, 1, 1]]))[0, 0]
        assert not bool(out[:2].any())
        assert not bool(out[:, :2].any())

    def test_bad_input_raises(self):
        """A 3D mask raises ValueError naming attention_mask."""
        with pytest.raises(ValueError, match="attention_mask"):
            causal_padding_mask(torch.ones(1, 1, 3, dtype=torch.long))


class TestCrossAttentionMask:
    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    @pytest.mark.parametrize(
        ("encoder_mask", "tgt_len"),
        [
            ([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], 3),
            ([[1, 1, 0]], 6),
            ([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]], 1),
        ],
    )
    def test_matches_mask_bart_decoder_receives(self, impl, encoder_mask, tgt_len):
        """BART's decoder cross-attention gets cross_attention_mask (additive under eager,
        and under SDPA too before transformers 5.0)."""
        encoder_mask = torch.tensor(encoder_mask)
        received = transformers_cross_attention_mask(encoder_mask, tgt_len, impl)
        ours = cross_attention_mask(encoder_mask, tgt_len)
        additive = impl == "eager" or TRANSFORMERS_VERSION.major < 5
        expected = to_additive(ours, torch.float32) if additive else ours
        assert torch.equal(received, expected)

    def test_sdpa_without_padding_gets_no_mask(self):
        """Without encoder padding BART's SDPA cross-attention gets None; ours allows all."""
        encoder_mask = torch.ones(2, 4, dtype=torch.long)
        assert transformers_cross_attention_mask(encoder_mask, 3, "sdpa") is None
        assert bool(cross_attention_mask(encoder_mask, 3).all())

    @given(mask=attention_masks(), tgt_len=st.integers(1, 8))
    def test_no_causal_part(self, mask, tgt_len):
        """Shape (B, 1, T, S); every decoder row equals the encoder mask (no triangle)."""
        out = cross_attention_mask(mask, tgt_len)
        assert out.shape == (mask.shape[0], 1, tgt_len, mask.shape[1])
        assert torch.equal(out, (mask == 1)[:, None, None, :].expand_as(out))

    @pytest.mark.parametrize(
        ("tgt_len", "error"),
        [(0, ValueError), (-2, ValueError), (1.5, TypeError), (None, TypeError)],
    )
    def test_bad_tgt_len_raises(self, tgt_len, error):
        """tgt_len <= 0 raises ValueError, a non-int TypeError, both naming tgt_len."""
        with pytest.raises(error, match="tgt_len"):
            cross_attention_mask(torch.ones(1, 3, dtype=torch.long), tgt_len)

    def test_bad_encoder_mask_raises(self):
        """A 1D encoder mask raises ValueError naming encoder_attention_mask."""
        with pytest.raises(ValueError, match="encoder_attention_mask"):
            cross_attention_mask(torch.ones(3, dtype=torch.long), 2)


class TestToAdditive:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    def test_zero_where_allowed_min_elsewhere(self, dtype):
        """0 where the mask is True, finfo(dtype).min where False, same shape, requested dtype."""
        mask = torch.tensor([[True, False], [False, True]])
        out = to_additive(mask, dtype)
        assert out.dtype == dtype and out.shape == mask.shape
        assert bool((out[mask] == 0).all())
        assert bool((out[~mask] == torch.finfo(dtype).min).all())

    def test_softmax_of_additive_matches_boolean_masking(self):
        """softmax(scores + to_additive(mask)) equals softmax after -inf masking."""
        scores = torch.randn(4, 4, generator=torch.Generator().manual_seed(0))
        mask = causal_mask(4)
        with_additive = torch.softmax(scores + to_additive(mask), dim=-1)
        with_inf = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        torch.testing.assert_close(with_additive, with_inf, rtol=0, atol=0)

    @pytest.mark.parametrize(
        ("dtype", "error"),
        [
            (torch.int64, ValueError),
            (torch.bool, ValueError),
            ("float32", TypeError),
            (None, TypeError),
        ],
    )
    def test_non_floating_dtype_raises(self, dtype, error):
        """A non-floating dtype raises ValueError, a non-dtype TypeError, both naming dtype."""
        with pytest.raises(error, match="dtype"):
            to_additive(causal_mask(2), dtype)

    @pytest.mark.parametrize(
        ("bad", "error"),
        [
            (torch.ones(2, 2), ValueError),
            (torch.ones(2, 2, dtype=torch.long), ValueError),
            ([[True]], TypeError),
        ],
    )
    def test_non_bool_mask_raises(self, bad, error):
        """A non-bool tensor raises ValueError, a non-tensor TypeError, both naming mask."""
        with pytest.raises(error, match="mask"):
            to_additive(bad, torch.float32)


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

    def test_pads_get_zero_on_either_side(self):
        """Pad positions get 0 with left and right padding; real tokens count from 0."""
        mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 0]])
        assert position_ids_from_attention_mask(mask).tolist() == [[0, 0, 0, 1], [0, 1, 2, 0]]

    def test_not_a_tensor_is_a_type_error(self):
        """A list is refused with TypeError naming attention_mask."""
        with pytest.raises(TypeError, match="attention_mask"):
            position_ids_from_attention_mask([[1, 1]])
