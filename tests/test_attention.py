"""Tests for lmnotes.attention: the reference attention against torch's own SDPA."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lmnotes.attention import (
    MASKINGS,
    empty_row_outcomes,
    overflowing_score,
    scaled_dot_product_attention,
    scaling_effect,
    stacked_attention,
)
from lmnotes.masks import causal_mask, causal_padding_mask, cross_attention_mask, to_additive


@st.composite
def attention_cases(draw, with_mask: bool = True):
    """Random q, k, v (0-2 leading dims, Lq != Lk allowed), bool mask with a True per row."""
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    q_len, k_len = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    d_k, d_v = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    q = torch.randn(*lead, q_len, d_k, generator=generator, dtype=torch.float64)
    k = torch.randn(*lead, k_len, d_k, generator=generator, dtype=torch.float64)
    v = torch.randn(*lead, k_len, d_v, generator=generator, dtype=torch.float64)
    if not with_mask:
        return q, k, v, None
    # The mask may have fewer leading dims than q (it broadcasts).
    mask_lead = lead[draw(st.integers(0, len(lead))) :]
    mask = torch.rand(*mask_lead, q_len, k_len, generator=generator) < draw(st.floats(0.0, 1.0))
    keep = torch.randint(0, k_len, (*mask_lead, q_len, 1), generator=generator)
    mask.scatter_(-1, keep, True)  # every query row can attend to at least one key
    return q, k, v, mask


class TestScaledDotProductAttention:
    @given(case=attention_cases())
    @settings(max_examples=150, deadline=None)
    def test_matches_torch_sdpa_with_random_masks(self, case):
        """Output equals torch's SDPA for any bool mask with a True in every row."""
        q, k, v, mask = case
        output, weights = scaled_dot_product_attention(q, k, v, mask)
        expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        torch.testing.assert_close(output, expected, rtol=1e-9, atol=1e-9)
        assert weights.shape == (
            *torch.broadcast_shapes(q.shape[:-2], k.shape[:-2]),
            q.shape[-2],
            k.shape[-2],
        )

    @given(case=attention_cases(with_mask=False))
    @settings(max_examples=50, deadline=None)
    def test_matches_torch_sdpa_without_mask(self, case):
        """Without a mask the output equals torch's SDPA without a mask."""
        q, k, v, _ = case
        output, _ = scaled_dot_product_attention(q, k, v)
        torch.testing.assert_close(
            output, F.scaled_dot_product_attention(q, k, v), rtol=1e-9, atol=1e-9
        )

    @given(case=attention_cases())
    @settings(max_examples=100, deadline=None)
    def test_weights_are_a_masked_softmax(self, case):
        """Weights: 0 on masked keys, rows sum to 1, = softmax(q k^T / sqrt(d_k) + additive)."""
        q, k, v, mask = case
        _, weights = scaled_dot_product_attention(q, k, v, mask)
        mask = mask.expand_as(weights)
        assert bool((weights[~mask] == 0).all())
        torch.testing.assert_close(
            weights.sum(-1), torch.ones(weights.shape[:-1], dtype=weights.dtype)
        )
        additive = torch.softmax(
            q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) + to_additive(mask, q.dtype), -1
        )
        torch.testing.assert_close(weights, additive, rtol=1e-9, atol=1e-9)

    @given(q_len=st.integers(1, 8), extra=st.integers(0, 4), seed=st.integers(0, 1000))
    @settings(max_examples=40, deadline=None)
    def test_causal_mask_matches_is_causal(self, q_len, extra, seed):
        """With causal_mask(L) it equals torch's SDPA with is_causal=True (square case)."""
        generator = torch.Generator().manual_seed(seed)
        q, k, v = (torch.randn(2, 2, q_len, 4, generator=generator) for _ in range(3))
        output, _ = scaled_dot_product_attention(q, k, v, causal_mask(q_len))
        torch.testing.assert_close(output, F.scaled_dot_product_attention(q, k, v, is_causal=True))

    def test_cross_attention_shapes(self):
        """Decoder queries (T) over encoder keys (S), (B, 1, T, S) mask: output (B, H, T, d_v)."""
        generator = torch.Generator().manual_seed(0)
        q = torch.randn(2, 2, 3, 4, generator=generator)
        k = torch.randn(2, 2, 5, 4, generator=generator)
        v = torch.randn(2, 2, 5, 6, generator=generator)
        mask = cross_attention_mask(torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]), tgt_len=3)
        output, weights = scaled_dot_product_attention(q, k, v, mask)
        assert output.shape == (2, 2, 3, 6) and weights.shape == (2, 2, 3, 5)
        assert bool((weights[0, :, :, 3:] == 0).all())
        torch.testing.assert_close(output, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))

    def test_row_with_no_allowed_key_gives_zeros(self):
        """An all-False row gives zero weights and output (no NaN); other rows are unaffected."""
        generator = torch.Generator().manual_seed(0)
        q, k, v = (torch.randn(1, 1, 4, 3, generator=generator) for _ in range(3))
        mask = causal_padding_mask(torch.tensor([[0, 1, 1, 1]]))  # left pad: query 0 sees nothing
        output, weights = scaled_dot_product_attention(q, k, v, mask)
        assert bool(torch.isfinite(output).all()) and bool(torch.isfinite(weights).all())
        assert bool((output[..., 0, :] == 0).all()) and bool((weights[..., 0, :] == 0).all())
        rest, _ = scaled_dot_product_attention(q[..., 1:, :], k, v, mask[..., 1:, :])
        torch.testing.assert_close(output[..., 1:, :], rest, rtol=0, atol=0)

    def test_fully_masked_row_agrees_with_torch_sdpa(self):
        """torch's own SDPA also returns zeros for a fully masked row (the docstring claims it)."""
        generator = torch.Generator().manual_seed(1)
        q, k, v = (torch.randn(2, 3, 5, generator=generator) for _ in range(3))
        mask = torch.ones(2, 3, 3, dtype=torch.bool)
        mask[0, 1] = False
        output, _ = scaled_dot_product_attention(q, k, v, mask)
        torch.testing.assert_close(output, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))

    @pytest.mark.parametrize(
        ("kwargs", "name"),
        [
            ({"q": torch.ones(2, 3, dtype=torch.long)}, "q"),
            ({"k": torch.ones(3)}, "k"),
            ({"k": torch.ones(4, 5)}, "d_k"),
            ({"v": torch.ones(5, 4)}, "v"),
            ({"mask": torch.ones(3, 4)}, "mask"),
            ({"mask": torch.ones(2, 3, dtype=torch.bool)}, "mask"),
            ({"mask": torch.ones(2, 3, 4, dtype=torch.bool)}, "mask"),
        ],
    )
    def test_bad_input_raises(self, kwargs, name):
        """Wrong dtype, ndim or shape raise ValueError naming the argument at fault."""
        args = {
            "q": torch.ones(3, 4),
            "k": torch.ones(4, 4),
            "v": torch.ones(4, 2),
            "mask": None,
        } | kwargs
        with pytest.raises(ValueError, match=name):
            scaled_dot_product_attention(**args)

    @pytest.mark.parametrize(
        ("kwargs", "name"), [({"v": "values"}, "v"), ({"mask": [[True] * 4] * 3}, "mask")]
    )
    def test_non_tensor_raises_type_error(self, kwargs, name):
        """A non-tensor argument raises TypeError naming it."""
        args = {
            "q": torch.ones(3, 4),
            "k": torch.ones(4, 4),
            "v": torch.ones(4, 2),
            "mask": None,
        } | kwargs
        with pytest.raises(TypeError, match=name):
            scaled_dot_product_attention(**args)

    def test_mismatched_leading_dims_raise(self):
        """Leading dimensions of q and k that do not broadcast raise ValueError."""
        with pytest.raises(ValueError, match="broadcast"):
            scaled_dot_product_attention(
                torch.ones(2, 3, 4), torch.ones(3, 3, 4), torch.ones(3, 3, 4)
            )


class TestScale:
    @given(case=attention_cases(), scale=st.floats(0.05, 3.0))
    @settings(deadline=None)
    def test_matches_torch_sdpa_scale(self, case, scale):
        """An explicit scale gives torch's SDPA with the same scale argument."""
        q, k, v, mask = case
        ours, _ = scaled_dot_product_attention(q, k, v, mask, scale=scale)
        expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
        assert torch.allclose(ours, expected, atol=1e-10)

    def test_default_is_one_over_sqrt_d_k(self):
        """scale=None equals scale=1/sqrt(d_k) up to rounding."""
        generator = torch.Generator().manual_seed(0)
        q, k, v = (torch.randn(3, 4, 8, generator=generator, dtype=torch.float64) for _ in range(3))
        default, _ = scaled_dot_product_attention(q, k, v)
        explicit, _ = scaled_dot_product_attention(q, k, v, scale=1 / math.sqrt(8))
        assert torch.allclose(default, explicit, atol=1e-12)

    @pytest.mark.parametrize("scale", [0.0, -1.0, "big", True])
    def test_bad_scale_raises(self, scale):
        """A scale that is not a positive number raises ValueError naming scale."""
        q = torch.ones(2, 4)
        with pytest.raises(ValueError, match="scale"):
            scaled_dot_product_attention(q, q, q, scale=scale)


class TestScalingEffect:
    def test_unscaled_variance_grows_like_d_k(self):
        """var(q . k) is close to d_k for standard-normal components (footnote of §3.2.1)."""
        for row in scaling_effect(dims=(8, 128, 512), n_samples=800, seed=1):
            assert row.var_unscaled / row.d_k == pytest.approx(1.0, abs=0.15)

    def test_sqrt_d_k_keeps_variance_and_saturation_flat(self):
        """Divided by sqrt(d_k): variance near 1 and the same mean top weight for every d_k."""
        rows = scaling_effect(dims=(4, 64, 1024), n_samples=800, seed=2)
        assert all(row.var_sqrt_dk == pytest.approx(1.0, abs=0.15) for row in rows)
        tops = [row.max_weight_sqrt_dk for row in rows]
        assert max(tops) - min(tops) < 0.05

    def test_unscaled_softmax_saturates_as_d_k_grows(self):
        """Without scaling the top softmax weight rises towards 1 as d_k grows."""
        tops = [row.max_weight_unscaled for row in scaling_effect(dims=(4, 64, 1024), seed=3)]
        assert tops == sorted(tops) and tops[-1] > 0.9

    def test_length_scale_is_unscaled_over_n_keys(self):
        """Dividing by sqrt(n_keys) divides the variance by n_keys, whatever d_k is."""
        for row in scaling_effect(dims=(16, 256), n_keys=6, n_samples=300):
            assert row.var_sqrt_len == pytest.approx(row.var_unscaled / 6)
            assert row.n_keys == 6

    def test_deterministic(self):
        """The same seed gives the same rows."""
        assert scaling_effect(dims=(8,), n_samples=50) == scaling_effect(dims=(8,), n_samples=50)

    @pytest.mark.parametrize(
        ("kwargs", "error", "name"),
        [
            ({"dims": ()}, ValueError, "dims"),
            ({"dims": (0,)}, ValueError, "dims"),
            ({"dims": 16}, TypeError, "dims"),
            ({"dims": (16.0,)}, TypeError, "dims"),
            ({"n_keys": 1}, ValueError, "n_keys"),
            ({"n_samples": 1}, ValueError, "n_samples"),
            ({"seed": -1}, ValueError, "seed"),
        ],
    )
    def test_bad_input_raises(self, kwargs, error, name):
        """Empty or non-positive dims, n_keys or n_samples < 2, a negative seed: refused, named."""
        with pytest.raises(error, match=name):
            scaling_effect(**kwargs)


class TestStackedAttention:
    LEFT = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])

    def _by(self, rows):
        return {(r.masking, r.layer): r for r in rows}

    def test_minus_inf_spreads_to_real_tokens(self):
        """-inf: only the empty pad rows are NaN after layer 1; every real token after layer 2."""
        rows = self._by(stacked_attention(self.LEFT, layers=3))
        first, second, third = (rows["-inf", n] for n in (1, 2, 3))
        assert (first.nan_pad_rows, first.nan_real_rows) == (2, 0)
        # The fully real second row is never touched: NaN only spreads within a sequence.
        assert second.nan_real_rows == 3 and third.nan_real_rows == 3
        assert second.real_rows == 8 and second.pad_rows == 2

    @pytest.mark.parametrize("masking", ["finfo.min", "torch SDPA"])
    def test_finite_maskings_stay_finite(self, masking):
        """finfo.min and torch's SDPA give no NaN anywhere, layer after layer."""
        rows = [r for r in stacked_attention(self.LEFT, layers=4) if r.masking == masking]
        assert len(rows) == 4 and all(r.nan_pad_rows == r.nan_real_rows == 0 for r in rows)

    def test_right_padding_never_nan(self):
        """With right padding no query row is empty, so no masking gives NaN."""
        rows = stacked_attention(torch.tensor([[1, 1, 1, 0, 0]]))
        assert [r.masking for r in rows] == [m for m in MASKINGS for _ in range(2)]
        assert all(r.nan_pad_rows == r.nan_real_rows == 0 for r in rows)

    @pytest.mark.parametrize(
        ("kwargs", "error", "name"),
        [
            ({"layers": 0}, ValueError, "layers"),
            ({"d_model": 0}, ValueError, "d_model"),
            ({"seed": 1.5}, TypeError, "seed"),
        ],
    )
    def test_bad_input_raises(self, kwargs, error, name):
        """Non-positive sizes or a non-int seed: refused, argument named."""
        with pytest.raises(error, match=name):
            stacked_attention(self.LEFT, **kwargs)

    def test_bad_mask_raises(self):
        """A 1-D attention mask is refused, naming the argument."""
        with pytest.raises(ValueError, match="attention_mask"):
            stacked_attention(torch.tensor([1, 1, 0]))


class TestEmptyRowOutcomes:
    def test_equal_scores_give_a_uniform_softmax_in_every_dtype(self):
        """Equal scores plus finfo.min: a uniform row in float32, bfloat16 and float16."""
        for r in empty_row_outcomes(scores=((1.0, 1.0, 1.0),)).rows:
            assert r.neg_inf == 0
            assert r.softmax_in_dtype == pytest.approx((1 / 3,) * 3, abs=1e-2)
            assert r.softmax_float32 == pytest.approx((1 / 3,) * 3, abs=1e-6)

    def test_float16_sum_overflows_and_the_upcast_softmax_is_nan(self):
        """In float16, scores below -16 plus -65504 give -inf, and the float32 softmax is NaN."""
        (r,) = empty_row_outcomes((torch.float16,), scores=((-20.0, -30.0),)).rows
        assert r.neg_inf == 2
        assert all(math.isnan(w) for w in r.softmax_float32)
        assert all(math.isnan(w) for w in r.softmax_in_dtype)

    def test_float16_partial_overflow_leaves_the_finite_keys(self):
        """Only the overflowed keys get weight 0; the others share the row."""
        (r,) = empty_row_outcomes((torch.float16,), scores=((-4.0, -12.0, -20.0, -28.0),)).rows
        assert r.neg_inf == 2
        assert r.softmax_float32 == pytest.approx((0.5, 0.5, 0.0, 0.0))

    def test_bfloat16_and_float32_absorb_the_scores(self):
        """finfo.min of bfloat16 and float32 absorbs scores of -50: finite, uniform."""
        table = empty_row_outcomes((torch.float32, torch.bfloat16), scores=((-20.0, -50.0),))
        for r in table.rows:
            assert r.neg_inf == 0
            assert r.softmax_float32 == pytest.approx((0.5, 0.5))

    def test_sdpa_gives_zeros_for_an_all_false_row(self):
        """torch's SDPA with an all-False boolean row returns zero weights in every dtype."""
        for r in empty_row_outcomes(scores=((0.0, 3.0), (-40.0, -50.0))).rows:
            assert r.sdpa == (0.0, 0.0)

    def test_sdpa_column_matches_softmax_when_a_key_is_allowed(self):
        """The SDPA set-up (q = 1, k = scores, scale 1, v = identity) reproduces the weights."""
        s = torch.tensor([0.5, -1.0, 2.0])
        out = F.scaled_dot_product_attention(
            torch.ones(1, 1), s.reshape(3, 1), torch.eye(3), scale=1.0
        )
        assert torch.allclose(out[0], s.softmax(-1), atol=1e-6)

    def test_rows_in_order_and_table_prints(self):
        """One row per dtype and scores (dtype first); the text table has a header and rule."""
        table = empty_row_outcomes()
        assert [str(r.dtype) for r in table.rows[::3]] == [
            "torch.float32",
            "torch.bfloat16",
            "torch.float16",
        ]
        lines = str(table).splitlines()
        assert lines[0].startswith("dtype") and len(lines) == 2 + 9
        assert "<code>float16</code>" in table._repr_html_()

    @pytest.mark.parametrize(
        ("kwargs", "error", "name"),
        [
            ({"dtypes": torch.float16}, TypeError, "dtypes"),
            ({"dtypes": ()}, ValueError, "dtypes"),
            ({"dtypes": (torch.int64,)}, ValueError, "dtypes"),
            ({"dtypes": ("float16",)}, TypeError, "dtypes"),
            ({"scores": 1.0}, TypeError, "scores"),
            ({"scores": ()}, ValueError, "scores"),
            ({"scores": ((),)}, ValueError, "scores"),
            ({"scores": ((True, 1.0),)}, TypeError, "scores"),
        ],
    )
    def test_bad_arguments(self, kwargs, error, name):
        """Wrong types raise TypeError, wrong values ValueError, naming the argument."""
        with pytest.raises(error, match=name):
            empty_row_outcomes(**kwargs)


class TestOverflowingScore:
    def test_float16_boundary(self):
        """-16 overflows in float16, the next float16 value above it does not."""
        score = overflowing_score()
        assert score == -16.0
        minimum = torch.tensor(torch.finfo(torch.float16).min, dtype=torch.float16)
        above = torch.nextafter(torch.tensor(score, dtype=torch.float16), torch.tensor(0.0).half())
        assert (torch.tensor(score, dtype=torch.float16) + minimum).isinf()
        assert (above + minimum).isfinite()

    def test_agrees_with_empty_row_outcomes(self):
        """The scores empty_row_outcomes counts as -inf are those at or below the threshold."""
        row = (-15.0, -16.0, -17.0, -8.0)
        (outcome,) = empty_row_outcomes((torch.float16,), scores=(row,)).rows
        assert outcome.neg_inf == sum(s <= overflowing_score() for s in row) == 2

    def test_errors(self):
        """float32 is a ValueError (not 16 bits), a string a TypeError."""
        with pytest.raises(ValueError, match="16-bit"):
            overflowing_score(torch.float32)
        with pytest.raises(TypeError, match="dtype"):
            overflowing_score("float16")
