"""Attention masks: causal, padding and cross-attention, boolean and additive; position ids.

Every mask here is a boolean tensor that is ``True`` where a query may attend to a key
(the convention of :func:`torch.nn.functional.scaled_dot_product_attention` and of
``transformers.masking_utils``). :func:`to_additive` turns one into the float mask that
"eager" attention adds to the scores: ``0`` where allowed and ``torch.finfo(dtype).min``
elsewhere, the finite stand-in for the ``-inf`` of arXiv:1706.03762 §3.2.3.

Shapes follow transformers: ``(batch, 1, q_len, k_len)``, the ``1`` broadcasting over heads.
"""

from __future__ import annotations

import torch

from lmnotes._checks import check_attention_mask, check_int

__all__ = [
    "causal_mask",
    "padding_mask",
    "causal_padding_mask",
    "cross_attention_mask",
    "to_additive",
    "position_ids_from_attention_mask",
]


def causal_mask(
    q_len: int, k_len: int | None = None, *, device: torch.device | str | None = None
) -> torch.Tensor:
    """Boolean causal mask: query ``i`` may attend to key ``j`` if ``j`` is not in its future.

    With ``k_len > q_len`` the queries are the last ``q_len`` of ``k_len`` positions, as
    when a key/value cache holds ``k_len - q_len`` earlier tokens: query ``i`` sits at
    absolute position ``i + k_len - q_len`` and sees keys ``0 .. i + k_len - q_len``.

    Parameters
    ----------
    q_len : int
        Number of queries (positive).
    k_len : int, optional
        Number of keys, ``>= q_len``. Defaults to ``q_len``.
    device : torch.device or str, optional
        Device of the result.

    Returns
    -------
    mask : (q_len, k_len) bool
        ``True`` where attention is allowed (on and below the shifted diagonal).

    Raises
    ------
    TypeError
        If ``q_len`` or ``k_len`` is not an int.
    ValueError
        If ``q_len`` or ``k_len`` is not positive, or ``k_len < q_len``.

    Examples
    --------
    >>> from lmnotes.masks import causal_mask
    >>> causal_mask(3).int()
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 1]], dtype=torch.int32)
    >>> causal_mask(2, 4).int()  # two new tokens after two cached ones
    tensor([[1, 1, 1, 0],
            [1, 1, 1, 1]], dtype=torch.int32)
    """
    q_len = check_int(q_len, "q_len", minimum=1)
    k_len = q_len if k_len is None else check_int(k_len, "k_len", minimum=1)
    if k_len < q_len:
        raise ValueError(
            f"k_len must be >= q_len (queries are the last positions), "
            f"got k_len={k_len} < q_len={q_len}"
        )
    q_pos = torch.arange(q_len, device=device).unsqueeze(-1) + (k_len - q_len)
    k_pos = torch.arange(k_len, device=device).unsqueeze(0)
    return k_pos <= q_pos


def padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Boolean key-padding mask: every query may attend to every real (non-pad) key.

    Parameters
    ----------
    attention_mask : (batch, k_len) bool or integer
        The tokenizer's mask: 1 (``True``) for real tokens, 0 for padding.

    Returns
    -------
    mask : (batch, 1, 1, k_len) bool
        Broadcasts over heads and queries. Padding acts on keys only: a pad *query*
        row is not masked (its output is simply never used).

    Raises
    ------
    TypeError
        If ``attention_mask`` is not a tensor.
    ValueError
        If ``attention_mask`` is not 2D, is empty, or holds other than bools or 0/1 integers.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.masks import padding_mask
    >>> padding_mask(torch.tensor([[1, 1, 0], [1, 1, 1]])).int()
    tensor([[[[1, 1, 0]]],
    <BLANKLINE>
    <BLANKLINE>
            [[[1, 1, 1]]]], dtype=torch.int32)
    """
    mask = check_attention_mask(attention_mask, non_empty=True)
    return mask[:, None, None, :]


def causal_padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Causal mask combined with key padding, as a decoder-only model builds it.

    ``mask[b, 0, i, j] = (j <= i) and attention_mask[b, j]``: the rule of
    ``transformers.masking_utils.create_causal_mask`` (causal rule and a padding rule on
    keys). With left padding, the rows of pad queries can be all ``False``.

    Parameters
    ----------
    attention_mask : (batch, seq_len) bool or integer
        1 (``True``) for real tokens, 0 for padding.

    Returns
    -------
    mask : (batch, 1, seq_len, seq_len) bool
        ``True`` where attention is allowed.

    Raises
    ------
    TypeError
        If ``attention_mask`` is not a tensor.
    ValueError
        If ``attention_mask`` is not 2D, is empty, or holds other than bools or 0/1 integers.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.masks import causal_padding_mask
    >>> causal_padding_mask(torch.tensor([[0, 1, 1]]))[0, 0].int()  # left padding
    tensor([[0, 0, 0],
            [0, 1, 0],
            [0, 1, 1]], dtype=torch.int32)
    """
    mask = check_attention_mask(attention_mask, non_empty=True)
    return causal_mask(mask.shape[-1], device=mask.device)[None, None] & padding_mask(mask)


def cross_attention_mask(encoder_attention_mask: torch.Tensor, tgt_len: int) -> torch.Tensor:
    """Mask for decoder-to-encoder (cross) attention: encoder padding only, no causal part.

    Queries come from the decoder (``tgt_len`` of them), keys and values from the encoder
    output (``src_len``). Every decoder position may see the whole source sentence, so the
    only thing to hide is the encoder's padding.

    Parameters
    ----------
    encoder_attention_mask : (batch, src_len) bool or integer
        The encoder's attention mask: 1 (``True``) for real source tokens, 0 for padding.
    tgt_len : int
        Number of decoder positions (queries), positive.

    Returns
    -------
    mask : (batch, 1, tgt_len, src_len) bool
        ``True`` where attention is allowed; every row of one batch item is the same.

    Raises
    ------
    TypeError
        If ``encoder_attention_mask`` is not a tensor or ``tgt_len`` not an int.
    ValueError
        If ``encoder_attention_mask`` is not 2D, is empty, or holds other than bools or
        0/1 integers, or ``tgt_len <= 0``.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.masks import cross_attention_mask
    >>> cross_attention_mask(torch.tensor([[1, 1, 1, 0]]), tgt_len=2)[0, 0].int()
    tensor([[1, 1, 1, 0],
            [1, 1, 1, 0]], dtype=torch.int32)
    """
    mask = check_attention_mask(encoder_attention_mask, "encoder_attention_mask", non_empty=True)
    tgt_len = check_int(tgt_len, "tgt_len", minimum=1)
    batch, src_len = mask.shape
    return mask[:, None, None, :].expand(batch, 1, tgt_len, src_len)


def to_additive(mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Turn a boolean mask into the additive float mask eager attention adds to its scores.

    Parameters
    ----------
    mask : (...) bool
        ``True`` where attention is allowed.
    dtype : torch.dtype, default torch.float32
        A floating dtype; the result uses ``torch.finfo(dtype).min`` for masked entries
        (a finite value, so a fully masked row gives a uniform softmax instead of NaN).

    Returns
    -------
    additive : (...) ``dtype``
        ``0`` where ``mask`` is ``True``, ``torch.finfo(dtype).min`` elsewhere.

    Raises
    ------
    TypeError
        If ``mask`` is not a tensor or ``dtype`` not a ``torch.dtype``.
    ValueError
        If ``mask`` is not of dtype bool or ``dtype`` is not a floating dtype.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.masks import causal_mask, to_additive
    >>> to_additive(causal_mask(2), torch.float16)
    tensor([[     0., -65504.],
            [     0.,      0.]], dtype=torch.float16)
    """
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must have dtype torch.bool, got {mask.dtype}")
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype, got {type(dtype).__name__}")
    if not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating dtype, got {dtype}")
    zero = torch.zeros((), dtype=dtype, device=mask.device)
    return torch.where(mask, zero, torch.finfo(dtype).min)


def position_ids_from_attention_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids that count real tokens only: ``cumsum(mask) - 1``, pads set to 0.

    With left padding the first real token then gets position 0, as in an unpadded run.
    Pad positions get 0 here (the running count there is -1 or repeats the last real
    position; their outputs are never used). ``generate()`` computes the same ids for real
    tokens and fills pad positions with 0 (transformers 5.24) or 1 (4.57).

    Parameters
    ----------
    attention_mask : (batch, seq_len) bool or integer
        1 for real tokens, 0 for padding.

    Returns
    -------
    position_ids : (batch, seq_len) int64

    Raises
    ------
    TypeError
        If ``attention_mask`` is not a tensor.
    ValueError
        If ``attention_mask`` is not a 2-D mask of 0/1 (or bool).

    Examples
    --------
    >>> import torch
    >>> from lmnotes.masks import position_ids_from_attention_mask
    >>> position_ids_from_attention_mask(torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]]))
    tensor([[0, 0, 0, 1, 2],
            [0, 1, 2, 3, 4]])
    """
    real = check_attention_mask(attention_mask).long()
    return ((real.cumsum(-1) - 1) * real).clamp(min=0)
