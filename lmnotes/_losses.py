"""Per-position cross-entropy shared by the MLM and CLM modules (private)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def token_nll(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int) -> torch.Tensor:
    """``-log softmax(logits)[target]`` per position (float32), ``nan`` where ignored.

    Parameters
    ----------
    logits : (batch, seq_len, vocab_size) float tensor
    targets : (batch, seq_len) integer tensor
        The id each position must predict, or ``ignore_index``.
    ignore_index : int

    Returns
    -------
    (batch, seq_len) float32 tensor

    Raises
    ------
    ValueError
        If a counted target is outside ``range(vocab_size)``.
    """
    counted = targets != ignore_index
    vocab_size = logits.shape[-1]
    if bool(((targets < 0) | (targets >= vocab_size))[counted].any()):
        raise ValueError(
            f"labels must be in range(vocab_size={vocab_size}) or equal ignore_index "
            f"({ignore_index})"
        )
    log_probs = F.log_softmax(logits.float(), dim=-1)
    safe = torch.where(counted, targets, torch.zeros_like(targets)).long()
    nll = -log_probs.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return nll.masked_fill(~counted, float("nan"))
