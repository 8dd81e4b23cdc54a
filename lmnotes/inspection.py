"""What transformers builds inside a forward pass, captured with hooks: masks and attention inputs.

The pages compare the masks of :mod:`lmnotes.masks` with the ones the library itself
builds (:func:`transformers_causal_mask`, :func:`transformers_cross_attention_mask`), read
the mask an attention module receives (:func:`capture_attention_mask`) and the queries,
keys and values of one cross-attention layer (:func:`cross_attention_tensors`).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from lmnotes._checks import check_attention_mask, check_int
from lmnotes.compat import create_causal_mask
from lmnotes.tiny import TINY_HIDDEN_SIZE, random_word_ids, tiny_bart, tiny_llama_config

__all__ = [
    "OLDER_MASK_BUILDERS",
    "capture_attention_mask",
    "models_with_older_mask_builders",
    "transformers_causal_mask",
    "transformers_cross_attention_mask",
    "CrossAttentionTensors",
    "cross_attention_tensors",
]


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
    >>> from lmnotes.inspection import capture_attention_mask
    >>> from lmnotes.tiny import tiny_gpt2
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


#: Calls with which a model builds its own decoder mask instead of ``masking_utils``: the
#: model's ``_update_causal_mask`` method, or ``modeling_attn_mask_utils``' helper.
OLDER_MASK_BUILDERS = ("_update_causal_mask", "_prepare_4d_causal_attention_mask")


def models_with_older_mask_builders(models_dir: str | Path | None = None) -> tuple[str, ...]:
    """The model files that still build a causal mask without ``masking_utils``.

    A modelling file counts when its code calls one of :data:`OLDER_MASK_BUILDERS`
    (``_update_causal_mask(`` or ``_prepare_4d_causal_attention_mask(``); the others build
    their masks with ``masking_utils.create_causal_mask`` and its relatives, or need none.

    Parameters
    ----------
    models_dir : str or Path, optional
        A folder laid out as ``transformers/models``: ``<model>/modeling_<model>.py`` (and
        ``deprecated/<model>/...``). Default: that of the installed transformers.

    Returns
    -------
    tuple of str
        The model folders (``"bart"``, ``"deprecated/open_llama"``), sorted, each once.

    Raises
    ------
    ValueError
        If ``models_dir`` is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lmnotes.inspection import models_with_older_mask_builders
    >>> root = Path(tempfile.mkdtemp())
    >>> for name, code in [("old", "mask = self._update_causal_mask(attention_mask)"),
    ...                    ("new", "mask = create_causal_mask(config=self.config)")]:
    ...     (root / name).mkdir()
    ...     _ = (root / name / f"modeling_{name}.py").write_text(code)
    >>> models_with_older_mask_builders(root)
    ('old',)
    """
    if models_dir is None:
        import transformers

        models_dir = Path(transformers.__file__).parent / "models"
    root = Path(models_dir)
    if not root.is_dir():
        raise ValueError(f"models_dir must be a folder, got {str(root)!r}")
    call = re.compile(r"\b(?:" + "|".join(OLDER_MASK_BUILDERS) + r")\(")
    found = {
        path.parent.relative_to(root).as_posix()
        for path in root.rglob("modeling_*.py")
        if call.search(path.read_text("utf-8"))
    }
    return tuple(sorted(found))


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
    TypeError
        If ``attention_mask`` is not a tensor.
    ValueError
        If ``attention_mask`` is not a 2-D mask of 0/1 (or bool), or ``attn_implementation``
        is not "eager"/"sdpa".

    Examples
    --------
    >>> import torch
    >>> from lmnotes.inspection import transformers_causal_mask
    >>> transformers_causal_mask(torch.tensor([[1, 1, 0]]), "sdpa")[0, 0].int()
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 0]], dtype=torch.int32)
    >>> transformers_causal_mask(torch.tensor([[1, 1, 1]]), "sdpa") is None
    True
    """
    attention_mask = check_attention_mask(attention_mask)
    if attn_implementation not in ("eager", "sdpa"):
        raise ValueError(
            f'attn_implementation must be "eager" or "sdpa", got {attn_implementation!r}'
        )
    config = tiny_llama_config(attn_implementation)
    inputs_embeds = torch.zeros(*attention_mask.shape, TINY_HIDDEN_SIZE, dtype=dtype)
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
        If ``encoder_attention_mask`` is not a tensor, or ``tgt_len`` or ``seed`` not an int.
    ValueError
        If ``encoder_attention_mask`` is not a non-empty 2-D mask of 0/1 (or bool), or
        ``tgt_len < 1``.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.inspection import transformers_cross_attention_mask
    >>> from lmnotes.compat import as_boolean_mask
    >>> mask = transformers_cross_attention_mask(torch.tensor([[1, 1, 0]]), 2, "sdpa")
    >>> as_boolean_mask(mask)[0, 0].int()   # bool since transformers 5.0, additive before
    tensor([[1, 1, 0],
            [1, 1, 0]], dtype=torch.int32)
    """
    encoder_attention_mask = check_attention_mask(
        encoder_attention_mask, "encoder_attention_mask", non_empty=True
    ).long()
    tgt_len = check_int(tgt_len, "tgt_len", minimum=1)
    model = tiny_bart(seed, attn_implementation)
    batch, src_len = encoder_attention_mask.shape
    return capture_attention_mask(
        model,
        model.decoder.layers[0].encoder_attn,
        input_ids=random_word_ids(src_len, seed, batch=batch),
        attention_mask=encoder_attention_mask,
        decoder_input_ids=random_word_ids(tgt_len, seed + 1, batch=batch),
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
        Pegasus), e.g. :func:`lmnotes.tiny.tiny_bart`.
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
    >>> from lmnotes.inspection import cross_attention_tensors
    >>> from lmnotes.tiny import tiny_bart
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
        raise ValueError(f"layer {layer}: its cross-attention was not called by the forward pass")

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
