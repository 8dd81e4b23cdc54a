"""Loss normalisation: which mean a language-model loss is, and gradient accumulation.

A transformers LM loss is the *sum* of the per-token losses of a batch divided by the
number of scored tokens (labels that are not ``-100``; for a causal LM, after the
shift). That is a mean per token, not a mean of per-example means: a long example
weighs in proportion to its length (:func:`token_and_example_means`).

Under gradient accumulation, a batch is split into micro-batches whose losses are
back-propagated one after the other. Averaging each micro-batch and dividing by the
number of steps gives each micro-batch the same weight, whatever its number of tokens;
since transformers 4.46 (PR #34191) the Trainer passes ``num_items_in_batch``, the number
of scored tokens of the whole accumulated batch, and the loss becomes ``sum /
num_items_in_batch``: the gradients are those of the whole batch at once.
:func:`accumulation_gradients` measures both against the full batch. That holds for a
model whose loss uses the count (a causal LM); a model whose forward takes ``**kwargs``
but ignores it (``BertForMaskedLM`` in transformers 5) gets the sum of the micro-batch
means instead, since the Trainer then skips its own division by the number of steps:
:func:`trainer_accumulation` measures what a real ``Trainer`` accumulates.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections.abc import Mapping

import torch

from lmnotes._checks import check_batch, check_int, check_integer_2d
from lmnotes._tables import Table
from lmnotes.clm import next_token_losses

__all__ = [
    "AccumulationResult",
    "MeanComparison",
    "SummedLoss",
    "TrainerAccumulation",
    "accumulation_gradients",
    "summed_loss",
    "token_and_example_means",
    "trainer_accumulation",
]


@dataclasses.dataclass(frozen=True, repr=False)
class MeanComparison(Table):
    """Per-token against per-example mean of a batch's losses.

    Attributes
    ----------
    rows : tuple of (int, int, float, float, float)
        ``(example, scored tokens, mean loss, weight in the token mean, weight in the
        example mean)``; the weights of each column add up to 1.
    token_mean : float
        Sum of all scored losses divided by their number (what the model returns).
    example_mean : float
        Mean of the per-example means.
    """

    rows: tuple[tuple[int, int, float, float, float], ...]
    token_mean: float
    example_mean: float

    columns = (
        "example",
        "scored tokens",
        "mean loss",
        "weight, token mean",
        "weight, example mean",
    )
    numeric = (True, True, True, True, True)

    def cells(self) -> list[tuple[str, ...]]:
        """Each example as text: the loss to 4 decimals, the weights to 3."""
        return [
            (str(i), str(n), f"{m:.4f}", f"{wt:.3f}", f"{we:.3f}") for i, n, m, wt, we in self.rows
        ]


def token_and_example_means(losses: torch.Tensor) -> MeanComparison:
    """Average per-token losses per token and per example.

    Parameters
    ----------
    losses : (batch, seq_len) float tensor
        One loss per position, ``nan`` where nothing is scored (as
        :func:`lmnotes.clm.next_token_losses` returns); each row scores at least one token.

    Returns
    -------
    MeanComparison

    Raises
    ------
    TypeError
        If ``losses`` is not a tensor.
    ValueError
        If it is not a 2-D float tensor, or a row scores nothing.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.loss_normalisation import token_and_example_means
    >>> nan = float("nan")
    >>> losses = torch.tensor([[1.0, nan, nan, nan], [3.0, 3.0, 3.0, nan]])
    >>> result = token_and_example_means(losses)
    >>> result.token_mean, result.example_mean     # (1 + 9) / 4 and (1 + 3) / 2
    (2.5, 2.0)
    """
    if not isinstance(losses, torch.Tensor):
        raise TypeError(f"losses must be a torch.Tensor, got {type(losses).__name__}")
    if losses.dim() != 2 or not losses.dtype.is_floating_point:
        raise ValueError(
            f"losses must be a 2-D float tensor, got {losses.dtype} of shape {tuple(losses.shape)}"
        )
    scored = ~losses.isnan()
    counts = scored.sum(dim=1)
    if bool((counts == 0).any()):
        raise ValueError("losses: every row must score at least one token")
    sums = torch.where(scored, losses, torch.zeros_like(losses)).double().sum(dim=1)
    means = sums / counts
    total = int(counts.sum())
    rows = tuple(
        (i, int(n), float(m), int(n) / total, 1 / len(counts))
        for i, (n, m) in enumerate(zip(counts, means, strict=True))
    )
    return MeanComparison(
        rows=rows, token_mean=float(sums.sum() / total), example_mean=float(means.mean())
    )


@dataclasses.dataclass(frozen=True, repr=False)
class AccumulationResult(Table):
    """Gradients of a batch split into micro-batches, against one pass over the whole batch.

    Attributes
    ----------
    targets_per_step : tuple of int
        Scored tokens (after the causal shift) of each micro-batch.
    rows : tuple of (str, float, float)
        ``(method, accumulated loss, relative gradient error)``: the sum over the steps
        of the loss each step back-propagates, and ``|g - g_full| / |g_full|`` over all
        parameters. Methods: one pass over the full batch; ``sum / num_items_in_batch``
        with the scored tokens counted after the shift (``labels[..., 1:]``, the Trainer
        since PR #46204); the same with every label counted (``labels``, the Trainer of
        4.57), and the mean of each micro-batch divided by the number of steps.
    """

    targets_per_step: tuple[int, ...]
    rows: tuple[tuple[str, float, float], ...]

    columns = ("method", "accumulated loss", "relative gradient error")
    numeric = (False, True, True)

    def cells(self) -> list[tuple[str, ...]]:
        """Each method as text: the loss to 6 decimals, the error in scientific notation."""
        return [(name, f"{loss:.6f}", f"{error:.1e}") for name, loss, error in self.rows]

    def error(self, method: str) -> float:
        """The relative gradient error of the row whose method starts with ``method``."""
        return next(row[2] for row in self.rows if row[0].startswith(method))


def _gradient(model: torch.nn.Module, losses) -> tuple[torch.Tensor, float]:
    """Back-propagate each loss from the callable ``losses``; the flat gradient and the loss sum."""
    model.zero_grad(set_to_none=True)
    total = 0.0
    for loss in losses():
        loss.backward()
        total += float(loss.detach())
    flat = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    model.zero_grad(set_to_none=True)
    return flat.double(), total


def accumulation_gradients(
    model: torch.nn.Module, batch: Mapping[str, torch.Tensor], steps: int
) -> AccumulationResult:
    """Split a causal-LM batch by rows into ``steps`` micro-batches and accumulate gradients.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers causal LM whose loss accepts ``num_items_in_batch`` (every model
        using ``ForCausalLMLoss``). Its gradients are reset before and after.
    batch : mapping
        ``input_ids``, ``attention_mask`` and ``labels``, (batch, seq_len) integer tensors,
        right-padded (labels ``-100`` on padding).
    steps : int
        Number of micro-batches; the rows are split in order, ``batch`` must divide evenly.

    Returns
    -------
    AccumulationResult

    Raises
    ------
    TypeError
        If ``batch`` is not a mapping or ``steps`` not an int.
    ValueError
        If a key is missing, ``labels`` is not a 2-D integer tensor, or the rows do not
        split into ``steps`` equal micro-batches.

    Examples
    --------
    >>> from lmnotes.loss_normalisation import accumulation_gradients
    >>> from lmnotes.packing import padded_batch
    >>> from lmnotes.tiny import tiny_llama
    >>> batch = padded_batch([[5, 6, 7], [8, 9, 10], [11] * 12, [12] * 12], pad_token_id=1)
    >>> result = accumulation_gradients(tiny_llama(), batch, steps=2)
    >>> result.targets_per_step
    (4, 22)
    >>> result.error("sum / num_items_in_batch (labels[..., 1:])") < 1e-5
    True
    >>> result.error("mean per step") > 1e-2
    True
    """
    inputs, micro = _micro_batches(batch, steps)
    shifted_counts = tuple(int((m["labels"][:, 1:] != -100).sum()) for m in micro)
    all_counts = sum(int((m["labels"] != -100).sum()) for m in micro)

    def with_items(count: int):
        return lambda: (model(**m, num_items_in_batch=torch.tensor(count)).loss for m in micro)

    full, full_loss = _gradient(model, lambda: [model(**inputs).loss])
    methods = [
        ("full batch, one pass", full, full_loss),
        (
            "sum / num_items_in_batch (labels[..., 1:])",
            *_gradient(model, with_items(sum(shifted_counts))),
        ),
        ("sum / num_items_in_batch (labels)", *_gradient(model, with_items(all_counts))),
        (
            "mean per step / steps",
            *_gradient(model, lambda: (model(**m).loss / steps for m in micro)),
        ),
    ]
    norm = float(full.norm())
    return AccumulationResult(
        targets_per_step=shifted_counts,
        rows=tuple(
            (name, loss, float((grad - full).norm()) / norm) for name, grad, loss in methods
        ),
    )


@dataclasses.dataclass(frozen=True, repr=False)
class TrainerAccumulation(Table):
    """The gradient a real ``Trainer`` accumulates, against three references.

    Attributes
    ----------
    model : str
        Class name of the model.
    accepts_loss_kwargs : bool
        ``Trainer.model_accepts_loss_kwargs``: whether the Trainer passes
        ``num_items_in_batch`` to the model and, in turn, skips its own division of each
        micro-batch's loss by the number of steps.
    targets_per_step : tuple of int
        Scored labels of each micro-batch (for a causal LM, after the shift).
    rows : tuple of (str, float)
        ``(reference, |g_trainer - g| / |g|)`` for three references ``g``: one pass over
        the whole batch; the sum of the micro-batches' mean-loss gradients; that sum
        divided by the number of steps.
    """

    model: str
    accepts_loss_kwargs: bool
    targets_per_step: tuple[int, ...]
    rows: tuple[tuple[str, float], ...]

    columns = ("the Trainer's gradient against", "relative difference")
    numeric = (False, True)

    def cells(self) -> list[tuple[str, ...]]:
        """Each reference as text, the difference in scientific notation."""
        return [(name, f"{error:.1e}") for name, error in self.rows]

    def error(self, reference: str) -> float:
        """The relative difference to the reference whose name starts with ``reference``.

        A ``KeyError`` if no reference name starts with ``reference``.
        """
        for name, error in self.rows:
            if name.startswith(reference):
                return error
        raise KeyError(f"no reference starts with {reference!r}: {[r[0] for r in self.rows]}")


def trainer_accumulation(
    model: torch.nn.Module, batch: Mapping[str, torch.Tensor], steps: int
) -> TrainerAccumulation:
    """Run one optimizer step of a real ``Trainer`` with gradient accumulation; compare gradients.

    The rows of ``batch`` are fed in order (an iterable dataset: no shuffling) to a
    ``Trainer`` with ``gradient_accumulation_steps=steps`` and ``rows / steps`` rows per
    micro-batch, on the CPU, with no gradient clipping; a callback copies the accumulated
    gradient just before the optimizer step. Dropout is switched off (the Trainer puts the
    model in training mode), so the gradients are deterministic. The references are
    computed by hand on the same model: the mean loss of the whole batch, and the mean
    loss of each micro-batch.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers model that returns ``loss`` given ``labels`` (a causal LM or
        ``BertForMaskedLM``); its dropout probabilities are set to 0 and its gradients
        reset before and after.
    batch : mapping
        ``input_ids``, ``attention_mask`` and ``labels``, (batch, seq_len) integer tensors,
        padded (labels ``-100`` where nothing is scored).
    steps : int
        Gradient accumulation steps; ``batch`` must split into ``steps`` equal micro-batches.

    Returns
    -------
    TrainerAccumulation

    Raises
    ------
    TypeError
        If ``batch`` is not a mapping or ``steps`` not an int.
    ValueError
        If a key is missing, ``labels`` is not a 2-D integer tensor, or the rows do not
        split into ``steps`` equal micro-batches.

    Examples
    --------
    >>> from lmnotes.loss_normalisation import trainer_accumulation
    >>> from lmnotes.packing import padded_batch
    >>> from lmnotes.tiny import tiny_llama
    >>> batch = padded_batch([[5, 6, 7], [8, 9, 10], [11] * 12, [12] * 12], pad_token_id=1)
    >>> result = trainer_accumulation(tiny_llama(), batch, steps=2)
    >>> result.accepts_loss_kwargs, result.targets_per_step
    (True, (4, 22))
    >>> result.error("the mean of the micro-batch means") > 1e-2
    True
    """
    import tempfile

    from transformers import Trainer, TrainerCallback, TrainingArguments, default_data_collator

    inputs, micro = _micro_batches(batch, steps)
    rows, size = len(inputs["labels"]), len(micro[0]["labels"])
    causal = type(model).__name__.endswith(("ForCausalLM", "LMHeadModel"))
    shift = 1 if causal else 0
    targets = tuple(int((m["labels"][:, shift:] != -100).sum()) for m in micro)

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    model.train()
    full, _ = _gradient(model, lambda: [model(**inputs).loss])
    sum_of_means, _ = _gradient(model, lambda: (model(**m).loss for m in micro))

    captured: list[torch.Tensor] = []

    class _Capture(TrainerCallback):
        def on_pre_optimizer_step(self, args, state, control, **kwargs):
            grads = [p.grad.flatten() for p in model.parameters() if p.grad is not None]
            captured.append(torch.cat(grads).double())

    class _Rows(torch.utils.data.IterableDataset):
        def __iter__(self):
            for i in range(rows):
                yield {k: v[i] for k, v in inputs.items()}

    with tempfile.TemporaryDirectory() as output_dir:
        args = TrainingArguments(
            output_dir=output_dir,
            report_to="none",
            use_cpu=True,
            per_device_train_batch_size=size,
            gradient_accumulation_steps=steps,
            max_steps=1,
            max_grad_norm=0.0,
            learning_rate=0.0,
            lr_scheduler_type="constant",
            logging_strategy="no",
            save_strategy="no",
            disable_tqdm=True,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=_Rows(),
            data_collator=default_data_collator,
            callbacks=[_Capture()],
        )
        with contextlib.redirect_stdout(io.StringIO()):  # the run's metrics: timings
            trainer.train()
        accepts = bool(trainer.model_accepts_loss_kwargs)
    model.zero_grad(set_to_none=True)
    model.eval()
    (got,) = captured
    references = [
        ("the whole batch, one pass", full),
        ("the sum of the micro-batch means", sum_of_means),
        ("the mean of the micro-batch means", sum_of_means / steps),
    ]
    return TrainerAccumulation(
        model=type(model).__name__,
        accepts_loss_kwargs=accepts,
        targets_per_step=targets,
        rows=tuple(
            (name, float((got - ref).norm()) / float(ref.norm())) for name, ref in references
        ),
    )


@dataclasses.dataclass(frozen=True)
class SummedLoss:
    """The sum of a batch's next-token losses and the number of scored targets.

    Attributes
    ----------
    total : float
        Sum of the per-target losses (float64).
    targets : int
        Scored targets.
    """

    total: float
    targets: int

    @property
    def mean(self) -> float:
        """``total / targets``: the model's loss."""
        return self.total / self.targets if self.targets else float("nan")


def summed_loss(model: torch.nn.Module, batch: Mapping[str, torch.Tensor]) -> SummedLoss:
    """Sum and count the next-token losses of a padded or a padding-free (packed) batch.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers causal LM.
    batch : mapping
        ``input_ids`` and ``labels`` (batch, seq_len) integer tensors, with
        ``attention_mask`` (padded batch) or ``position_ids`` (packed batch); passed to the
        model with ``use_cache=False``, so that a packed row keeps its examples apart.

    Returns
    -------
    SummedLoss

    Raises
    ------
    TypeError
        If ``batch`` is not a mapping.
    ValueError
        If ``input_ids`` or ``labels`` is missing.

    Examples
    --------
    >>> from lmnotes.loss_normalisation import summed_loss
    >>> from lmnotes.packing import packed_batch, padded_batch
    >>> from lmnotes.tiny import tiny_llama
    >>> examples = [[5, 6, 7], [8, 9, 10, 11, 12]]
    >>> padded = summed_loss(tiny_llama(), padded_batch(examples, pad_token_id=1))
    >>> packed = summed_loss(tiny_llama(), packed_batch(examples))
    >>> padded.targets, packed.targets, abs(padded.total - packed.total) < 1e-4
    (6, 6, True)
    """
    check_batch(batch, keys=("input_ids", "labels"))
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "position_ids") if k in batch}
    with torch.no_grad():
        logits = model(**inputs, use_cache=False).logits
    losses = next_token_losses(logits, batch["labels"])
    scored = ~losses.isnan()
    return SummedLoss(total=float(losses[scored].double().sum()), targets=int(scored.sum()))


def _micro_batches(
    batch: Mapping[str, torch.Tensor], steps: int
) -> tuple[dict[str, torch.Tensor], list[dict[str, torch.Tensor]]]:
    """``batch``'s ``input_ids``, ``attention_mask`` and ``labels``, checked, and their rows
    split in order into ``steps`` equal micro-batches (the errors of the public callers)."""
    check_batch(batch, keys=("input_ids", "attention_mask", "labels"))
    labels = check_integer_2d(batch["labels"], "batch['labels']")
    steps = check_int(steps, "steps", minimum=1)
    rows = labels.shape[0]
    if rows % steps:
        raise ValueError(f"steps: {rows} rows do not split into {steps} equal micro-batches")
    size = rows // steps
    inputs = {key: batch[key] for key in ("input_ids", "attention_mask", "labels")}
    micro = [{k: v[i * size : (i + 1) * size] for k, v in inputs.items()} for i in range(steps)]
    return inputs, micro
