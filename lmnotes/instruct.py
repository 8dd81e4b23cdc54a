"""Instruction tuning: the prompt gets label ``-100``, only the answer is scored.

A chat model is fine-tuned on conversations rendered by its chat template: a system turn,
a user turn, then the assistant's answer. The model should learn to *write the answer*,
not to predict the system prompt or the user's question, so the labels of every prompt
token are ``-100`` (completion-only loss, "prompt masking"); the answer, and the
end-of-turn token that closes it, keep their ids. The shift is still in the model's loss
(:mod:`lmnotes.clm`).

:func:`completion_only_example` builds such an example with the tokenizer's own chat
template: the prompt is the conversation without its last turn, rendered with the
generation prompt (``<|im_start|>assistant\\n`` for SmolLM2), and it must be a prefix of
the whole conversation. :func:`loss_split` scores one batch both ways.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import torch

from lmnotes._checks import (
    check_attention_mask,
    check_batch,
    check_integer_2d,
    check_same_shape,
)
from lmnotes._tables import Table
from lmnotes.clm import causal_lm_labels, next_token_losses

__all__ = ["LossSplit", "completion_only_example", "loss_split"]


def _chat_ids(tokenizer, messages: list, add_generation_prompt: bool) -> list[int]:
    """Token ids of ``messages`` rendered by the chat template (a dict on every release)."""
    rendered = tokenizer.apply_chat_template(
        messages, tokenize=True, return_dict=True, add_generation_prompt=add_generation_prompt
    )
    return list(rendered["input_ids"])


def completion_only_example(tokenizer, messages: Sequence[Mapping[str, str]]) -> dict:
    """One chat example whose labels score the last (assistant) turn only.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        With a chat template (``apply_chat_template``).
    messages : sequence of mappings
        ``{"role": ..., "content": ...}`` turns; the last one is the assistant's answer.

    Returns
    -------
    example : dict of lists of int
        ``input_ids`` (the whole conversation), ``attention_mask`` (all 1) and ``labels``:
        ``-100`` on the prompt (every token up to and including the generation prompt),
        the token id on the answer and what the template appends after it. Pad a batch of
        them with ``DataCollatorForSeq2Seq(tokenizer)``, which pads ``labels`` with ``-100``.

    Raises
    ------
    TypeError
        If ``messages`` is not a sequence of mappings.
    ValueError
        If there are fewer than two turns, the last is not ``"assistant"``, or the rendered
        prompt is not a prefix of the rendered conversation.

    Examples
    --------
    >>> from lmnotes.instruct import completion_only_example
    >>> from lmnotes.tiny import word_tokenizer
    >>> tokenizer = word_tokenizer()
    >>> tokenizer.chat_template = (
    ...     "{% for m in messages %}{{ m['content'] }} {% endfor %}"
    ...     "{% if add_generation_prompt %}w3 {% endif %}")   # "w3" opens the answer
    >>> example = completion_only_example(
    ...     tokenizer, [{"role": "user", "content": "w10 w11"},
    ...                 {"role": "assistant", "content": "w3 w20 w21"}])
    >>> example["input_ids"], example["labels"]
    ([10, 11, 3, 20, 21], [-100, -100, -100, 20, 21])
    """
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise TypeError(f"messages must be a sequence of turns, got {type(messages).__name__}")
    turns = list(messages)
    if not all(isinstance(turn, Mapping) for turn in turns):
        raise TypeError("messages must hold mappings with 'role' and 'content'")
    if len(turns) < 2:
        raise ValueError(f"messages must hold a prompt and an answer, got {len(turns)} turn(s)")
    if turns[-1].get("role") != "assistant":
        raise ValueError(
            f"the last turn of messages must be 'assistant', got {turns[-1].get('role')!r}"
        )
    prompt = _chat_ids(tokenizer, turns[:-1], add_generation_prompt=True)
    full = _chat_ids(tokenizer, turns, add_generation_prompt=False)
    if full[: len(prompt)] != prompt:
        raise ValueError(
            "messages: the rendered prompt is not a prefix of the rendered conversation; "
            "this chat template cannot be split at the answer"
        )
    labels = [-100] * len(prompt) + full[len(prompt) :]
    return {"input_ids": full, "attention_mask": [1] * len(full), "labels": labels}


@dataclasses.dataclass(frozen=True, repr=False)
class LossSplit(Table):
    """The loss of a batch with completion-only labels, against scoring every token.

    Attributes
    ----------
    answer_targets, prompt_targets : int
        Next-token targets in the answers, and in the prompts (every other real token but
        the first of each row, which is never a target).
    answer_only : float
        Mean next-token loss over the answer targets: the model's loss with
        completion-only labels.
    prompt_only : float
        Mean over the prompt targets.
    everything : float
        Mean over all targets: the model's loss with labels built from the attention mask.
    """

    answer_targets: int
    prompt_targets: int
    answer_only: float
    prompt_only: float
    everything: float

    columns = ("labels", "scored targets", "mean loss")
    numeric = (False, True, True)

    def cells(self) -> list[tuple[str, ...]]:
        """One row per way of labelling, the loss to 4 decimals."""
        return [
            ("answer only (prompt = -100)", str(self.answer_targets), f"{self.answer_only:.4f}"),
            ("prompt tokens alone", str(self.prompt_targets), f"{self.prompt_only:.4f}"),
            (
                "every token",
                str(self.answer_targets + self.prompt_targets),
                f"{self.everything:.4f}",
            ),
        ]


def loss_split(model: torch.nn.Module, batch: Mapping[str, torch.Tensor]) -> LossSplit:
    """Score one batch with its completion-only labels, and with every real token labelled.

    One forward pass; each position's loss comes from :func:`lmnotes.clm.next_token_losses`
    against labels built from the attention mask, and is counted in the answer if the
    batch's own label of the next position is not ``-100``.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers causal LM.
    batch : mapping
        ``input_ids``, ``attention_mask`` and ``labels`` (completion-only), each
        (batch, seq_len) integer tensors, as :func:`completion_only_example` examples
        padded by ``DataCollatorForSeq2Seq``.

    Returns
    -------
    LossSplit

    Raises
    ------
    TypeError
        If ``batch`` is not a mapping or a value not a tensor.
    ValueError
        If a key is missing, a tensor is not 2-D integer, or shapes differ.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.instruct import loss_split
    >>> from lmnotes.tiny import tiny_llama
    >>> ids = torch.tensor([[5, 6, 7, 8, 9]])
    >>> batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids),
    ...          "labels": torch.tensor([[-100, -100, -100, 8, 9]])}
    >>> split = loss_split(tiny_llama(), batch)
    >>> split.answer_targets, split.prompt_targets
    (2, 2)
    >>> with torch.no_grad():
    ...     model_loss = tiny_llama()(**batch).loss.item()
    >>> abs(split.answer_only - model_loss) < 1e-5
    True
    """
    check_batch(batch, keys=("input_ids", "attention_mask", "labels"))
    input_ids, labels = batch["input_ids"], batch["labels"]
    check_integer_2d(input_ids, "batch['input_ids']")
    check_integer_2d(labels, "batch['labels']")
    check_same_shape(labels, "batch['labels']", input_ids, "batch['input_ids']")
    attention_mask = check_attention_mask(batch["attention_mask"], like=input_ids)
    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask.long()).logits
    losses = next_token_losses(logits, causal_lm_labels(input_ids, attention_mask))
    scored = ~losses.isnan()
    next_label = torch.nn.functional.pad(labels, (0, 1), value=-100)[..., 1:]
    answer = scored & (next_label != -100)
    prompt = scored & ~answer

    def mean(where: torch.Tensor) -> float:
        return float(losses[where].mean()) if bool(where.any()) else float("nan")

    return LossSplit(
        answer_targets=int(answer.sum()),
        prompt_targets=int(prompt.sum()),
        answer_only=mean(answer),
        prompt_only=mean(prompt),
        everything=mean(scored),
    )
