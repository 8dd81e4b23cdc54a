"""Running a model for evidence: outputs, loss and pad id, shared by the modules (private)."""

from __future__ import annotations

import torch

__all__: list[str] = []


def forward_outputs(model: torch.nn.Module, **inputs: torch.Tensor | None) -> torch.Tensor:
    """Run ``model`` without gradients and return its logits, else its last hidden state."""
    with torch.no_grad():
        out = model(**inputs)
    logits = getattr(out, "logits", None)
    return logits if logits is not None else out.last_hidden_state


def forward_loss(model: torch.nn.Module, **inputs: torch.Tensor | bool | None) -> float:
    """The model's own loss on ``inputs``, without gradients."""
    with torch.no_grad():
        return float(model(**inputs).loss)


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest absolute difference of two tensors, in float64 (0.0 if they are empty)."""
    return float((a.double() - b.double()).abs().max()) if a.numel() else 0.0


def default_pad_token_id(model: torch.nn.Module) -> int:
    """The model config's pad id, else its (first) eos id; ``ValueError`` if it has neither.

    Parameters
    ----------
    model : transformers model
        Read through ``model.config``.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the config has neither ``pad_token_id`` nor ``eos_token_id``.
    """
    config = model.config
    pad_token_id = config.pad_token_id if config.pad_token_id is not None else config.eos_token_id
    if isinstance(pad_token_id, list):
        pad_token_id = pad_token_id[0]
    if pad_token_id is None:
        raise ValueError(
            "pad_token_id must be given: the model config has neither pad_token_id nor eos_token_id"
        )
    return pad_token_id
