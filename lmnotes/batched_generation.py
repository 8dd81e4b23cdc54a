"""Batched generation with a decoder-only model: left padding, and the position ids it needs.

Generation appends each new token at the end of every row, so in a batch of prompts of
different lengths the padding must be on the *left*: with right padding, new tokens would
follow pad tokens. ``generate()`` warns when it detects right padding in a decoder-only
batch (:func:`padding_warning` says how each release detects it). With left padding, the
attention mask hides the pads, and ``generate()`` derives the position ids from it
(``cumsum(mask) - 1``), so that the first real token of every row is at position 0, as
when the prompt is generated alone.

:func:`captured_position_ids` records what the model receives during ``generate()``;
:func:`batched_vs_alone` generates a left-padded batch and each prompt alone, and
compares them; :func:`padding_warning` returns the padding warning ``generate()`` logs
for a batch, :func:`right_padding_warning` that of a right-padded batch.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import torch

from lmnotes._checks import check_int
from lmnotes._tables import Table, visible_token

__all__ = [
    "BatchedGeneration",
    "batched_vs_alone",
    "captured_position_ids",
    "padding_warning",
    "right_padding_warning",
]


def _check_prompts(prompts: object) -> list[str]:
    if isinstance(prompts, str) or not isinstance(prompts, Sequence) or not prompts:
        raise TypeError("prompts must be a non-empty sequence of str")
    if not all(isinstance(p, str) and p for p in prompts):
        raise ValueError("prompts must hold non-empty strings")
    return list(prompts)


def _padded(tokenizer, prompts: list[str], side: str) -> dict[str, torch.Tensor]:
    """The prompts tokenized and padded on ``side``; the tokenizer's own side is left as it was."""
    previous = tokenizer.padding_side
    tokenizer.padding_side = side
    try:
        return dict(tokenizer(prompts, padding=True, return_tensors="pt"))
    finally:
        tokenizer.padding_side = previous


def captured_position_ids(model: torch.nn.Module, tokenizer, prompts: Sequence[str]) -> dict:
    """The left-padded batch, and the position ids the model receives at generate()'s first step.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers causal LM.
    tokenizer : transformers tokenizer
        With a pad token.
    prompts : sequence of str

    Returns
    -------
    dict
        ``input_ids`` and ``attention_mask`` of the left-padded batch, and
        ``position_ids`` (batch, seq_len): what ``generate()`` passed to the model's first
        forward pass.

    Raises
    ------
    TypeError, ValueError
        If ``prompts`` is not a non-empty sequence of non-empty strings.

    Examples
    --------
    >>> from lmnotes.batched_generation import captured_position_ids
    >>> from lmnotes.tiny import tiny_llama, word_tokenizer
    >>> seen = captured_position_ids(tiny_llama(), word_tokenizer(), ["w5 w6 w7", "w8"])
    >>> seen["attention_mask"].tolist()
    [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]]
    >>> seen["position_ids"][:, 2:].tolist()          # real tokens: cumsum(mask) - 1
    [[2, 3, 4], [0, 1, 2]]
    """
    batch = _padded(tokenizer, _check_prompts(prompts), "left")
    seen: list[torch.Tensor] = []

    def hook(_module, _args, kwargs):
        if not seen and kwargs.get("position_ids") is not None:
            seen.append(kwargs["position_ids"].clone())

    handle = model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        with torch.no_grad():
            model.generate(
                **batch, max_new_tokens=1, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
    finally:
        handle.remove()
    return {**batch, "position_ids": seen[0] if seen else None}


@dataclasses.dataclass(frozen=True, repr=False)
class BatchedGeneration(Table):
    """Greedy continuations of a left-padded batch against each prompt generated alone.

    Attributes
    ----------
    rows : tuple of (str, int, str, str, bool)
        ``(prompt, pads, batched continuation, alone continuation, same tokens)``; ``pads``
        is the number of pad tokens on the left of the prompt in the batch. Continuations
        stop at the first end-of-sequence token (a finished row of the batch is then padded).
    max_score_diff : float
        Largest absolute difference between the logits (scores) of the batched and the
        alone runs, over all steps while the tokens agree.
    """

    rows: tuple[tuple[str, int, str, str, bool], ...]
    max_score_diff: float

    columns = ("prompt", "pads", "batched (left padding)", "alone", "same tokens")
    numeric = (False, True, False, False, False)
    code = (True, False, True, True, False)

    @property
    def all_equal(self) -> bool:
        """True if every row generated the same tokens in the batch and alone."""
        return all(row[4] for row in self.rows)

    def cells(self) -> list[tuple[str, ...]]:
        """Each prompt as text; continuations with their spaces shown as ``␣``."""
        return [
            (visible_token(p), str(n), visible_token(b), visible_token(a), "yes" if s else "no")
            for p, n, b, a, s in self.rows
        ]


def batched_vs_alone(
    model: torch.nn.Module, tokenizer, prompts: Sequence[str], max_new_tokens: int = 8
) -> BatchedGeneration:
    """Generate greedily from a left-padded batch, then from each prompt alone.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers causal LM.
    tokenizer : transformers tokenizer
        With a pad token; its ``padding_side`` is restored afterwards.
    prompts : sequence of str
    max_new_tokens : int, default 8

    Returns
    -------
    BatchedGeneration

    Raises
    ------
    TypeError, ValueError
        If ``prompts`` is not a non-empty sequence of non-empty strings, or
        ``max_new_tokens`` not a positive int.

    Examples
    --------
    >>> from lmnotes.batched_generation import batched_vs_alone
    >>> from lmnotes.tiny import tiny_llama, word_tokenizer
    >>> result = batched_vs_alone(tiny_llama(), word_tokenizer(), ["w5 w6 w7", "w8"], 4)
    >>> [row[1] for row in result.rows], result.all_equal
    ([0, 2], True)
    """
    prompts = _check_prompts(prompts)
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", minimum=1)
    options = {
        "max_new_tokens": max_new_tokens,
        "do_sample": False,
        "output_scores": True,
        "return_dict_in_generate": True,
        "pad_token_id": tokenizer.pad_token_id,
    }
    batch = _padded(tokenizer, prompts, "left")
    width = batch["input_ids"].shape[1]
    eos = model.generation_config.eos_token_id
    eos = set(eos if isinstance(eos, list) else [] if eos is None else [eos])

    def until_eos(ids: list[int]) -> list[int]:
        """The generated ids up to the first end-of-sequence id (included): pads follow it."""
        cut = next((k + 1 for k, token in enumerate(ids) if token in eos), len(ids))
        return ids[:cut]

    with torch.no_grad():
        batched = model.generate(**batch, **options)
    rows, diff = [], 0.0
    for i, prompt in enumerate(prompts):
        alone_inputs = _padded(tokenizer, [prompt], "left")
        with torch.no_grad():
            alone = model.generate(**alone_inputs, **options)
        new_batched = until_eos(batched.sequences[i, width:].tolist())
        new_alone = until_eos(alone.sequences[0, alone_inputs["input_ids"].shape[1] :].tolist())
        for step, (b, a) in enumerate(zip(new_batched, new_alone, strict=False)):
            diff = max(diff, float((batched.scores[step][i] - alone.scores[step][0]).abs().max()))
            if b != a:
                break
        pads = int((batch["attention_mask"][i] == 0).sum())
        rows.append(
            (
                prompt,
                pads,
                tokenizer.decode(new_batched),
                tokenizer.decode(new_alone),
                new_batched == new_alone,
            )
        )
    return BatchedGeneration(rows=tuple(rows), max_score_diff=diff)


def padding_warning(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    pad_token_id: int,
) -> str:
    """The padding warning ``generate()`` logs for a batch (``""`` if none).

    ``generate()`` looks for right padding before it starts. Since transformers 5.3.0 it
    reads the last column of the attention mask (a 0 there is right padding); before, as
    in 4.57.6, it compared the last input id of each row with the pad id, so it also warned
    on a left-padded batch whose prompts end with the pad token (as when
    ``pad_token = eos_token`` and the prompts end with EOS).

    Parameters
    ----------
    model : torch.nn.Module
        A transformers decoder-only causal LM.
    input_ids, attention_mask : (batch, seq_len) int64 tensors
        The batch; ``attention_mask`` is 1 on real tokens, 0 on padding.
    pad_token_id : int
        Passed to ``generate()``.

    Returns
    -------
    str
        The first message ``generate()`` logged (one greedy step) that mentions padding.

    Raises
    ------
    TypeError
        If ``pad_token_id`` is not an int.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.batched_generation import padding_warning
    >>> from lmnotes.tiny import tiny_llama
    >>> ids = torch.tensor([[5, 6, 7], [8, 9, 1]])
    >>> right_padded = torch.tensor([[1, 1, 1], [1, 1, 0]])
    >>> "right-padding" in padding_warning(tiny_llama(), ids, right_padded, 1)
    True
    """
    pad_token_id = check_int(pad_token_id, "pad_token_id")
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("transformers")
    handler = Collect(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        with torch.no_grad():
            model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                max_new_tokens=1,
                do_sample=False,
                pad_token_id=pad_token_id,
            )
    finally:
        logger.removeHandler(handler)
    return next((m for m in messages if "padding" in m), "")


def right_padding_warning(model: torch.nn.Module, tokenizer, prompts: Sequence[str]) -> str:
    """The warning ``generate()`` logs for a right-padded batch (``""`` if none).

    Parameters
    ----------
    model : torch.nn.Module
        A transformers decoder-only causal LM.
    tokenizer : transformers tokenizer
        With a pad token.
    prompts : sequence of str
        Of different lengths, so that the batch is padded.

    Returns
    -------
    str

    Raises
    ------
    TypeError, ValueError
        If ``prompts`` is not a non-empty sequence of non-empty strings.

    Examples
    --------
    >>> from lmnotes.batched_generation import right_padding_warning
    >>> from lmnotes.tiny import tiny_llama, word_tokenizer
    >>> "right-padding" in right_padding_warning(tiny_llama(), word_tokenizer(), ["w5 w6", "w7"])
    True
    """
    batch = _padded(tokenizer, _check_prompts(prompts), "right")
    return padding_warning(
        model, batch["input_ids"], batch["attention_mask"], tokenizer.pad_token_id
    )
