"""One lmnotes for every supported transformers release (``transformers>=4.57,<6``).

A few of the APIs lmnotes builds on changed within that range. The shims here pick the
call from what the installed release offers (the parameters of a function, the signature
of a model's ``forward``), not from version numbers, so that every release works. ``nox -s
compat`` runs the tests on the last patch of every minor release of the range, and
docs/reference/compatibility.md gives, per claim (named below), the release where it
changed, as measured.

- ``masking_utils.create_causal_mask``: its arguments were renamed within the range
  (``input_embeds`` -> ``inputs_embeds``, ``cache_position`` dropped, ``past_key_values``
  -> ``cache``). :func:`create_causal_mask` calls it for a pass without a cache.
- The key/value cache argument of a model: ``past_key_values``, renamed ``cache`` (the old
  name deprecated; claim ``api-cache-argument``). :func:`cache_argument` gives the name the
  model takes.
- Masks received by attention modules: additive floats under "eager", booleans under
  "sdpa" for decoder-only models, and for encoder and cross-attention in the newer
  releases (additive floats before; claim ``mask-sdpa-encoder``). :func:`as_boolean_mask`
  reads either as booleans.
- ``DataCollatorForLanguageModeling(seed=0)`` used the global RNG in the older releases
  (:data:`SEED_ZERO_HONOURED`; claim ``mlm-seed-zero``).

:func:`versions` names the transformers and torch releases that are running; each note
page prints it, so that a reader knows which releases produced the outputs shown.
"""

from __future__ import annotations

import inspect

import torch
import transformers
from packaging.version import Version

__all__ = [
    "SEED_ZERO_HONOURED",
    "TRANSFORMERS_VERSION",
    "as_boolean_mask",
    "cache_argument",
    "create_causal_mask",
    "versions",
]

#: The installed transformers release.
TRANSFORMERS_VERSION = Version(transformers.__version__)

#: Whether ``DataCollatorForLanguageModeling(seed=0)`` seeds its generator on the installed
#: release; before the change (claim ``mlm-seed-zero`` of the compatibility page),
#: ``seed=0`` was ignored (``if self.seed``) and the global torch RNG was used.
SEED_ZERO_HONOURED = TRANSFORMERS_VERSION.release >= (5, 19)


def versions() -> dict[str, str]:
    """The transformers and torch releases that are running, as their version strings.

    Each note page calls it once, so that the page says which releases produced its
    outputs (docs/reference/compatibility.md lists the supported range).

    Returns
    -------
    dict of str to str
        ``{"transformers": transformers.__version__, "torch": torch.__version__}``,
        in that order.

    Examples
    --------
    >>> import torch, transformers
    >>> from lmnotes.compat import versions
    >>> list(versions())
    ['transformers', 'torch']
    >>> versions()["torch"] == torch.__version__
    True
    """
    return {"transformers": transformers.__version__, "torch": torch.__version__}


def create_causal_mask(
    config,
    inputs_embeds: torch.Tensor,
    attention_mask: torch.Tensor | None,
    *,
    position_ids: torch.Tensor | None = None,
):
    """Call ``transformers.masking_utils.create_causal_mask`` for a pass without a cache.

    The function's arguments changed across releases: 4.57 takes ``input_embeds``,
    ``cache_position`` and ``past_key_values``; later releases ``inputs_embeds`` and
    ``past_key_values``, then ``cache``. This passes the installed release what it expects
    for a first forward pass (positions ``0 .. seq_len - 1``, no cache).

    Parameters
    ----------
    config : transformers.PretrainedConfig
        A decoder config; its ``_attn_implementation`` ("eager", "sdpa") picks the mask type.
    inputs_embeds : (batch, seq_len, hidden) float tensor
        Only its shape, dtype and device are used.
    attention_mask : (batch, seq_len) int64 or bool, optional
        1 for real tokens, 0 for padding.
    position_ids : (batch, seq_len) int64, optional
        With ``attention_mask=None``, restarting positions mark packed sequences (4.53+).

    Returns
    -------
    mask : (batch, 1, seq_len, seq_len) tensor or None
        What the model's attention layers receive: additive float under "eager"; bool, or
        ``None`` when ``is_causal`` suffices, under "sdpa".

    Raises
    ------
    TypeError
        If ``inputs_embeds`` is not a 3-D tensor.

    Examples
    --------
    >>> import torch
    >>> from transformers import LlamaConfig
    >>> from lmnotes.compat import create_causal_mask
    >>> config = LlamaConfig(hidden_size=8, num_attention_heads=2, num_hidden_layers=1,
    ...                      intermediate_size=16, attn_implementation="sdpa")
    >>> mask = create_causal_mask(config, torch.zeros(1, 3, 8), torch.tensor([[1, 1, 0]]))
    >>> mask[0, 0].int()
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 0]], dtype=torch.int32)
    """
    from transformers.masking_utils import create_causal_mask as library_create_causal_mask

    if not isinstance(inputs_embeds, torch.Tensor) or inputs_embeds.ndim != 3:
        raise TypeError("inputs_embeds must be a 3-D tensor (batch, seq_len, hidden)")
    parameters = inspect.signature(library_create_causal_mask).parameters
    kwargs = {"config": config, "attention_mask": attention_mask, "position_ids": position_ids}
    embeds = "inputs_embeds" if "inputs_embeds" in parameters else "input_embeds"
    kwargs[embeds] = inputs_embeds
    if "cache_position" in parameters:
        kwargs["cache_position"] = torch.arange(inputs_embeds.shape[1], device=inputs_embeds.device)
    kwargs["cache" if "cache" in parameters else "past_key_values"] = None
    return library_create_causal_mask(**kwargs)


def cache_argument(model: torch.nn.Module) -> str:
    """Name of the key/value-cache argument of ``model.forward``: ``cache`` or ``past_key_values``.

    transformers 5.24 renamed ``past_key_values`` to ``cache`` (the old name still works
    there, with a deprecation warning); a model of an earlier release ignores ``cache``
    (it lands in ``**kwargs``) and silently runs without the cache. Pass the cache as
    ``model(**{cache_argument(model): cache})``; read it back from the output with
    :func:`getattr` on the same name.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers model that can take a key/value cache.

    Returns
    -------
    str
        ``"cache"`` or ``"past_key_values"``.

    Raises
    ------
    ValueError
        If ``model.forward`` takes neither.

    Examples
    --------
    >>> from lmnotes.compat import cache_argument
    >>> from lmnotes.tiny import tiny_llama
    >>> cache_argument(tiny_llama()) in ("cache", "past_key_values")
    True
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    parameters = inspect.signature(model.forward).parameters
    for name in ("cache", "past_key_values"):
        if name in parameters:
            return name
    raise ValueError(
        f"model ({type(model).__name__}) takes no key/value cache (no 'cache' or "
        "'past_key_values' argument in forward)"
    )


def as_boolean_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    """Read a mask an attention module received as booleans: ``True`` where attention is allowed.

    Eager attention receives additive float masks (``0`` allowed, ``finfo(dtype).min``
    hidden); SDPA boolean masks, except for encoder self-attention and cross-attention
    before transformers 5.0, which received additive floats too. Comparing masks as
    booleans checks what they allow, whatever the release.

    Parameters
    ----------
    mask : tensor or None
        Boolean, or additive float whose entries are ``0`` (``-0.0`` too) or at most
        ``finfo(dtype).min / 2``. ``None`` (no mask: every key allowed, or ``is_causal``)
        is returned as is.

    Returns
    -------
    mask : bool tensor of the same shape, or None

    Raises
    ------
    TypeError
        If ``mask`` is neither a tensor nor None.
    ValueError
        If a float mask holds other values (a bias, not a mask), or the dtype is neither
        bool nor floating.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.compat import as_boolean_mask
    >>> as_boolean_mask(torch.tensor([[0.0, torch.finfo(torch.float32).min]]))
    tensor([[ True, False]])
    >>> as_boolean_mask(torch.tensor([[True, False]]))
    tensor([[ True, False]])
    """
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a torch.Tensor or None, got {type(mask).__name__}")
    if mask.dtype == torch.bool:
        return mask
    if not mask.dtype.is_floating_point:
        raise ValueError(f"mask must be bool or an additive float mask, got dtype {mask.dtype}")
    allowed = mask == 0
    hidden = mask <= torch.finfo(mask.dtype).min / 2
    if not bool((allowed | hidden).all()):
        raise ValueError(
            "mask must be additive (entries 0 or about finfo(dtype).min); it holds other values"
        )
    return allowed
