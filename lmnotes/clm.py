"""Causal language modelling (CLM): labels, the shift inside the loss, pad = eos.

``DataCollatorForLanguageModeling(mlm=False)`` does not shift anything: its
labels are a copy of ``input_ids`` in which every id equal to
``pad_token_id`` becomes ``-100``. The shift happens inside the model's loss
(``transformers.loss.loss_utils.ForCausalLMLoss``): the logits at position
``i`` are scored against the label at position ``i + 1``, for every position at
once (teacher forcing). :func:`shifted_loss` is that loss written out, and
:func:`next_token_losses` the same loss by hand, one value per position.

Hiding padding by its *id* goes wrong when the pad token is the EOS token (a
common fix for tokenizers without a pad token, such as GPT-2's or CodeGen's):
real EOS tokens lose their label too, and the model never learns to stop.
:func:`hidden_eos_labels` counts them in a collated batch;
:func:`causal_lm_labels` builds labels from the attention mask instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import torch
import torch.nn.functional as F

from lmnotes._checks import (
    check_attention_mask,
    check_batch,
    check_int,
    check_integer_2d,
    check_logits_labels,
    check_same_shape,
)
from lmnotes._losses import token_nll
from lmnotes.messages import msg

__all__ = [
    "EosLabelCount",
    "causal_lm_labels",
    "hidden_eos_labels",
    "next_token_losses",
    "shifted_loss",
]


def shifted_loss(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100
) -> torch.Tensor:
    """The causal LM loss: logits at position ``i`` against the label at ``i + 1``.

    Computes what a transformers causal LM returns as ``outputs.loss`` when
    called with ``labels=`` (``ForCausalLMLoss``, used by GPT-2, Llama, ...):
    logits upcast to float32, then cross-entropy of ``logits[..., :-1, :]``
    against ``labels[..., 1:]``, averaged over the targets that are not
    ``ignore_index``. Like the library, the labels are shifted left by one and
    padded with ``ignore_index`` at the end (the last position has no next
    token), which gives the same value as slicing the logits and keeps the
    floating-point sum in the same order, so the result is bit-identical.

    Parameters
    ----------
    logits : (batch, seq_len, vocab_size) float tensor
        Model outputs, any float dtype (computed in float32).
    labels : (batch, seq_len) integer tensor
        Labels *not* shifted, as the collator makes them (``-100`` = ignored).
    ignore_index : int, default -100
        Label value that does not count.

    Returns
    -------
    loss : () float32 tensor
        Mean negative log-likelihood of the next token over counted targets
        (``nan`` if every target is ignored, as in the library). The Trainer's
        ``num_items_in_batch`` (sum reduction for gradient accumulation) is not
        covered.

    Raises
    ------
    ValueError
        If ``logits`` is not a 3-D float tensor, ``labels`` not a 2-D integer
        tensor, or their (batch, seq_len) differ.
    TypeError
        If ``logits`` or ``labels`` is not a tensor, or ``ignore_index`` not an int.

    Examples
    --------
    >>> from lmnotes.clm import shifted_loss
    >>> import torch
    >>> logits = torch.zeros(1, 3, 4)          # uniform over a vocabulary of 4
    >>> logits[0, 0, 2] = 10.0                 # position 0 is sure the next token is 2
    >>> labels = torch.tensor([[1, 2, 3]])     # not shifted: label 2 sits at position 1
    >>> loss = shifted_loss(logits, labels)    # (~0 + log 4) / 2: positions 0 and 1 count
    >>> round(loss.item(), 3), round(torch.log(torch.tensor(4.0)).item() / 2, 3)
    (0.693, 0.693)
    >>> shifted_loss(logits, torch.tensor([[1, 2, -100]])).item() < 0.001  # only position 0
    True
    """
    check_logits_labels(logits, labels, ignore_index)

    logits = logits.float()
    # The target of position i is the label of position i + 1; the last position has none.
    targets = F.pad(labels, (0, 1), value=ignore_index)[..., 1:]
    vocab_size = logits.shape[-1]
    return F.cross_entropy(
        logits.reshape(-1, vocab_size),
        targets.reshape(-1).long(),
        ignore_index=ignore_index,
        reduction="mean",
    )


def next_token_losses(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100
) -> torch.Tensor:
    """The causal LM loss by hand: ``-log p(token i + 1)`` at every position ``i``.

    Each position is scored at once against the *next* label (teacher forcing):
    entry ``i`` is ``-log softmax(logits[:, i])[labels[:, i + 1]]``. The last
    position has no next token, and a next label equal to ``ignore_index``
    does not count: both are ``nan``. The mean of the finite entries is
    :func:`shifted_loss`, the loss the model returns (equal up to float rounding:
    the sum is taken in another order).

    Parameters
    ----------
    logits : (batch, seq_len, vocab_size) float tensor
        Model outputs (computed in float32).
    labels : (batch, seq_len) integer tensor
        Labels *not* shifted, as the collator makes them (``-100`` = ignored).
    ignore_index : int, default -100
        Label value that does not count.

    Returns
    -------
    losses : (batch, seq_len) float32 tensor
        Negative log-likelihood of the next token at each position, ``nan``
        where nothing is scored.

    Raises
    ------
    ValueError
        If ``logits`` is not a 3-D float tensor, ``labels`` not a 2-D integer
        tensor, their (batch, seq_len) differ, or a counted label is outside
        ``range(vocab_size)``.
    TypeError
        If ``logits`` or ``labels`` is not a tensor, or ``ignore_index`` not an int.

    Examples
    --------
    >>> from lmnotes.clm import next_token_losses, shifted_loss
    >>> import torch
    >>> logits = torch.zeros(1, 3, 4)          # uniform over a vocabulary of 4
    >>> logits[0, 0, 2] = 10.0                 # position 0 is sure the next token is 2
    >>> labels = torch.tensor([[1, 2, 3]])
    >>> losses = next_token_losses(logits, labels)
    >>> [round(x, 3) for x in losses[0].tolist()]   # ~0, log 4, nothing after the last token
    [0.0, 1.386, nan]
    >>> torch.isclose(losses.nanmean(), shifted_loss(logits, labels)).item()
    True
    """
    check_logits_labels(logits, labels, ignore_index)
    targets = F.pad(labels, (0, 1), value=ignore_index)[..., 1:]
    return token_nll(logits, targets, ignore_index)


def causal_lm_labels(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """CLM labels that hide padding by the attention mask, not by the pad id.

    The library's collator sets ``labels[input_ids == pad_token_id] = -100``; when
    the pad token is the EOS token, every real EOS is hidden too. Here a label
    is ``-100`` only where ``attention_mask == 0``, so real EOS tokens (attention
    1) keep their label whatever the pad id is. No shift: the model shifts.

    Parameters
    ----------
    input_ids : (batch, seq_len) integer tensor
        Token ids of a padded batch. Not modified.
    attention_mask : (batch, seq_len) integer (0/1) or bool tensor
        1 on real tokens, 0 on padding.

    Returns
    -------
    labels : (batch, seq_len) tensor, dtype of ``input_ids``
        ``input_ids`` where ``attention_mask`` is 1, ``-100`` where it is 0.

    Raises
    ------
    ValueError
        If either is not a 2-D integer tensor (bool allowed for the mask), the
        shapes differ, or the mask holds values other than 0 and 1.
    TypeError
        If either is not a tensor.

    Examples
    --------
    >>> from lmnotes.clm import causal_lm_labels
    >>> import torch
    >>> eos = 50256                                    # GPT-2's <|endoftext|>, also used as pad
    >>> input_ids = torch.tensor([[4299, 23748, eos, eos],    # EOS, then one pad
    ...                           [11748, 299, 32152, eos]])  # EOS, no padding
    >>> attention_mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    >>> causal_lm_labels(input_ids, attention_mask)
    tensor([[ 4299, 23748, 50256,  -100],
            [11748,   299, 32152, 50256]])
    """
    check_integer_2d(input_ids, "input_ids")
    keep = check_attention_mask(attention_mask, like=input_ids)
    labels = input_ids.clone()
    labels[~keep] = -100
    return labels


@dataclasses.dataclass(frozen=True)
class EosLabelCount:
    """Real EOS tokens of a batch, and how many of them lost their label.

    Attributes
    ----------
    real_eos : int
        Positions holding the EOS id with attention mask 1 (not padding).
    hidden : int
        Those of them whose label is ``-100``: the model is never trained to
        predict the end there.
    """

    real_eos: int
    hidden: int

    def __str__(self) -> str:
        return msg("{0} of {1} real EOS tokens have label -100", self.hidden, self.real_eos)


def hidden_eos_labels(batch: Mapping[str, torch.Tensor], eos_token_id: int) -> EosLabelCount:
    """Count real EOS tokens whose label became ``-100`` (the pad = eos pitfall).

    With ``tokenizer.pad_token = tokenizer.eos_token``, the collator
    ``DataCollatorForLanguageModeling(mlm=False)`` replaces *every* id equal to the
    pad id by ``-100`` in the labels, real EOS tokens included, although their
    attention-mask bit stays 1. This counts those positions.

    Parameters
    ----------
    batch : mapping
        With ``"input_ids"``, ``"attention_mask"`` and ``"labels"``, each
        (batch, seq_len) integer tensors, as the collator returns for dict examples.
    eos_token_id : int
        The EOS id (``tokenizer.eos_token_id``).

    Returns
    -------
    EosLabelCount
        ``real_eos`` (EOS with attention 1) and ``hidden`` (those labelled -100).

    Raises
    ------
    ValueError
        If ``batch`` lacks a key, a tensor is not 2-D integer, or shapes differ.
    TypeError
        If ``batch`` is not a mapping, or ``eos_token_id`` not an int.

    Examples
    --------
    >>> from lmnotes.clm import causal_lm_labels, hidden_eos_labels
    >>> import torch
    >>> eos = 50256
    >>> batch = {"input_ids": torch.tensor([[4299, 23748, eos, eos], [11748, 299, 32152, eos]]),
    ...          "attention_mask": torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])}
    >>> batch["labels"] = batch["input_ids"].masked_fill(batch["input_ids"] == eos, -100)
    >>> print(hidden_eos_labels(batch, eos))       # what the collator does when pad = eos
    2 of 2 real EOS tokens have label -100
    >>> batch["labels"] = causal_lm_labels(batch["input_ids"], batch["attention_mask"])
    >>> print(hidden_eos_labels(batch, eos))       # labels from the attention mask
    0 of 2 real EOS tokens have label -100
    """
    check_batch(batch, keys=("input_ids", "attention_mask", "labels"))
    check_int(eos_token_id, "eos_token_id")
    input_ids, labels = batch["input_ids"], batch["labels"]
    check_integer_2d(input_ids, "batch['input_ids']")
    check_integer_2d(labels, "batch['labels']")
    check_same_shape(labels, "batch['labels']", input_ids, "batch['input_ids']")
    attended = check_attention_mask(batch["attention_mask"], like=input_ids)
    real_eos = (input_ids == eos_token_id) & attended
    return EosLabelCount(
        real_eos=int(real_eos.sum()),
        hidden=int((real_eos & (labels == -100)).sum()),
    )
