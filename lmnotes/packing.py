"""Padding waste and padding-free (packed) batches.

A padded batch stores every example at the length of the longest one; the pad slots cost
memory and compute and carry no signal. Packing concatenates the examples of a batch into
one row (transformers' ``DataCollatorWithFlattening``, PR #31629) and restarts the
``position_ids`` at 0 for each example; the model must then keep the examples apart, which
a block-diagonal causal mask does (:func:`packed_causal_mask`), or FlashAttention-2's
variable-length kernels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import DataCollatorWithFlattening

from lmnotes._checks import check_examples, check_int, check_integer_2d, check_lengths
from lmnotes._models import default_pad_token_id, forward_loss
from lmnotes.masks import causal_mask, to_additive
from lmnotes.tiny import TINY_FIRST_WORD_ID, TINY_VOCAB_SIZE, tiny_llama

__all__ = [
    "synthetic_lengths",
    "PaddingWaste",
    "padding_waste",
    "padded_batch",
    "packed_batch",
    "packed_causal_mask",
    "PackedLossResult",
    "packed_vs_padded_loss",
    "TrainerPackingResult",
    "trainer_packing_loss",
    "AttentionCost",
    "attention_cost",
]


# --------------------------------------------------------------------------- example lengths


def synthetic_lengths(
    n: int = 2000,
    median: int = 64,
    sigma: float = 0.8,
    max_length: int = 512,
    seed: int = 0,
) -> list[int]:
    """Synthetic example lengths drawn from a log-normal distribution (not a real dataset).

    Lengths of text examples are positive and right-skewed: most are short, a few are
    long. A log-normal distribution has that shape and is a common stand-in for it; these
    lengths are invented, so use them to illustrate, not to predict a dataset's padding.

    Parameters
    ----------
    n : int, default 2000
        Number of lengths (>= 1).
    median : int, default 64
        Median of the log-normal before rounding (``exp(mu)``), >= 1.
    sigma : float, default 0.8
        Standard deviation of ``log(length)`` (> 0): larger means more spread.
    max_length : int, default 512
        Lengths are rounded up and clipped to ``1 .. max_length`` (a truncation limit).
    seed : int, default 0
        Seed of the draw.

    Returns
    -------
    lengths : list of int
        ``n`` lengths in draw order.

    Raises
    ------
    TypeError
        If a size or ``seed`` is not an int, or ``sigma`` is not a real number.
    ValueError
        If ``n``, ``median`` or ``max_length`` is < 1, ``sigma <= 0`` or ``seed < 0``.

    Examples
    --------
    >>> from lmnotes.packing import synthetic_lengths
    >>> lengths = synthetic_lengths(n=1000)
    >>> len(lengths), min(lengths) >= 1, max(lengths) <= 512
    (1000, True, True)
    >>> sorted(lengths)[500] in range(55, 75)  # the median is about 64
    True
    >>> synthetic_lengths(n=5) == synthetic_lengths(n=5)  # seeded
    True
    """
    n = check_int(n, "n", minimum=1)
    median = check_int(median, "median", minimum=1)
    max_length = check_int(max_length, "max_length", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)):
        raise TypeError(f"sigma must be a real number, got {type(sigma).__name__}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    generator = torch.Generator().manual_seed(seed)
    normal = torch.randn(n, generator=generator, dtype=torch.float64)
    lengths = torch.exp(math.log(median) + sigma * normal).ceil().clamp(1, max_length)
    return [int(x) for x in lengths.tolist()]


# --------------------------------------------------------------------------- padding waste


@dataclass(frozen=True)
class PaddingWaste:
    """How much of a padded dataset is padding.

    Attributes
    ----------
    real_tokens : int
        Sum of the example lengths.
    padded_tokens : int
        Slots in the padded batches: each batch is ``batch_size x`` its longest example
        (rounded up to ``pad_to_multiple_of``); the last batch may be smaller.
    pad_fraction : float
        ``(padded_tokens - real_tokens) / padded_tokens``: the share of slots that are pads.
    """

    real_tokens: int
    padded_tokens: int
    pad_fraction: float


def padding_waste(
    lengths: Sequence[int],
    batch_size: int,
    *,
    pad_to_multiple_of: int | None = None,
    sort_by_length: bool = False,
) -> PaddingWaste:
    """Fraction of pad tokens when examples of these lengths are padded batch by batch.

    Parameters
    ----------
    lengths : sequence of int
        Example lengths in dataset order (all positive).
    batch_size : int
        Examples per batch; batches are consecutive slices of ``lengths``.
    pad_to_multiple_of : int, optional
        Round each batch length up to a multiple of this (as the collators' option does).
    sort_by_length : bool, default False
        Sort the whole list by length first, which puts similar lengths together and
        usually wastes far less (not always: with a smaller last batch, sorting can waste
        a little more). The Trainer's ``group_by_length`` does a randomised version: it
        sorts within random "mega-batches" of up to 50 batches.

    Returns
    -------
    PaddingWaste

    Raises
    ------
    TypeError
        If ``lengths`` is not a sequence of ints or a size is not an int.
    ValueError
        If ``lengths`` is empty or holds a length < 1, or a size is < 1.

    Examples
    --------
    >>> from lmnotes.packing import padding_waste
    >>> padding_waste([2, 8, 3, 7], batch_size=2)
    PaddingWaste(real_tokens=20, padded_tokens=30, pad_fraction=0.3333333333333333)
    >>> padding_waste([2, 8, 3, 7], batch_size=2, sort_by_length=True).pad_fraction
    0.0909090909090909
    """
    lengths = check_lengths(lengths)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    multiple = (
        1
        if pad_to_multiple_of is None
        else check_int(pad_to_multiple_of, "pad_to_multiple_of", minimum=1)
    )
    if sort_by_length:
        lengths = sorted(lengths)
    padded = 0
    for start in range(0, len(lengths), batch_size):
        batch = lengths[start : start + batch_size]
        longest = -(-max(batch) // multiple) * multiple
        padded += longest * len(batch)
    real = sum(lengths)
    return PaddingWaste(
        real_tokens=real, padded_tokens=padded, pad_fraction=(padded - real) / padded
    )


# --------------------------------------------------------------------------- batches


def padded_batch(examples: Sequence[Sequence[int]], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Right-padded causal-LM batch: ``input_ids``, ``attention_mask`` and ``labels``.

    Parameters
    ----------
    examples : list of list of int
        Token ids of each example (non-empty).
    pad_token_id : int
        Id written in the pad slots.

    Returns
    -------
    batch : dict
        ``input_ids`` (batch, max_len) int64, ``attention_mask`` (batch, max_len) int64 (1 for
        real tokens) and ``labels`` (batch, max_len) int64: the ids, -100 on pads (the shift
        happens inside the model's loss).

    Raises
    ------
    ValueError
        If ``examples`` is empty or holds an empty example.

    Examples
    --------
    >>> from lmnotes.packing import padded_batch
    >>> batch = padded_batch([[5, 6, 7], [8, 9]], pad_token_id=1)
    >>> batch["input_ids"].tolist(), batch["labels"].tolist()
    ([[5, 6, 7], [8, 9, 1]], [[5, 6, 7], [8, 9, -100]])
    """
    examples = check_examples(examples)
    longest = max(len(ids) for ids in examples)
    input_ids = torch.full((len(examples), longest), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), longest), dtype=torch.long)
    for row, ids in enumerate(examples):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention_mask[row, : len(ids)] = 1
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def packed_batch(examples: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
    """Padding-free batch built by transformers' ``DataCollatorWithFlattening``.

    Parameters
    ----------
    examples : list of list of int, or list of dict with ``input_ids``
        Token ids of each example (non-empty).

    Returns
    -------
    batch : dict
        ``input_ids``, ``labels`` and ``position_ids``, each (1, total_tokens) int64. The
        position ids restart at 0 for each example; the first label of each example is
        -100 so no example learns to predict its first token from the previous example.

    Raises
    ------
    ValueError
        If ``examples`` is empty or holds an empty example.

    Examples
    --------
    >>> from lmnotes.packing import packed_batch
    >>> batch = packed_batch([[5, 6, 7], [8, 9]])
    >>> batch["input_ids"].tolist()
    [[5, 6, 7, 8, 9]]
    >>> batch["position_ids"].tolist(), batch["labels"].tolist()
    ([[0, 1, 2, 0, 1]], [[-100, 6, 7, -100, 9]])
    """
    examples = check_examples(examples)
    collator = DataCollatorWithFlattening(return_tensors="pt")
    return dict(collator([{"input_ids": ids} for ids in examples]))


def packed_causal_mask(position_ids: torch.Tensor) -> torch.Tensor:
    """Block-diagonal causal mask of a packed row, read from its position ids.

    A new example starts wherever the position does not continue the previous one by +1
    (the rule of ``transformers.masking_utils.find_packed_sequence_indices``); a token may
    attend to earlier tokens of its own example only.

    Parameters
    ----------
    position_ids : (batch, total_tokens) int64
        Positions restarting at each example, as from :func:`packed_batch`.

    Returns
    -------
    mask : (batch, 1, total_tokens, total_tokens) bool
        ``True`` where attention is allowed.

    Raises
    ------
    TypeError
        If ``position_ids`` is not a tensor.
    ValueError
        If ``position_ids`` is not 2D, is empty or is not of an integer dtype.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.packing import packed_causal_mask
    >>> packed_causal_mask(torch.tensor([[0, 1, 2, 0, 1]]))[0, 0].int()
    tensor([[1, 0, 0, 0, 0],
            [1, 1, 0, 0, 0],
            [1, 1, 1, 0, 0],
            [0, 0, 0, 1, 0],
            [0, 0, 0, 1, 1]], dtype=torch.int32)
    """
    check_integer_2d(position_ids, "position_ids")
    if position_ids.shape[1] == 0:
        raise ValueError(
            f"position_ids must have at least one token, got shape {tuple(position_ids.shape)}"
        )
    starts = torch.ones_like(position_ids, dtype=torch.bool)
    starts[:, 1:] = position_ids[:, 1:] != position_ids[:, :-1] + 1
    example = starts.cumsum(-1)  # (batch, N): index of the example each token belongs to
    same_example = example[:, :, None] == example[:, None, :]
    return (causal_mask(position_ids.shape[1], device=position_ids.device) & same_example)[:, None]


# --------------------------------------------------------------------------- loss parity


@dataclass(frozen=True)
class PackedLossResult:
    """Causal-LM loss on the same examples, padded and packed.

    Attributes
    ----------
    padded : float
        Right-padded batch with ``attention_mask``, pad labels -100.
    packed : float
        Packed row with ``position_ids`` and ``use_cache=False``: transformers derives the
        block-diagonal mask from the position ids.
    packed_explicit_mask : float
        Packed row with an explicit 4D :func:`packed_causal_mask` (additive under eager).
    packed_use_cache : float
        Packed row with ``position_ids`` but ``use_cache=True`` (the default of most
        configs outside the Trainer): transformers 5 then skips the packed-sequence
        detection and the examples attend to each other.
    packed_without_position_ids : float
        Packed row, no position ids: one long causal sequence.
    """

    padded: float
    packed: float
    packed_explicit_mask: float
    packed_use_cache: float
    packed_without_position_ids: float


def packed_vs_padded_loss(
    model: torch.nn.Module | None = None,
    examples: Sequence[Sequence[int]] | None = None,
    pad_token_id: int | None = None,
    seed: int = 0,
) -> PackedLossResult:
    """Compute the loss of a causal LM on padded and on packed copies of the same examples.

    Both batches predict the same tokens (each example's tokens after its first), so the
    mean losses agree when packing keeps the examples apart.

    Parameters
    ----------
    model : causal LM, optional
        A transformers ``...ForCausalLM`` taking ``position_ids``. Defaults to
        :func:`lmnotes.tiny.tiny_llama` ``(seed)`` (eager attention).
    examples : list of list of int, optional
        Token ids. Defaults to random examples of lengths 5, 3 and 7 drawn with ``seed``.
    pad_token_id : int, optional
        Pad id for the padded batch; defaults to the config's pad (else eos) id.
    seed : int, default 0
        Seed of the default model and examples.

    Returns
    -------
    PackedLossResult

    Raises
    ------
    ValueError
        If ``examples`` is empty or holds an empty example, or no pad id is known.

    Examples
    --------
    >>> from lmnotes.packing import packed_vs_padded_loss
    >>> result = packed_vs_padded_loss()
    >>> abs(result.packed - result.padded) < 1e-5
    True
    >>> abs(result.packed_explicit_mask - result.padded) < 1e-5
    True
    >>> abs(result.packed_use_cache - result.padded) > 1e-3
    True
    """
    if model is None:
        model = tiny_llama(seed)
    if examples is None:
        generator = torch.Generator().manual_seed(seed)
        examples = [
            torch.randint(TINY_FIRST_WORD_ID, TINY_VOCAB_SIZE, (n,), generator=generator).tolist()
            for n in (5, 3, 7)
        ]
    examples = check_examples(examples)
    if pad_token_id is None:
        pad_token_id = default_pad_token_id(model)

    padded = padded_batch(examples, pad_token_id)
    packed = packed_batch(examples)
    mask = packed_causal_mask(packed["position_ids"])
    if model.config._attn_implementation == "eager":
        mask = to_additive(mask, model.dtype)

    def loss(**inputs: torch.Tensor | bool) -> float:
        return forward_loss(model, **inputs)

    ids, labels, positions = packed["input_ids"], packed["labels"], packed["position_ids"]
    return PackedLossResult(
        padded=loss(**padded, use_cache=False),
        packed=loss(input_ids=ids, labels=labels, position_ids=positions, use_cache=False),
        packed_explicit_mask=loss(
            input_ids=ids,
            labels=labels,
            position_ids=positions,
            attention_mask=mask,
            use_cache=False,
        ),
        packed_use_cache=loss(input_ids=ids, labels=labels, position_ids=positions, use_cache=True),
        packed_without_position_ids=loss(input_ids=ids, labels=labels, use_cache=False),
    )


@dataclass(frozen=True)
class TrainerPackingResult:
    """The loss a real ``Trainer`` computes on the same examples, padded and packed.

    Attributes
    ----------
    training_args_use_cache : bool or None
        Default of ``TrainingArguments.use_cache``; ``None`` where the release has no such
        field (4.57).
    config_use_cache : bool
        ``model.config.use_cache`` once the ``Trainer`` is built: the value the model's
        forward falls back on, so whether it builds a key/value cache.
    padded : float
        ``Trainer.compute_loss`` on the right-padded batch with its ``attention_mask``.
    packed : float
        ``Trainer.compute_loss`` on the ``DataCollatorWithFlattening`` batch, the ``Trainer``
        as built.
    packed_config_no_cache : float
        The same after ``model.config.use_cache = False``, set by hand.
    """

    training_args_use_cache: bool | None
    config_use_cache: bool
    padded: float
    packed: float
    packed_config_no_cache: float


def trainer_packing_loss(
    model: torch.nn.Module | None = None,
    examples: Sequence[Sequence[int]] | None = None,
    pad_token_id: int | None = None,
) -> TrainerPackingResult:
    """Compute the loss of a padded and of a packed batch with a ``Trainer``'s default arguments.

    A ``Trainer`` is built with default ``TrainingArguments`` (on the CPU, no report, its
    output in a temporary folder); ``Trainer.compute_loss``, the call its training loop
    makes, gives the loss of each batch. The packed examples stay apart only if the model
    runs without a key/value cache (see :func:`packed_vs_padded_loss`).

    Parameters
    ----------
    model : causal LM, optional
        A transformers ``...ForCausalLM``; its ``config.use_cache`` is changed (the
        ``Trainer`` may set it, and the last measurement sets it to ``False``). Defaults to
        :func:`lmnotes.tiny.tiny_llama` (eager attention).
    examples : list of list of int, optional
        Token ids; defaults to those of :func:`packed_vs_padded_loss`.
    pad_token_id : int, optional
        Pad id for the padded batch; defaults to the config's pad (else eos) id.

    Returns
    -------
    TrainerPackingResult

    Raises
    ------
    ValueError
        If ``examples`` is empty or holds an empty example, or no pad id is known.

    Examples
    --------
    >>> from lmnotes.packing import trainer_packing_loss
    >>> result = trainer_packing_loss()
    >>> abs(result.packed_config_no_cache - result.padded) < 1e-5
    True
    >>> result.config_use_cache == (abs(result.packed - result.padded) > 1e-3)
    True
    """
    import tempfile

    from transformers import Trainer, TrainingArguments

    if model is None:
        model = tiny_llama()
    if examples is None:
        generator = torch.Generator().manual_seed(0)
        examples = [
            torch.randint(TINY_FIRST_WORD_ID, TINY_VOCAB_SIZE, (n,), generator=generator).tolist()
            for n in (5, 3, 7)
        ]
    examples = check_examples(examples)
    if pad_token_id is None:
        pad_token_id = default_pad_token_id(model)
    field = TrainingArguments.__dataclass_fields__.get("use_cache")
    with tempfile.TemporaryDirectory() as output_dir:
        args = TrainingArguments(output_dir=output_dir, report_to="none", use_cpu=True)
        trainer = Trainer(model=model, args=args)

        def loss(batch: dict[str, torch.Tensor]) -> float:
            with torch.no_grad():
                return float(trainer.compute_loss(trainer.model, dict(batch)))

        config_use_cache = bool(model.config.use_cache)
        padded = loss(padded_batch(examples, pad_token_id))
        packed = loss(packed_batch(examples))
        model.config.use_cache = False
        packed_no_cache = loss(packed_batch(examples))
    return TrainerPackingResult(
        training_args_use_cache=None if field is None else field.default,
        config_use_cache=config_use_cache,
        padded=padded,
        packed=packed,
        packed_config_no_cache=packed_no_cache,
    )


# --------------------------------------------------------------------------- attention cost


@dataclass(frozen=True)
class AttentionCost:
    """Work per pass over the data, counted for three layouts of the same examples.

    Attributes
    ----------
    real_tokens : int
        Sum of the example lengths: the token slots of a packed layout.
    padded_slots : int
        Token slots of the padded batches; every linear layer processes each slot.
    padded_scores : int
        Attention scores of the padded batches: ``batch x longest**2`` per batch.
    packed_dense_scores : int
        Attention scores of the packed rows under eager or SDPA attention, which compute a
        dense ``N x N`` matrix per row (``N`` = tokens in the row) and mask most of it.
    varlen_scores : int
        Attention scores when each example attends only to itself, as variable-length
        kernels (FlashAttention-2's ``flash_attn_varlen_func``) compute: ``sum(length**2)``.

    All score counts are full squares per head and layer; causal kernels skip about half.
    """

    real_tokens: int
    padded_slots: int
    padded_scores: int
    packed_dense_scores: int
    varlen_scores: int


def attention_cost(lengths: Sequence[int], batch_size: int) -> AttentionCost:
    """Count token slots and attention scores for padded, packed-dense and variable-length layouts.

    Batches are consecutive slices of ``batch_size`` examples, as in :func:`padding_waste`
    and :func:`lmnotes.machine.measure_throughput`; a packed row holds one such batch.

    Parameters
    ----------
    lengths : sequence of int
        Example lengths (all positive).
    batch_size : int
        Examples per padded batch and per packed row.

    Returns
    -------
    AttentionCost

    Raises
    ------
    TypeError
        If ``lengths`` is not a sequence of ints or ``batch_size`` not an int.
    ValueError
        If ``lengths`` is empty or holds a length < 1, or ``batch_size < 1``.

    Examples
    --------
    >>> from lmnotes.packing import attention_cost
    >>> cost = attention_cost([2, 8, 3, 7], batch_size=2)
    >>> cost.padded_slots, cost.real_tokens
    (30, 20)
    >>> cost.padded_scores, cost.packed_dense_scores, cost.varlen_scores
    (226, 200, 126)
    """
    lengths = check_lengths(lengths)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    padded_slots = padded_scores = dense = 0
    for start in range(0, len(lengths), batch_size):
        batch = lengths[start : start + batch_size]
        longest = max(batch)
        padded_slots += longest * len(batch)
        padded_scores += len(batch) * longest**2
        dense += sum(batch) ** 2
    return AttentionCost(
        real_tokens=sum(lengths),
        padded_slots=padded_slots,
        padded_scores=padded_scores,
        packed_dense_scores=dense,
        varlen_scores=sum(n**2 for n in lengths),
    )
