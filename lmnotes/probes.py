"""Executable evidence about masks: causality, padding invariance, cross-attention.

Each probe runs a model twice (or more) on inputs that differ in one controlled way and
returns the largest absolute difference between the outputs that should, or should not,
agree. The default models are the tiny ones of :mod:`lmnotes.tiny`, built under a fixed
seed, so the numbers are the same on every run; the probes also accept a real model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lmnotes._checks import as_ids, check_int, check_integer_2d
from lmnotes._models import default_pad_token_id, forward_loss, forward_outputs, max_abs_diff
from lmnotes.clm import causal_lm_labels
from lmnotes.masks import position_ids_from_attention_mask
from lmnotes.tiny import (
    TINY_FIRST_WORD_ID,
    random_word_ids,
    tiny_bart,
    tiny_bert,
    tiny_gpt2,
)

__all__ = [
    "CausalityResult",
    "future_token_effect",
    "causality_probe",
    "PaddingResult",
    "padding_probe",
    "PaddingLossResult",
    "padding_loss_probe",
    "CrossAttentionResult",
    "cross_attention_probe",
]


# --------------------------------------------------------------------------- causality


@dataclass(frozen=True)
class CausalityResult:
    """Effect of changing the token at ``changed_position`` on a model's outputs.

    Attributes
    ----------
    model : str
        Class name of the model.
    changed_position : int
        Index of the token that was replaced.
    max_diff_before : float
        Max abs difference of the outputs at positions ``< changed_position``.
    max_diff_from : float
        Max abs difference at positions ``>= changed_position``.
    """

    model: str
    changed_position: int
    max_diff_before: float
    max_diff_from: float


def future_token_effect(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    position: int,
    new_token_id: int | None = None,
) -> CausalityResult:
    """Replace one token and measure how the outputs before and from it change.

    In a causal model no position can see its future, so the outputs before the changed
    token stay bitwise-equal; in a bidirectional model they change.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers model taking ``input_ids``; its ``logits`` (or ``last_hidden_state``)
        are compared.
    input_ids : (batch, seq_len) int64
        Token ids (no padding).
    position : int
        Index of the token to replace, ``1 <= position < seq_len``.
    new_token_id : int, optional
        Replacement id. Defaults to the next id in the vocabulary (wrapping, skipping 0-2).

    Returns
    -------
    CausalityResult

    Raises
    ------
    TypeError
        If ``input_ids`` is not a tensor or ``position`` is not an int.
    ValueError
        If ``input_ids`` is not 2D, ``position`` is out of range or ``new_token_id`` equals
        a token it would replace.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.probes import future_token_effect
    >>> from lmnotes.tiny import tiny_gpt2
    >>> ids = torch.tensor([[5, 17, 42, 8, 23, 61]])
    >>> result = future_token_effect(tiny_gpt2(), ids, position=3)
    >>> result.max_diff_before, result.max_diff_from > 1e-3
    (0.0, True)
    """
    check_integer_2d(input_ids, "input_ids")
    seq_len = input_ids.shape[1]
    position = check_int(position, "position", minimum=1)
    if position >= seq_len:
        raise ValueError(f"position must be < seq_len = {seq_len}, got {position}")
    changed = input_ids.clone()
    if new_token_id is None:
        vocab_size = model.get_input_embeddings().num_embeddings
        old = input_ids[:, position]
        span = vocab_size - TINY_FIRST_WORD_ID
        changed[:, position] = (old - TINY_FIRST_WORD_ID + 1) % span + TINY_FIRST_WORD_ID
    else:
        if bool((input_ids[:, position] == new_token_id).any()):
            raise ValueError(
                f"new_token_id must differ from the token at position {position}, "
                f"got {new_token_id}"
            )
        changed[:, position] = new_token_id
    before = forward_outputs(model, input_ids=input_ids)
    after = forward_outputs(model, input_ids=changed)
    return CausalityResult(
        model=type(model).__name__,
        changed_position=position,
        max_diff_before=max_abs_diff(before[:, :position], after[:, :position]),
        max_diff_from=max_abs_diff(before[:, position:], after[:, position:]),
    )


def causality_probe(
    seq_len: int = 8, position: int = 5, seed: int = 0
) -> dict[str, CausalityResult]:
    """Change a future token in a tiny causal GPT-2 and in a tiny bidirectional BERT.

    Parameters
    ----------
    seq_len : int, default 8
        Length of the random sequence.
    position : int, default 5
        Index of the changed token.
    seed : int, default 0
        Seed of the models' weights and of the token ids.

    Returns
    -------
    results : dict
        ``{"causal": CausalityResult for GPT2LMHeadModel,
        "bidirectional": CausalityResult for BertForMaskedLM}``.

    Raises
    ------
    TypeError
        If an argument is not an int.
    ValueError
        If ``seq_len < 2`` or ``position`` is not in ``1 .. seq_len - 1``.

    Examples
    --------
    >>> from lmnotes.probes import causality_probe
    >>> results = causality_probe()
    >>> results["causal"].max_diff_before
    0.0
    >>> results["bidirectional"].max_diff_before > 1e-3
    True
    """
    seq_len = check_int(seq_len, "seq_len", minimum=2)
    ids = random_word_ids(seq_len, seed)
    return {
        "causal": future_token_effect(tiny_gpt2(seed), ids, position),
        "bidirectional": future_token_effect(tiny_bert(seed), ids, position),
    }


# --------------------------------------------------------------------------- padding


@dataclass(frozen=True)
class PaddingResult:
    """Max abs difference of real-token logits between a padded and an unpadded run.

    Attributes
    ----------
    right_padding : float
        Pads after the text, no ``attention_mask`` at all.
    left_padding_no_mask : float
        Pads before the text, no ``attention_mask``: real tokens attend to the pads.
    left_padding_mask_default_positions : float
        Pads before the text, with the ``attention_mask``, default position ids
        ``0 .. seq_len-1`` (the text starts at position ``n_pad``).
    left_padding_mask_and_positions : float
        Pads before the text, with the ``attention_mask`` and position ids
        ``cumsum(mask) - 1`` (the text starts at position 0).
    """

    right_padding: float
    left_padding_no_mask: float
    left_padding_mask_default_positions: float
    left_padding_mask_and_positions: float


def padding_probe(
    model: torch.nn.Module | None = None,
    input_ids: torch.Tensor | list[int] | None = None,
    pad_token_id: int | None = None,
    n_pad: int = 3,
    seed: int = 0,
) -> PaddingResult:
    """Compare the logits of a decoder-only model on padded and unpadded copies of one text.

    Parameters
    ----------
    model : torch.nn.Module, optional
        A causal LM accepting ``input_ids``, ``attention_mask`` and ``position_ids``.
        Defaults to :func:`lmnotes.tiny.tiny_gpt2` ``(seed)``.
    input_ids : list of int or (seq_len,) or (1, seq_len) int64, optional
        The text, unpadded. Defaults to 8 random ids drawn with ``seed``.
    pad_token_id : int, optional
        Id used for padding. Defaults to the model's ``pad_token_id``, else its
        ``eos_token_id`` (the common ``pad_token = eos_token`` choice).
    n_pad : int, default 3
        Number of pad tokens added.
    seed : int, default 0
        Seed of the default model and ids.

    Returns
    -------
    PaddingResult

    Raises
    ------
    TypeError
        If ``n_pad`` or ``seed`` is not an int, or ``input_ids`` is neither a list nor a tensor.
    ValueError
        If ``n_pad < 1``, ``input_ids`` is not one sequence of ids, or no pad id is known.

    Examples
    --------
    >>> from lmnotes.probes import padding_probe
    >>> result = padding_probe()
    >>> result.right_padding < 1e-5, result.left_padding_mask_and_positions < 1e-5
    (True, True)
    >>> result.left_padding_no_mask > 1e-2, result.left_padding_mask_default_positions > 1e-2
    (True, True)
    """
    n_pad = check_int(n_pad, "n_pad", minimum=1)
    if model is None:
        model = tiny_gpt2(seed)
    ids = as_ids(random_word_ids(8, seed) if input_ids is None else input_ids)
    if pad_token_id is None:
        pad_token_id = default_pad_token_id(model)
    pads = torch.full((1, n_pad), pad_token_id, dtype=torch.long)
    real = torch.ones_like(ids)
    left_ids = torch.cat([pads, ids], dim=1)
    left_mask = torch.cat([torch.zeros_like(pads), real], dim=1)

    reference = forward_outputs(model, input_ids=ids, attention_mask=real)
    right = forward_outputs(model, input_ids=torch.cat([ids, pads], dim=1))[:, : ids.shape[1]]
    left_no_mask = forward_outputs(model, input_ids=left_ids)[:, n_pad:]
    left_mask_only = forward_outputs(model, input_ids=left_ids, attention_mask=left_mask)[:, n_pad:]
    left_positions = forward_outputs(
        model,
        input_ids=left_ids,
        attention_mask=left_mask,
        position_ids=position_ids_from_attention_mask(left_mask),
    )[:, n_pad:]
    return PaddingResult(
        right_padding=max_abs_diff(right, reference),
        left_padding_no_mask=max_abs_diff(left_no_mask, reference),
        left_padding_mask_default_positions=max_abs_diff(left_mask_only, reference),
        left_padding_mask_and_positions=max_abs_diff(left_positions, reference),
    )


@dataclass(frozen=True)
class PaddingLossResult:
    """Causal LM loss of a padded batch, against the same sequences run one at a time.

    Every value is the mean next-token loss over the counted targets (what
    ``model(..., labels=...).loss`` returns for a batch).

    Attributes
    ----------
    padding_side : str
        ``"right"`` or ``"left"``.
    unpadded : float
        Each sequence alone (no padding), pooled over all their targets: the reference.
    collated : float
        The padded batch with its ``attention_mask`` and labels ``-100`` on the pads, as
        ``DataCollatorForLanguageModeling(mlm=False)`` builds it (no ``position_ids``).
    no_attention_mask : float
        The padded batch, labels ``-100`` on the pads, but no ``attention_mask``.
    pads_as_targets : float
        The padded batch with its ``attention_mask``, but labels equal to ``input_ids``:
        the pads count as targets.
    targets_unpadded : int
        Next-token targets of the sequences run alone: ``sum(len(s) - 1)``.
    targets_collated : int
        Targets the loss counts in the collated batch. With left padding, one more per
        padded sequence: its first real token, scored against the logits of the pad
        before it (a position that may attend to nothing).
    """

    padding_side: str
    unpadded: float
    collated: float
    no_attention_mask: float
    pads_as_targets: float
    targets_unpadded: int
    targets_collated: int


def padding_loss_probe(
    model: torch.nn.Module | None = None,
    sequences: list[list[int]] | None = None,
    pad_token_id: int | None = None,
    padding_side: str = "right",
    seed: int = 0,
) -> PaddingLossResult:
    """Pad sequences of different lengths into one batch and compare its CLM loss.

    Padding has two jobs in a causal LM batch: the ``attention_mask`` hides the pad
    *keys* from attention, and labels ``-100`` take the pad positions out of the loss.
    This drops one job at a time. Labels are built from the attention mask
    (:func:`lmnotes.clm.causal_lm_labels`), so a pad id that is also a real token
    (``pad = eos``) does not interfere.

    Parameters
    ----------
    model : torch.nn.Module, optional
        A causal LM accepting ``input_ids``, ``attention_mask`` and ``labels``.
        Defaults to :func:`lmnotes.tiny.tiny_gpt2` ``(seed)``.
    sequences : list of list of int, optional
        At least two sequences of token ids, each of length ``>= 2``, not all of one
        length. Defaults to random sequences of lengths 8 and 5 drawn with ``seed``.
    pad_token_id : int, optional
        Id written at the pad positions. Defaults to the model's ``pad_token_id``, else
        its ``eos_token_id``.
    padding_side : {"right", "left"}, default "right"
        Where the pads go.
    seed : int, default 0
        Seed of the default model and sequences.

    Returns
    -------
    PaddingLossResult

    Raises
    ------
    TypeError
        If ``seed`` is not an int or ``sequences`` is not a list of lists of ints.
    ValueError
        If ``padding_side`` is unknown, ``sequences`` has fewer than two sequences, one
        shorter than 2, all of one length, or no pad id is known.

    Examples
    --------
    >>> from lmnotes.probes import padding_loss_probe
    >>> right = padding_loss_probe()
    >>> abs(right.collated - right.unpadded) < 1e-5
    True
    >>> abs(right.no_attention_mask - right.unpadded) < 1e-5
    True
    >>> abs(right.pads_as_targets - right.unpadded) > 1e-2
    True
    >>> left = padding_loss_probe(padding_side="left")
    >>> abs(left.no_attention_mask - left.unpadded) > 1e-2
    True
    >>> right.targets_collated - right.targets_unpadded  # (8 - 1) + (5 - 1) = 11 either way
    0
    >>> left.targets_collated - left.targets_unpadded    # the first token of the short row
    1
    """
    seed = check_int(seed, "seed", minimum=0)
    if padding_side not in ("right", "left"):
        raise ValueError(f'padding_side must be "right" or "left", got {padding_side!r}')
    if model is None:
        model = tiny_gpt2(seed)
    if sequences is None:
        sequences = [random_word_ids(8, seed)[0].tolist(), random_word_ids(5, seed + 1)[0].tolist()]
    if not isinstance(sequences, list) or not all(
        isinstance(s, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in s)
        for s in sequences
    ):
        raise TypeError("sequences must be a list of lists of int token ids")
    lengths = [len(s) for s in sequences]
    if len(sequences) < 2 or min(lengths) < 2 or len(set(lengths)) == 1:
        raise ValueError(
            "sequences must hold at least two sequences of length >= 2 and of different "
            f"lengths (so that there is padding), got lengths {lengths}"
        )
    if pad_token_id is None:
        pad_token_id = default_pad_token_id(model)

    def loss(**inputs: torch.Tensor | None) -> float:
        return forward_loss(model, **inputs)

    total, targets = 0.0, 0
    for seq in sequences:
        ids = torch.tensor([seq])
        total += loss(input_ids=ids, labels=ids) * (len(seq) - 1)
        targets += len(seq) - 1

    width = max(lengths)
    rows, masks = [], []
    for seq in sequences:
        pads, real = [pad_token_id] * (width - len(seq)), [1] * len(seq)
        zeros = [0] * (width - len(seq))
        rows.append(seq + pads if padding_side == "right" else pads + seq)
        masks.append(real + zeros if padding_side == "right" else zeros + real)
    input_ids, attention_mask = torch.tensor(rows), torch.tensor(masks)
    labels = causal_lm_labels(input_ids, attention_mask)
    return PaddingLossResult(
        padding_side=padding_side,
        unpadded=total / targets,
        collated=loss(input_ids=input_ids, attention_mask=attention_mask, labels=labels),
        no_attention_mask=loss(input_ids=input_ids, labels=labels),
        pads_as_targets=loss(input_ids=input_ids, attention_mask=attention_mask, labels=input_ids),
        targets_unpadded=targets,
        targets_collated=int((labels[:, 1:] != -100).sum()),
    )


# --------------------------------------------------------------------------- cross-attention


@dataclass(frozen=True)
class CrossAttentionResult:
    """Max abs difference of decoder outputs when the encoder input gets padding.

    Each field compares the decoder's last hidden state with a run on the unpadded source.

    Attributes
    ----------
    padded_with_mask : float
        Source padded, its ``attention_mask`` given to the encoder and to the decoder's
        cross-attention (as ``model(input_ids, attention_mask, decoder_input_ids)`` does).
    cross_attention_mask_dropped : float
        Encoder masked, but the decoder's cross-attention gets no mask: the decoder
        attends to the pads' encoder states.
    padded_without_mask : float
        No mask anywhere.
    """

    padded_with_mask: float
    cross_attention_mask_dropped: float
    padded_without_mask: float


def cross_attention_probe(
    model: torch.nn.Module | None = None,
    src_len: int = 6,
    tgt_len: int = 4,
    n_pad: int = 3,
    seed: int = 0,
) -> CrossAttentionResult:
    """Grow the encoder's padding and watch the decoder of an encoder-decoder model.

    Parameters
    ----------
    model : BartModel or BartForConditionalGeneration, optional
        Any encoder-decoder model with ``get_encoder()``/``get_decoder()`` whose decoder
        takes ``encoder_hidden_states`` and ``encoder_attention_mask``. Defaults to
        :func:`lmnotes.tiny.tiny_bart` ``(seed)``.
    src_len, tgt_len : int, default 6 and 4
        Lengths of the random source and target (decoder input) sequences.
    n_pad : int, default 3
        Pad tokens appended to the source (``model.config.pad_token_id``).
    seed : int, default 0
        Seed of the default model and ids.

    Returns
    -------
    CrossAttentionResult

    Raises
    ------
    TypeError
        If a length or ``seed`` is not an int.
    ValueError
        If a length is below 1.

    Examples
    --------
    >>> from lmnotes.probes import cross_attention_probe
    >>> result = cross_attention_probe()
    >>> result.padded_with_mask < 1e-5
    True
    >>> result.cross_attention_mask_dropped > 1e-3, result.padded_without_mask > 1e-3
    (True, True)
    """
    src_len = check_int(src_len, "src_len", minimum=1)
    tgt_len = check_int(tgt_len, "tgt_len", minimum=1)
    n_pad = check_int(n_pad, "n_pad", minimum=1)
    if model is None:
        model = tiny_bart(seed)
    vocab_size = model.get_input_embeddings().num_embeddings
    src = random_word_ids(src_len, seed, vocab_size=vocab_size)
    tgt = random_word_ids(tgt_len, seed + 1, vocab_size=vocab_size)
    pads = torch.full((1, n_pad), model.config.pad_token_id, dtype=torch.long)
    padded = torch.cat([src, pads], dim=1)
    padded_mask = torch.cat([torch.ones_like(src), torch.zeros_like(pads)], dim=1)
    encoder, decoder = model.get_encoder(), model.get_decoder()

    def decode(
        source: torch.Tensor, encoder_mask: torch.Tensor | None, cross_mask: torch.Tensor | None
    ) -> torch.Tensor:
        with torch.no_grad():
            memory = encoder(input_ids=source, attention_mask=encoder_mask).last_hidden_state
            out = decoder(
                input_ids=tgt, encoder_hidden_states=memory, encoder_attention_mask=cross_mask
            )
        return out.last_hidden_state

    reference = decode(src, torch.ones_like(src), torch.ones_like(src))
    return CrossAttentionResult(
        padded_with_mask=max_abs_diff(decode(padded, padded_mask, padded_mask), reference),
        cross_attention_mask_dropped=max_abs_diff(decode(padded, padded_mask, None), reference),
        padded_without_mask=max_abs_diff(decode(padded, None, None), reference),
    )
