"""Reference scaled dot-product attention, readable line by line (self and cross).

``softmax(q k^T / sqrt(d_k)) v`` with masked scores set to ``-inf`` before the softmax
(arXiv:1706.03762 §3.2.1 and §3.2.3). The same function serves self-attention (``q``,
``k``, ``v`` from one sequence, with :func:`lmnotes.masks.causal_padding_mask`) and
cross-attention (``q`` from the decoder, ``k`` and ``v`` from the encoder, with
:func:`lmnotes.masks.cross_attention_mask`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from lmnotes._checks import check_floating, check_int
from lmnotes._tables import Table
from lmnotes.masks import causal_padding_mask, to_additive

__all__ = [
    "scaled_dot_product_attention",
    "ScalingRow",
    "scaling_effect",
    "MASKINGS",
    "StackedRow",
    "stacked_attention",
    "EmptyRowOutcome",
    "EmptyRowOutcomes",
    "empty_row_outcomes",
    "overflowing_score",
]


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention of queries ``q`` over keys ``k`` and values ``v``, with an optional boolean mask.

    Equal to :func:`torch.nn.functional.scaled_dot_product_attention` (boolean
    ``attn_mask``, no dropout) up to float rounding. A query row that may attend to no key
    gets all-zero weights and an all-zero output, never NaN (the softmax of a row of
    ``-inf`` is undefined; torch's own SDPA also returns zeros there).

    Parameters
    ----------
    q : (..., q_len, d_k) float
        Queries.
    k : (..., k_len, d_k) float
        Keys; the leading dimensions broadcast with those of ``q``.
    v : (..., k_len, d_v) float
        Values, one per key.
    mask : (..., q_len, k_len) bool, optional
        ``True`` where query ``i`` may attend to key ``j``; any shape that broadcasts to
        the scores' shape, e.g. ``(q_len, k_len)`` or ``(batch, 1, q_len, k_len)``.
    scale : float, optional
        Factor applied to ``q k^T``. Defaults to ``1 / sqrt(d_k)``, the paper's choice
        (the ``scale`` argument of torch's SDPA); other values are for comparison only.

    Returns
    -------
    output : (..., q_len, d_v) float
        Weighted sums of the values.
    weights : (..., q_len, k_len) float
        Attention weights; each row sums to 1, or is all zeros if the mask hides every key.

    Raises
    ------
    TypeError
        If ``q``, ``k``, ``v`` or ``mask`` is not a tensor.
    ValueError
        If ``q``, ``k``, ``v`` are not floating or have fewer than 2 dimensions, if ``mask``
        is not bool, if the shapes do not fit together, or if ``scale`` is not a positive
        number.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.attention import scaled_dot_product_attention
    >>> from lmnotes.masks import causal_mask
    >>> q = k = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> v = torch.tensor([[1.0], [2.0], [3.0]])
    >>> out, weights = scaled_dot_product_attention(q, k, v, causal_mask(3))
    >>> weights.round(decimals=3)
    tensor([[1.0000, 0.0000, 0.0000],
            [0.3300, 0.6700, 0.0000],
            [0.2480, 0.2480, 0.5030]])
    >>> out.round(decimals=3)
    tensor([[1.0000],
            [1.6700],
            [2.2550]])
    >>> no_key = torch.tensor([[False, False, False], [True, True, True], [True, True, True]])
    >>> scaled_dot_product_attention(q, k, v, no_key)[0][0]  # zeros, not NaN
    tensor([0.])
    """
    q = check_floating(q, "q")
    k = check_floating(k, "k")
    v = check_floating(v, "v")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must share their last dimension d_k, "
            f"got q {tuple(q.shape)} and k {tuple(k.shape)}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"v must have one row per key (k_len), got k {tuple(k.shape)} and v {tuple(v.shape)}"
        )
    try:
        scores_shape = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2]) + (
            q.shape[-2],
            k.shape[-2],
        )
    except RuntimeError as err:
        raise ValueError(
            f"q, k and v leading dimensions must broadcast, "
            f"got q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
        ) from err

    # 1. Similarity of every query with every key, scaled so its variance does not grow with d_k.
    if scale is None:
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    else:
        scores = q @ k.transpose(-2, -1) * scale

    if mask is None:
        return _softmax_then_values(scores, v)

    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must have dtype torch.bool (True = may attend), got {mask.dtype}")
    try:
        if torch.broadcast_shapes(mask.shape, scores_shape) != scores_shape:
            raise RuntimeError
    except RuntimeError as err:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast "
            f"to the scores' shape {tuple(scores_shape)}"
        ) from err

    # 2. Illegal connections get -inf: exp(-inf) = 0, so they receive no weight.
    scores = scores.masked_fill(~mask, float("-inf"))
    output, weights = _softmax_then_values(scores, v)

    # 3. A row with no allowed key is all -inf and its softmax is 0/0 = NaN: give it zeros.
    empty_row = ~mask.any(dim=-1, keepdim=True)
    if bool(empty_row.any()):
        weights = weights.masked_fill(empty_row, 0.0)
        output = weights @ v
    return output, weights


def _softmax_then_values(
    scores: torch.Tensor, v: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


# --------------------------------------------------------------------------- why sqrt(d_k)


@dataclass(frozen=True)
class ScalingRow:
    """Statistics of random attention scores for one key dimension ``d_k``.

    Three ways to scale ``q . k`` before the softmax: not at all, by ``sqrt(d_k)`` (the
    paper, arXiv:1706.03762 §3.2.1) and by ``sqrt(n_keys)`` (the number of keys, i.e. a
    sequence length).

    Attributes
    ----------
    d_k : int
        Dimension of queries and keys.
    n_keys : int
        Keys each query is compared with.
    var_unscaled, var_sqrt_dk, var_sqrt_len : float
        Variance of ``q . k``, ``q . k / sqrt(d_k)`` and ``q . k / sqrt(n_keys)``.
    max_weight_unscaled, max_weight_sqrt_dk, max_weight_sqrt_len : float
        Mean, over queries, of the largest softmax weight among the ``n_keys`` keys:
        ``1 / n_keys`` is a uniform softmax, ``1.0`` a saturated (one-hot) one.
    """

    d_k: int
    n_keys: int
    var_unscaled: float
    var_sqrt_dk: float
    var_sqrt_len: float
    max_weight_unscaled: float
    max_weight_sqrt_dk: float
    max_weight_sqrt_len: float


def scaling_effect(
    dims: Sequence[int] = (4, 16, 64, 256, 1024),
    n_keys: int = 8,
    n_samples: int = 1000,
    seed: int = 0,
) -> list[ScalingRow]:
    """Measure how the scale of ``q . k`` and the softmax's saturation grow with ``d_k``.

    Queries and keys have independent standard-normal components, the assumption of the
    paper's footnote on §3.2.1: then ``q . k`` has mean 0 and variance ``d_k``, so unscaled
    scores spread more as ``d_k`` grows and the softmax tends to put all its weight on one
    key (where its gradients are tiny). Dividing by ``sqrt(d_k)`` keeps the variance near 1
    for every ``d_k``; dividing by ``sqrt(n_keys)`` does not depend on ``d_k`` at all.

    Parameters
    ----------
    dims : sequence of int, default (4, 16, 64, 256, 1024)
        Key dimensions ``d_k`` to try (each >= 1).
    n_keys : int, default 8
        Keys per query (>= 2).
    n_samples : int, default 1000
        Random queries per ``d_k``, each with its own ``n_keys`` random keys (>= 2).
    seed : int, default 0
        Seed of the random draws.

    Returns
    -------
    rows : list of ScalingRow
        One per entry of ``dims``, in order.

    Raises
    ------
    TypeError
        If a size or ``seed`` is not an int, or ``dims`` is not a sequence.
    ValueError
        If ``dims`` is empty or holds a value < 1, or ``n_keys`` or ``n_samples`` < 2.

    Examples
    --------
    >>> from lmnotes.attention import scaling_effect
    >>> small, large = scaling_effect(dims=(16, 1024), n_samples=500)
    >>> 12 < small.var_unscaled < 20, 800 < large.var_unscaled < 1250  # about d_k
    (True, True)
    >>> 0.8 < small.var_sqrt_dk < 1.2, 0.8 < large.var_sqrt_dk < 1.2  # about 1
    (True, True)
    >>> large.max_weight_unscaled > 0.9  # nearly one-hot without scaling
    True
    """

    if isinstance(dims, str) or not isinstance(dims, Sequence):
        raise TypeError(f"dims must be a sequence of ints, got {type(dims).__name__}")
    if len(dims) == 0:
        raise ValueError("dims must not be empty")
    dims = [check_int(d, "dims", minimum=1) for d in dims]
    n_keys = check_int(n_keys, "n_keys", minimum=2)
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    seed = check_int(seed, "seed", minimum=0)

    generator = torch.Generator().manual_seed(seed)
    rows = []
    for d_k in dims:
        q = torch.randn(n_samples, 1, d_k, generator=generator, dtype=torch.float64)
        k = torch.randn(n_samples, n_keys, d_k, generator=generator, dtype=torch.float64)
        scores = (q * k).sum(-1)  # (n_samples, n_keys): one q . k per key

        def stats(scaled: torch.Tensor) -> tuple[float, float]:
            top = torch.softmax(scaled, dim=-1).max(dim=-1).values
            return float(scaled.var()), float(top.mean())

        raw, by_dk, by_len = (
            stats(scores),
            stats(scores / math.sqrt(d_k)),
            stats(scores / math.sqrt(n_keys)),
        )
        rows.append(
            ScalingRow(
                d_k=d_k,
                n_keys=n_keys,
                var_unscaled=raw[0],
                var_sqrt_dk=by_dk[0],
                var_sqrt_len=by_len[0],
                max_weight_unscaled=raw[1],
                max_weight_sqrt_dk=by_dk[1],
                max_weight_sqrt_len=by_len[1],
            )
        )
    return rows


# ------------------------------------------------------------- empty rows, layer after layer

#: The three ways of applying a boolean mask that :func:`stacked_attention` compares.
MASKINGS = ("-inf", "finfo.min", "torch SDPA")


@dataclass(frozen=True)
class StackedRow:
    """NaN rows at the output of one attention layer, for one way of masking.

    Attributes
    ----------
    masking : str
        One of :data:`MASKINGS`: masked scores set to ``-inf`` (the paper's recipe, applied
        as written), ``torch.finfo(dtype).min`` added (transformers' eager attention), or a
        boolean mask given to :func:`torch.nn.functional.scaled_dot_product_attention`.
    layer : int
        Layer index, from 1.
    nan_pad_rows, pad_rows : int
        Pad positions whose output holds a NaN, and pad positions in all.
    nan_real_rows, real_rows : int
        The same for real tokens.
    """

    masking: str
    layer: int
    nan_pad_rows: int
    pad_rows: int
    nan_real_rows: int
    real_rows: int


def stacked_attention(
    attention_mask: torch.Tensor,
    *,
    layers: int = 2,
    d_model: int = 8,
    seed: int = 0,
) -> list[StackedRow]:
    """Run stacked causal self-attention layers on a padded batch and count NaN rows.

    Each layer is ``x + attention(x W_q, x W_k, x W_v)`` under the combined causal and
    padding mask of ``attention_mask`` (random inputs and projections, the same for every
    way of masking). With left padding the pad queries may attend to no key. With a true
    ``-inf`` mask their output is NaN at layer 1; at layer 2 those NaN rows are keys and
    values, real queries give them weight 0, and ``0 * NaN = NaN``: every real token is NaN
    from then on. A ``finfo.min`` mask gives the pad rows a uniform (finite) average
    instead, and torch's SDPA gives them zeros, so the real tokens stay finite.

    Parameters
    ----------
    attention_mask : (batch, seq_len) int or bool
        1 on real tokens, 0 on padding.
    layers : int, default 2
        Number of stacked layers (>= 1).
    d_model : int, default 8
        Width of the hidden states (>= 1).
    seed : int, default 0
        Seed of the random inputs and projections.

    Returns
    -------
    rows : list of StackedRow
        For each of :data:`MASKINGS` in order, one row per layer.

    Raises
    ------
    TypeError
        If ``attention_mask`` is not a tensor, or a size or ``seed`` is not an int.
    ValueError
        If ``attention_mask`` is not 2-D 0/1, or a size is < 1.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.attention import stacked_attention
    >>> rows = stacked_attention(torch.tensor([[0, 0, 1, 1, 1]]))
    >>> [(r.masking, r.layer, r.nan_pad_rows, r.nan_real_rows) for r in rows]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('-inf', 1, 2, 0), ('-inf', 2, 2, 3),
     ('finfo.min', 1, 0, 0), ('finfo.min', 2, 0, 0),
     ('torch SDPA', 1, 0, 0), ('torch SDPA', 2, 0, 0)]
    """
    allowed = causal_padding_mask(attention_mask)  # (batch, 1, seq_len, seq_len), validates
    layers = check_int(layers, "layers", minimum=1)
    d_model = check_int(d_model, "d_model", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    real = attention_mask.bool()

    generator = torch.Generator().manual_seed(seed)
    x0 = torch.randn(*attention_mask.shape, d_model, generator=generator)
    weights = [
        [torch.randn(d_model, d_model, generator=generator) / math.sqrt(d_model) for _ in range(3)]
        for _ in range(layers)
    ]
    mask = allowed[:, 0]  # (batch, seq_len, seq_len)

    def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, masking: str) -> torch.Tensor:
        if masking == "torch SDPA":
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d_model)
        if masking == "-inf":
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + to_additive(mask, scores.dtype)
        return scores.softmax(dim=-1) @ v

    rows = []
    for masking in MASKINGS:
        x = x0
        for layer, (w_q, w_k, w_v) in enumerate(weights, start=1):
            x = x + attend(x @ w_q, x @ w_k, x @ w_v, masking)
            nan = x.isnan().any(dim=-1)
            rows.append(
                StackedRow(
                    masking=masking,
                    layer=layer,
                    nan_pad_rows=int((nan & ~real).sum()),
                    pad_rows=int((~real).sum()),
                    nan_real_rows=int((nan & real).sum()),
                    real_rows=int(real.sum()),
                )
            )
    return rows


# ------------------------------------------------------------- empty rows in half precision


@dataclass(frozen=True)
class EmptyRowOutcome:
    """What a fully masked row becomes, for one dtype and one row of scores.

    Attributes
    ----------
    dtype : torch.dtype
        Dtype of the scores, of the mask and of the SDPA inputs.
    scores : tuple of float
        The row's scores before masking (``q . k`` already scaled).
    neg_inf : int
        Entries of ``scores + torch.finfo(dtype).min`` (sum computed in ``dtype``) that
        overflowed to ``-inf``.
    softmax_in_dtype : tuple of float
        Softmax of that sum, computed in ``dtype``.
    softmax_float32 : tuple of float
        Softmax of the same sum computed in float32
        (``softmax(..., dtype=torch.float32)``, as transformers' eager attention does).
    sdpa : tuple of float
        Weights :func:`torch.nn.functional.scaled_dot_product_attention` gives the row
        with a boolean mask that is all ``False`` there (its output with the identity as
        values, so one weight per key).
    """

    dtype: torch.dtype
    scores: tuple[float, ...]
    neg_inf: int
    softmax_in_dtype: tuple[float, ...]
    softmax_float32: tuple[float, ...]
    sdpa: tuple[float, ...]


def _numbers(values: Sequence[float]) -> str:
    return " ".join(f"{v:.3g}" for v in values)


@dataclass(frozen=True)
class EmptyRowOutcomes(Table):
    """The rows of :func:`empty_row_outcomes`, printable as a table."""

    rows: tuple[EmptyRowOutcome, ...]

    columns = (
        "dtype",
        "scores",
        "-inf after + min",
        "softmax in dtype",
        "softmax in float32",
        "SDPA, bool mask",
    )
    numeric = (False, False, True, False, False, False)
    code = (True, False, False, False, False, False)

    def cells(self) -> list[tuple[str, ...]]:
        """One line per dtype and row of scores; weights to 3 significant digits."""
        return [
            (
                str(r.dtype).removeprefix("torch."),
                _numbers(r.scores),
                f"{r.neg_inf}/{len(r.scores)}",
                _numbers(r.softmax_in_dtype),
                _numbers(r.softmax_float32),
                _numbers(r.sdpa),
            )
            for r in self.rows
        ]


def empty_row_outcomes(
    dtypes: Sequence[torch.dtype] = (torch.float32, torch.bfloat16, torch.float16),
    scores: Sequence[Sequence[float]] = (
        (0.0, 0.0, 0.0, 0.0),
        (-4.0, -12.0, -20.0, -28.0),
        (-20.0, -30.0, -40.0, -50.0),
    ),
) -> EmptyRowOutcomes:
    """Mask a whole row with ``torch.finfo(dtype).min`` or a boolean mask, in each dtype.

    For each dtype and each row of scores, the additive mask is added to the scores in that
    dtype (as eager attention adds it), and the softmax is taken in that dtype and in
    float32. In float16, ``finfo.min`` is ``-65504`` and the next representable numbers are
    32 apart, so a score of ``-16`` or below pushes the sum past the largest finite value:
    it becomes ``-inf`` (:func:`overflowing_score` computes that ``-16``). In bfloat16 and
    float32, ``finfo.min`` is about ``-3.4e38`` and a score of that size is absorbed. The
    same row given to torch's SDPA with a boolean mask that is all ``False`` shows what that
    path returns in each dtype (on the CPU).

    Parameters
    ----------
    dtypes : sequence of torch.dtype, default (float32, bfloat16, float16)
        Floating dtypes to try.
    scores : sequence of sequences of float
        Rows of scores (one per key, at least one key each), every row fully masked.

    Returns
    -------
    EmptyRowOutcomes
        ``rows``: one :class:`EmptyRowOutcome` per dtype and row of scores (dtype first);
        ``print`` shows it as a table.

    Raises
    ------
    TypeError
        If ``dtypes`` or ``scores`` is not a sequence, a dtype not a ``torch.dtype``, or a
        score not a real number.
    ValueError
        If a dtype is not floating, or ``dtypes``, ``scores`` or a row of scores is empty.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.attention import empty_row_outcomes
    >>> table = empty_row_outcomes((torch.float16,), scores=((0.0, 0.0), (-20.0, -30.0)))
    >>> equal, low = table.rows
    >>> equal.softmax_float32, equal.sdpa
    ((0.5, 0.5), (0.0, 0.0))
    >>> low.neg_inf, low.softmax_float32  # the sum overflowed: NaN even in float32
    (2, (nan, nan))
    """
    if isinstance(dtypes, str) or not isinstance(dtypes, Sequence):
        raise TypeError(f"dtypes must be a sequence of torch.dtype, got {type(dtypes).__name__}")
    if len(dtypes) == 0:
        raise ValueError("dtypes must not be empty")
    for dtype in dtypes:
        if not isinstance(dtype, torch.dtype):
            raise TypeError(f"dtypes must hold torch.dtype values, got {type(dtype).__name__}")
        if not dtype.is_floating_point:
            raise ValueError(f"dtypes must be floating dtypes, got {dtype}")
    if isinstance(scores, str) or not isinstance(scores, Sequence):
        raise TypeError(f"scores must be a sequence of rows, got {type(scores).__name__}")
    if len(scores) == 0:
        raise ValueError("scores must not be empty")
    for row in scores:
        if isinstance(row, str) or not isinstance(row, Sequence):
            raise TypeError(f"scores must hold sequences of numbers, got {type(row).__name__}")
        if len(row) == 0:
            raise ValueError("scores must not hold an empty row")
        for value in row:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"scores must hold real numbers, got {type(value).__name__}")

    def floats(t: torch.Tensor) -> tuple[float, ...]:
        return tuple(float(x) for x in t.float())

    rows = []
    for dtype in dtypes:
        for row in scores:
            s = torch.tensor(row, dtype=dtype)  # (k_len,)
            masked = s + torch.full_like(s, torch.finfo(dtype).min)  # the sum, in dtype
            # SDPA: one query q = [1], keys k = scores, scale 1, so q k^T is the row itself;
            # the identity as values makes the output the row's weights.
            n = s.shape[0]
            out = torch.nn.functional.scaled_dot_product_attention(
                torch.ones(1, 1, dtype=dtype),
                s.reshape(n, 1),
                torch.eye(n, dtype=dtype),
                attn_mask=torch.zeros(1, n, dtype=torch.bool),
                scale=1.0,
            )
            rows.append(
                EmptyRowOutcome(
                    dtype=dtype,
                    scores=tuple(float(x) for x in row),
                    neg_inf=int(masked.isneginf().sum()),
                    softmax_in_dtype=floats(masked.softmax(dim=-1)),
                    softmax_float32=floats(torch.softmax(masked, dim=-1, dtype=torch.float32)),
                    sdpa=floats(out[0]),
                )
            )
    return EmptyRowOutcomes(rows=tuple(rows))


def overflowing_score(dtype: torch.dtype = torch.float16) -> float:
    """The largest score whose sum with ``torch.finfo(dtype).min``, in ``dtype``, is ``-inf``.

    Eager attention adds the additive mask, ``finfo(dtype).min``, to the scores in the
    scores' dtype. In float16 the sum rounds to ``-inf`` as soon as it passes halfway to
    the next power of two beyond ``-65504``, that is from ``-65520`` on: every score of
    ``-16`` or below. The search runs over every finite value of ``dtype`` between
    ``-2 ** 16`` and 0, in ``dtype``.

    Parameters
    ----------
    dtype : torch.dtype, default torch.float16
        A floating dtype of at most 16 bits (``float16`` or ``bfloat16``).

    Returns
    -------
    float
        The largest such score, or ``-inf`` if no score of that range overflows (as in
        bfloat16, whose ``finfo.min`` is about ``-3.4e38``).

    Raises
    ------
    TypeError
        If ``dtype`` is not a ``torch.dtype``.
    ValueError
        If ``dtype`` is not a floating dtype of 16 bits.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.attention import overflowing_score
    >>> overflowing_score()
    -16.0
    >>> overflowing_score(torch.bfloat16)
    -inf
    """
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype, got {type(dtype).__name__}")
    if not dtype.is_floating_point or dtype.itemsize != 2:
        raise ValueError(f"dtype must be a 16-bit floating dtype, got {dtype}")
    # Every bit pattern of the dtype, read as numbers: negative, finite, down to -2 ** 16.
    values = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16).view(dtype)
    scores = values[values.isfinite() & (values <= 0) & (values >= -(2.0**16))]
    overflow = (scores + torch.tensor(torch.finfo(dtype).min, dtype=dtype)).isinf()
    return float(scores[overflow].max()) if bool(overflow.any()) else float("-inf")
