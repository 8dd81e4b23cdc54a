"""Executable evidence about masks: causality, padding invariance, position ids, cross-attention.

Each probe runs a model twice (or more) on inputs that differ in one controlled way and
returns the largest absolute difference between the outputs that should, or should not,
agree. The default models are tiny and randomly initialised (hidden size 32, 2 layers,
vocabulary of 100), built under a fixed seed, so the numbers are the same on every run;
the probes also accept a real model.

The module also captures the masks transformers builds itself
(:func:`transformers_causal_mask`, :func:`transformers_cross_attention_mask`,
:func:`capture_attention_mask`) so they can be compared with :mod:`lmnotes.masks`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
from transformers import (
    BartConfig,
    BartModel,
    BertConfig,
    BertForMaskedLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
)

from lmnotes._checks import as_ids, check_int
from lmnotes.compat import create_causal_mask

__all__ = [
    "TINY_VOCAB_SIZE",
    "TINY_INIT_STD",
    "tiny_gpt2",
    "tiny_bert",
    "tiny_bart",
    "tiny_llama",
    "position_ids_from_attention_mask",
    "CausalityResult",
    "future_token_effect",
    "causality_probe",
    "PaddingResult",
    "padding_probe",
    "PaddingLossResult",
    "padding_loss_probe",
    "CrossAttentionResult",
    "cross_attention_probe",
    "capture_attention_mask",
    "transformers_causal_mask",
    "transformers_cross_attention_mask",
    "CrossAttentionTensors",
    "cross_attention_tensors",
]

#: Vocabulary size of the tiny random models; ids 0-2 are special (bos/pad/eos), 3-99 "words".
TINY_VOCAB_SIZE = 100
_FIRST_WORD_ID = 3
_HIDDEN = 32
_LAYERS = 2
_HEADS = 2
_FFN = 64
_MAX_POSITIONS = 64
#: Standard deviation of the tiny models' initial weights: 0.1 rather than transformers' 0.02, so
#: that attention is far from uniform (as in a trained model) and the effects are easy to see.
TINY_INIT_STD = 0.1


# --------------------------------------------------------------------------- tiny models


#: Special ids of the tiny BART and Llama (those of the real BART): bos 0, pad 1, eos 2.
_SPECIAL_IDS = {"bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2}


def _build(
    model_class: type, config_class: type, seed: int, attn_implementation: str, **fields: object
) -> PreTrainedModel:
    """``model_class(config_class(**fields))`` in eval mode, initialised under ``seed``.

    The config gets the tiny vocabulary and ``attn_implementation`` on top of ``fields`` (the
    sizes, under each architecture's own names). The weights are drawn under ``seed`` without
    touching the caller's RNG.
    """
    config = config_class(
        vocab_size=TINY_VOCAB_SIZE, attn_implementation=attn_implementation, **fields
    )
    check_int(seed, "seed")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_class(config)
    return model.eval()


def tiny_gpt2(seed: int = 0, attn_implementation: str = "eager") -> GPT2LMHeadModel:
    """A tiny randomly initialised GPT-2 (learned absolute positions, causal attention).

    Parameters
    ----------
    seed : int, default 0
        Seed of the weight initialisation.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend; "eager" receives an additive float mask, "sdpa" a boolean one.

    Returns
    -------
    model : GPT2LMHeadModel
        In eval mode; ``bos = eos = 0`` and no pad token, like the real GPT-2.

    Examples
    --------
    >>> from lmnotes.probes import tiny_gpt2
    >>> model = tiny_gpt2()
    >>> model.config.n_embd, model.config.n_layer, model.config.vocab_size, model.training
    (32, 2, 100, False)
    """
    model = _build(
        GPT2LMHeadModel,
        GPT2Config,
        seed,
        attn_implementation,
        n_positions=_MAX_POSITIONS,
        n_embd=_HIDDEN,
        n_layer=_LAYERS,
        n_head=_HEADS,
        n_inner=_FFN,
        initializer_range=TINY_INIT_STD,
        bos_token_id=0,
        eos_token_id=0,
    )
    # transformers infers the loss from the class name, which "GPT2LMHeadModel" does not match;
    # it falls back to this same loss with a warning, so name it explicitly.
    model.loss_type = "ForCausalLM"
    return model


def tiny_bert(seed: int = 0, attn_implementation: str = "eager") -> BertForMaskedLM:
    """A tiny randomly initialised BERT masked LM (bidirectional attention).

    Parameters
    ----------
    seed : int, default 0
        Seed of the weight initialisation.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend.

    Returns
    -------
    model : BertForMaskedLM
        In eval mode, ``pad_token_id = 1``.

    Examples
    --------
    >>> from lmnotes.probes import tiny_bert
    >>> tiny_bert().config.is_decoder
    False
    """
    return _build(
        BertForMaskedLM,
        BertConfig,
        seed,
        attn_implementation,
        hidden_size=_HIDDEN,
        num_hidden_layers=_LAYERS,
        num_attention_heads=_HEADS,
        intermediate_size=_FFN,
        max_position_embeddings=_MAX_POSITIONS,
        pad_token_id=1,
        initializer_range=TINY_INIT_STD,
    )


def tiny_bart(seed: int = 0, attn_implementation: str = "eager") -> BartModel:
    """A tiny randomly initialised BART encoder-decoder (the decoder cross-attends to the encoder).

    Parameters
    ----------
    seed : int, default 0
        Seed of the weight initialisation.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend.

    Returns
    -------
    model : BartModel
        In eval mode; ``bos = 0``, ``pad = 1``, ``eos = 2`` as in the real BART.

    Examples
    --------
    >>> from lmnotes.probes import tiny_bart
    >>> model = tiny_bart()
    >>> model.config.is_encoder_decoder, model.config.pad_token_id
    (True, 1)
    """
    return _build(
        BartModel,
        BartConfig,
        seed,
        attn_implementation,
        d_model=_HIDDEN,
        encoder_layers=_LAYERS,
        decoder_layers=_LAYERS,
        encoder_attention_heads=_HEADS,
        decoder_attention_heads=_HEADS,
        encoder_ffn_dim=_FFN,
        decoder_ffn_dim=_FFN,
        max_position_embeddings=_MAX_POSITIONS,
        **_SPECIAL_IDS,
        decoder_start_token_id=2,
        init_std=TINY_INIT_STD,
        forced_eos_token_id=None,
    )


def tiny_llama(seed: int = 0, attn_implementation: str = "eager") -> LlamaForCausalLM:
    """A tiny randomly initialised Llama (rotary positions, causal attention).

    Parameters
    ----------
    seed : int, default 0
        Seed of the weight initialisation.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend.

    Returns
    -------
    model : LlamaForCausalLM
        In eval mode; ``bos = 0``, ``pad = 1``, ``eos = 2``.

    Examples
    --------
    >>> from lmnotes.probes import tiny_llama
    >>> tiny_llama().config.hidden_size
    32
    """
    return _build(
        LlamaForCausalLM,
        LlamaConfig,
        seed,
        attn_implementation,
        hidden_size=_HIDDEN,
        intermediate_size=_FFN,
        num_hidden_layers=_LAYERS,
        num_attention_heads=_HEADS,
        num_key_value_heads=_HEADS,
        max_position_embeddings=_MAX_POSITIONS,
        **_SPECIAL_IDS,
        initializer_range=TINY_INIT_STD,
    )


# --------------------------------------------------------------------------- helpers


def position_ids_from_attention_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids that count real tokens only: ``cumsum(mask) - 1``, clamped at 0.

    With left padding the first real token then gets position 0, as in an unpadded run;
    pad positions get 0 (their outputs are never used). ``generate()`` computes the same
    thing (it fills pad positions with 1 instead).

    Parameters
    ----------
    attention_mask : (batch, seq_len) bool or integer
        1 for real tokens, 0 for padding.

    Returns
    -------
    position_ids : (batch, seq_len) int64

    Raises
    ------
    ValueError
        If ``attention_mask`` is not a 2D tensor.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.probes import position_ids_from_attention_mask
    >>> position_ids_from_attention_mask(torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]]))
    tensor([[0, 0, 0, 1, 2],
            [0, 1, 2, 3, 4]])
    """
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.ndim != 2:
        raise ValueError("attention_mask must be a 2D tensor (batch, seq_len)")
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def _outputs(model: torch.nn.Module, **inputs: torch.Tensor | None) -> torch.Tensor:
    """Run ``model`` without gradients and return its logits, else its last hidden state."""
    with torch.no_grad():
        out = model(**inputs)
    logits = getattr(out, "logits", None)
    return logits if logits is not None else out.last_hidden_state


def _max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max()) if a.numel() else 0.0


def _default_pad_token_id(model: torch.nn.Module) -> int:
    """The model config's pad id, else its (first) eos id; ``ValueError`` if it has neither."""
    config = model.config
    pad_token_id = config.pad_token_id if config.pad_token_id is not None else config.eos_token_id
    if isinstance(pad_token_id, list):
        pad_token_id = pad_token_id[0]
    if pad_token_id is None:
        raise ValueError(
            "pad_token_id must be given: the model config has neither pad_token_id nor eos_token_id"
        )
    return pad_token_id


def _loss(model: torch.nn.Module, **inputs: torch.Tensor | bool | None) -> float:
    """The model's own loss on ``inputs``, without gradients."""
    with torch.no_grad():
        return float(model(**inputs).loss)


def _random_ids(
    length: int, seed: int, vocab_size: int = TINY_VOCAB_SIZE, batch: int = 1
) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(_FIRST_WORD_ID, vocab_size, (batch, length), generator=generator)


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
        If ``position`` is not an int.
    ValueError
        If ``input_ids`` is not 2D, ``position`` is out of range or ``new_token_id`` equals
        a token it would replace.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.probes import future_token_effect, tiny_gpt2
    >>> ids = torch.tensor([[5, 17, 42, 8, 23, 61]])
    >>> result = future_token_effect(tiny_gpt2(), ids, position=3)
    >>> result.max_diff_before, result.max_diff_from > 1e-3
    (0.0, True)
    """
    if not isinstance(input_ids, torch.Tensor) or input_ids.ndim != 2:
        raise ValueError("input_ids must be a 2D tensor (batch, seq_len)")
    seq_len = input_ids.shape[1]
    position = check_int(position, "position", minimum=1)
    if position >= seq_len:
        raise ValueError(f"position must be < seq_len = {seq_len}, got {position}")
    changed = input_ids.clone()
    if new_token_id is None:
        vocab_size = model.get_input_embeddings().num_embeddings
        old = input_ids[:, position]
        span = vocab_size - _FIRST_WORD_ID
        changed[:, position] = (old - _FIRST_WORD_ID + 1) % span + _FIRST_WORD_ID
    else:
        if bool((input_ids[:, position] == new_token_id).any()):
            raise ValueError(
                f"new_token_id must differ from the token at position {position}, "
                f"got {new_token_id}"
            )
        changed[:, position] = new_token_id
    before = _outputs(model, input_ids=input_ids)
    after = _outputs(model, input_ids=changed)
    return CausalityResult(
        model=type(model).__name__,
        changed_position=position,
        max_diff_before=_max_abs_diff(before[:, :position], after[:, :position]),
        max_diff_from=_max_abs_diff(before[:, position:], after[:, position:]),
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
    ids = _random_ids(seq_len, seed)
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
        Defaults to :func:`tiny_gpt2` ``(seed)``.
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
    ids = as_ids(_random_ids(8, seed) if input_ids is None else input_ids)
    if pad_token_id is None:
        config = model.config
        pad_token_id = (
            config.pad_token_id if config.pad_token_id is not None else config.eos_token_id
        )
        if isinstance(pad_token_id, list):
            pad_token_id = pad_token_id[0]
        if pad_token_id is None:
            raise ValueError(
                "pad_token_id must be given: "
                "the model config has neither pad_token_id nor eos_token_id"
            )
    pads = torch.full((1, n_pad), pad_token_id, dtype=torch.long)
    real = torch.ones_like(ids)
    left_ids = torch.cat([pads, ids], dim=1)
    left_mask = torch.cat([torch.zeros_like(pads), real], dim=1)

    reference = _outputs(model, input_ids=ids, attention_mask=real)
    right = _outputs(model, input_ids=torch.cat([ids, pads], dim=1))[:, : ids.shape[1]]
    left_no_mask = _outputs(model, input_ids=left_ids)[:, n_pad:]
    left_mask_only = _outputs(model, input_ids=left_ids, attention_mask=left_mask)[:, n_pad:]
    left_positions = _outputs(
        model,
        input_ids=left_ids,
        attention_mask=left_mask,
        position_ids=position_ids_from_attention_mask(left_mask),
    )[:, n_pad:]
    return PaddingResult(
        right_padding=_max_abs_diff(right, reference),
        left_padding_no_mask=_max_abs_diff(left_no_mask, reference),
        left_padding_mask_default_positions=_max_abs_diff(left_mask_only, reference),
        left_padding_mask_and_positions=_max_abs_diff(left_positions, reference),
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
        Defaults to :func:`tiny_gpt2` ``(seed)``.
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
    from lmnotes.clm import causal_lm_labels

    seed = check_int(seed, "seed", minimum=0)
    if padding_side not in ("right", "left"):
        raise ValueError(f'padding_side must be "right" or "left", got {padding_side!r}')
    if model is None:
        model = tiny_gpt2(seed)
    if sequences is None:
        sequences = [_random_ids(8, seed)[0].tolist(), _random_ids(5, seed + 1)[0].tolist()]
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
        pad_token_id = _default_pad_token_id(model)

    def loss(**inputs: torch.Tensor | None) -> float:
        return _loss(model, **inputs)

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
        :func:`tiny_bart` ``(seed)``.
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
    src = _random_ids(src_len, seed, vocab_size)
    tgt = _random_ids(tgt_len, seed + 1, vocab_size)
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
        padded_with_mask=_max_abs_diff(decode(padded, padded_mask, padded_mask), reference),
        cross_attention_mask_dropped=_max_abs_diff(decode(padded, padded_mask, None), reference),
        padded_without_mask=_max_abs_diff(decode(padded, None, None), reference),
    )


# ------------------------------------------------------------------ masks built by transformers


def capture_attention_mask(
    model: torch.nn.Module, module: torch.nn.Module, **inputs: torch.Tensor
) -> torch.Tensor | None:
    """Run ``model(**inputs)`` and return the ``attention_mask`` that ``module`` receives.

    Parameters
    ----------
    model : torch.nn.Module
        The model to run (without gradients).
    module : torch.nn.Module
        A submodule of ``model`` whose ``forward`` has an ``attention_mask`` argument, e.g.
        ``model.transformer.h[0].attn`` (GPT-2) or ``model.decoder.layers[0].encoder_attn``
        (BART cross-attention).
    **inputs
        Keyword arguments of ``model``.

    Returns
    -------
    mask : (batch, 1, q_len, k_len) tensor or None
        What the attention module got on its first call: additive float under "eager",
        boolean (or None when ``is_causal`` or no mask suffices) under "sdpa" (for encoder
        self-attention and cross-attention, additive float too before transformers 5.0;
        ``lmnotes.compat.as_boolean_mask`` reads both).

    Raises
    ------
    ValueError
        If ``module`` is not a submodule of ``model``, has no ``attention_mask`` argument,
        or is not called by the forward pass.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.probes import capture_attention_mask, tiny_gpt2
    >>> model = tiny_gpt2()
    >>> layer = model.transformer.h[0].attn
    >>> mask = capture_attention_mask(model, layer, input_ids=torch.tensor([[5, 6, 7]]))
    >>> mask.shape, mask.dtype, bool((mask[0, 0] == 0).equal(torch.ones(3, 3).tril().bool()))
    (torch.Size([1, 1, 3, 3]), torch.float32, True)
    """
    if not any(m is module for m in model.modules()):
        raise ValueError("module must be a submodule of model")
    signature = inspect.signature(module.forward)
    if "attention_mask" not in signature.parameters:
        raise ValueError(
            f"module ({type(module).__name__}) must have an attention_mask argument in forward"
        )
    captured: list[torch.Tensor | None] = []

    def hook(_module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        if not captured:
            bound = signature.bind_partial(*args, **kwargs).arguments
            mask = bound.get("attention_mask")
            captured.append(None if mask is None else mask.detach().clone())

    handle = module.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        with torch.no_grad():
            model(**inputs)
    finally:
        handle.remove()
    if not captured:
        raise ValueError(f"module ({type(module).__name__}) was not called by model's forward pass")
    return captured[0]


def transformers_causal_mask(
    attention_mask: torch.Tensor,
    attn_implementation: str = "eager",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor | None:
    """The mask ``transformers.masking_utils.create_causal_mask`` builds for a tiny Llama config.

    Parameters
    ----------
    attention_mask : (batch, seq_len) int64 or bool
        1 for real tokens, 0 for padding.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Which mask interface of transformers to use.
    dtype : torch.dtype, default torch.float32
        Dtype of the (fake) input embeddings; sets the eager mask's dtype.

    Returns
    -------
    mask : (batch, 1, seq_len, seq_len) or None
        Eager: float, 0 and ``finfo(dtype).min``. SDPA: bool, or None when there is no
        padding (then SDPA runs with ``is_causal=True``).

    Raises
    ------
    ValueError
        If ``attention_mask`` is not 2D or ``attn_implementation`` is not "eager"/"sdpa".

    Examples
    --------
    >>> import torch
    >>> from lmnotes.probes import transformers_causal_mask
    >>> transformers_causal_mask(torch.tensor([[1, 1, 0]]), "sdpa")[0, 0].int()
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 0]], dtype=torch.int32)
    >>> transformers_causal_mask(torch.tensor([[1, 1, 1]]), "sdpa") is None
    True
    """
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.ndim != 2:
        raise ValueError("attention_mask must be a 2D tensor (batch, seq_len)")
    if attn_implementation not in ("eager", "sdpa"):
        raise ValueError(
            f'attn_implementation must be "eager" or "sdpa", got {attn_implementation!r}'
        )
    config = LlamaConfig(
        vocab_size=TINY_VOCAB_SIZE,
        hidden_size=_HIDDEN,
        intermediate_size=_FFN,
        num_hidden_layers=_LAYERS,
        num_attention_heads=_HEADS,
        num_key_value_heads=_HEADS,
        attn_implementation=attn_implementation,
    )
    inputs_embeds = torch.zeros(*attention_mask.shape, _HIDDEN, dtype=dtype)
    # Through lmnotes.compat: the library function's arguments differ between releases.
    return create_causal_mask(config, inputs_embeds, attention_mask)


def transformers_cross_attention_mask(
    encoder_attention_mask: torch.Tensor,
    tgt_len: int,
    attn_implementation: str = "eager",
    seed: int = 0,
) -> torch.Tensor | None:
    """The mask a tiny BART decoder's cross-attention receives, captured during a forward pass.

    Parameters
    ----------
    encoder_attention_mask : (batch, src_len) int64 or bool
        The encoder's attention mask (1 for real source tokens).
    tgt_len : int
        Length of the decoder input.
    attn_implementation : {"eager", "sdpa"}, default "eager"
        Attention backend of the tiny BART.
    seed : int, default 0
        Seed of the tiny BART and of the random ids.

    Returns
    -------
    mask : (batch, 1, tgt_len, src_len) or None
        Eager: float, 0 and ``finfo(float32).min``. SDPA: bool, or None without padding
        (transformers 5.0 and later; additive float like eager before).

    Raises
    ------
    TypeError
        If ``tgt_len`` or ``seed`` is not an int.
    ValueError
        If ``encoder_attention_mask`` is not 2D or ``tgt_len < 1``.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.probes import transformers_cross_attention_mask
    >>> from lmnotes.compat import as_boolean_mask
    >>> mask = transformers_cross_attention_mask(torch.tensor([[1, 1, 0]]), 2, "sdpa")
    >>> as_boolean_mask(mask)[0, 0].int()   # bool since transformers 5.0, additive before
    tensor([[1, 1, 0],
            [1, 1, 0]], dtype=torch.int32)
    """
    if not isinstance(encoder_attention_mask, torch.Tensor) or encoder_attention_mask.ndim != 2:
        raise ValueError("encoder_attention_mask must be a 2D tensor (batch, src_len)")
    tgt_len = check_int(tgt_len, "tgt_len", minimum=1)
    model = tiny_bart(seed, attn_implementation)
    batch, src_len = encoder_attention_mask.shape
    return capture_attention_mask(
        model,
        model.decoder.layers[0].encoder_attn,
        input_ids=_random_ids(src_len, seed, batch=batch),
        attention_mask=encoder_attention_mask,
        decoder_input_ids=_random_ids(tgt_len, seed + 1, batch=batch),
    )


# ------------------------------------------------------------ inside one cross-attention layer


@dataclass(frozen=True)
class CrossAttentionTensors:
    """What one cross-attention layer of a BART-style model received and computed.

    Captured with hooks during one forward pass (see :func:`cross_attention_tensors`).

    Attributes
    ----------
    encoder_output : (batch, src_len, d_model) float
        The encoder's last hidden state.
    query_input : (batch, tgt_len, d_model) float
        What the layer's ``q_proj`` received: the decoder's hidden states.
    key_input, value_input : (batch, src_len, d_model) float
        What ``k_proj`` and ``v_proj`` received.
    query : (batch, heads, tgt_len, head_dim) float
        ``q_proj`` output split into heads, as the attention function gets it.
    key, value : (batch, heads, src_len, head_dim) float
        ``k_proj`` and ``v_proj`` outputs split into heads.
    mask : (batch, 1, tgt_len, src_len) tensor or None
        The ``attention_mask`` the layer received: additive float under "eager", boolean
        or None under "sdpa" (additive float too before transformers 5.0).
    weights : (batch, heads, tgt_len, src_len) float or None
        The attention weights (None unless the model uses "eager" attention).
    output : (batch, tgt_len, d_model) float
        The heads' outputs, concatenated, before ``out_proj``.
    scaling : float
        The factor the layer multiplies ``q k^T`` by.
    """

    encoder_output: torch.Tensor
    query_input: torch.Tensor
    key_input: torch.Tensor
    value_input: torch.Tensor
    query: torch.Tensor
    key: torch.Tensor
    value: torch.Tensor
    mask: torch.Tensor | None
    weights: torch.Tensor | None
    output: torch.Tensor
    scaling: float

    def shapes(self) -> dict[str, tuple[int, ...] | None]:
        """Shape of every tensor field (None for a field that is None), in field order."""
        return {
            name: None if value is None else tuple(value.shape)
            for name, value in vars(self).items()
            if name != "scaling"
        }


def cross_attention_tensors(
    model: torch.nn.Module, layer: int = 0, **inputs: torch.Tensor | bool | None
) -> CrossAttentionTensors:
    """Run an encoder-decoder model once and capture the inside of one cross-attention layer.

    Forward hooks on the layer's ``q_proj``, ``k_proj``, ``v_proj`` and ``out_proj`` record
    what each projection received and returned, so one can check where queries, keys and
    values come from and recompute the attention with :mod:`lmnotes.attention`.

    Parameters
    ----------
    model : BartModel or BartForConditionalGeneration
        A model whose decoder layers have an ``encoder_attn`` module with ``q_proj``,
        ``k_proj``, ``v_proj`` and ``out_proj`` (BART and its relatives: mBART, Marian,
        Pegasus), e.g. :func:`tiny_bart`.
    layer : int, default 0
        Index of the decoder layer.
    **inputs
        Keyword arguments of ``model``: ``input_ids``, ``attention_mask``,
        ``decoder_input_ids``, ...

    Returns
    -------
    CrossAttentionTensors

    Raises
    ------
    TypeError
        If ``layer`` is not an int.
    ValueError
        If the model's decoder layers have no ``encoder_attn``, ``layer`` is out of range,
        or the layer was not called.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.probes import cross_attention_tensors, tiny_bart
    >>> model = tiny_bart()
    >>> t = cross_attention_tensors(
    ...     model,
    ...     input_ids=torch.tensor([[0, 7, 8, 9, 2]]),
    ...     decoder_input_ids=torch.tensor([[2, 0, 5]]),
    ... )
    >>> t.query.shape, t.key.shape  # 3 decoder queries, 5 encoder keys
    (torch.Size([1, 2, 3, 16]), torch.Size([1, 2, 5, 16]))
    >>> torch.equal(t.key_input, t.encoder_output), torch.equal(t.value_input, t.encoder_output)
    (True, True)
    """
    decoder = model.get_decoder() if hasattr(model, "get_decoder") else None
    layers = getattr(decoder, "layers", None)
    if layers is None or len(layers) == 0 or not hasattr(layers[0], "encoder_attn"):
        raise ValueError(
            f"model ({type(model).__name__}) must be a BART-style encoder-decoder "
            "whose decoder layers have an encoder_attn module"
        )
    layer = check_int(layer, "layer", minimum=0)
    if layer >= len(layers):
        raise ValueError(f"layer must be < {len(layers)} (decoder layers), got {layer}")
    attn = layers[layer].encoder_attn
    signature = inspect.signature(attn.forward)
    captured: dict[str, torch.Tensor | None] = {}

    def keep(name: str, value: torch.Tensor | None) -> None:
        if name not in captured:
            captured[name] = None if value is None else value.detach().clone()

    def projection_hook(name: str):
        def hook(_module: torch.nn.Module, args: tuple, output: torch.Tensor) -> None:
            keep(f"{name}_input", args[0])
            keep(name, output)

        return hook

    def mask_hook(_module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        keep("mask", signature.bind_partial(*args, **kwargs).arguments.get("attention_mask"))

    def weights_hook(_module: torch.nn.Module, _args: tuple, output: tuple) -> None:
        keep("weights", output[1] if isinstance(output, tuple) and len(output) > 1 else None)

    def output_hook(_module: torch.nn.Module, args: tuple) -> None:
        keep("output", args[0])

    handles = [
        attn.q_proj.register_forward_hook(projection_hook("query")),
        attn.k_proj.register_forward_hook(projection_hook("key")),
        attn.v_proj.register_forward_hook(projection_hook("value")),
        attn.register_forward_pre_hook(mask_hook, with_kwargs=True),
        attn.register_forward_hook(weights_hook),
        attn.out_proj.register_forward_pre_hook(output_hook),
    ]
    try:
        with torch.no_grad():
            out = model(**inputs)
    finally:
        for handle in handles:
            handle.remove()
    if "query" not in captured or "key" not in captured:
        raise ValueError(
            f"layer {layer}: its cross-attention was not called by the forward pass"
        )

    def heads(x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, -1, attn.head_dim).transpose(1, 2)

    return CrossAttentionTensors(
        encoder_output=out.encoder_last_hidden_state.detach(),
        query_input=captured["query_input"],
        key_input=captured["key_input"],
        value_input=captured["value_input"],
        query=heads(captured["query"]),
        key=heads(captured["key"]),
        value=heads(captured["value"]),
        mask=captured.get("mask"),
        weights=captured.get("weights"),
        output=captured["output"],
        scaling=float(attn.scaling),
    )
