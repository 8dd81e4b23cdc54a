"""Argument validation shared by the lmnotes modules (private).

Each helper raises ``TypeError`` when an argument has the wrong type and ``ValueError`` when
it has the right type but a wrong value, with a message that starts with the argument's name
(the ``name`` parameter) and says what was expected and what was received. The helpers
return the validated (sometimes converted) value so that callers can write
``n = check_int(n, "n", minimum=1)``.

They are tested through the public functions that use them (``tests/test_<module>.py``) and
directly in ``tests/test_checks.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

__all__: list[str] = []


def _is_integer_dtype(dtype: torch.dtype) -> bool:
    """True for integer dtypes, False for bool, floating and complex ones."""
    return not (dtype == torch.bool or dtype.is_floating_point or dtype.is_complex)


def check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) and ``>= minimum``.

    Parameters
    ----------
    value : object
        The argument to check.
    name : str
        Its name, used in the error message.
    minimum : int or None, default None
        Smallest accepted value; ``None`` accepts any int.

    Returns
    -------
    int
        ``value`` unchanged.

    Raises
    ------
    TypeError
        If ``value`` is not an int (bools are refused).
    ValueError
        If ``value < minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_integer_2d(value: object, name: str, *, allow_bool: bool = False) -> torch.Tensor:
    """Return ``value`` if it is a (batch, seq_len) integer tensor (bool too if ``allow_bool``).

    Parameters
    ----------
    value : object
        The argument to check.
    name : str
        Its name, used in the error message.
    allow_bool : bool, default False
        Accept a bool tensor as well (attention masks).

    Returns
    -------
    torch.Tensor
        ``value`` unchanged.

    Raises
    ------
    TypeError
        If ``value`` is not a tensor.
    ValueError
        If its dtype is floating, complex (or bool unless ``allow_bool``), or it is not 2-D.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of shape (batch, seq_len), got {type(value).__name__}"
        )
    if not (_is_integer_dtype(value.dtype) or (allow_bool and value.dtype == torch.bool)):
        kind = "integer or bool" if allow_bool else "integer"
        raise ValueError(f"{name} must have an {kind} dtype, got {value.dtype}")
    if value.dim() != 2:
        raise ValueError(f"{name} must be 2-D (batch, seq_len), got shape {tuple(value.shape)}")
    return value


def check_same_shape(
    value: torch.Tensor, name: str, reference: torch.Tensor, reference_name: str
) -> None:
    """Raise ``ValueError`` unless ``value`` has the shape of ``reference``.

    Parameters
    ----------
    value, reference : torch.Tensor
        The tensor to check and the one whose shape it must have.
    name, reference_name : str
        Their names, used in the error message.

    Raises
    ------
    ValueError
        If the shapes differ.
    """
    if value.shape != reference.shape:
        raise ValueError(
            f"{name} must have the shape of {reference_name} {tuple(reference.shape)}, "
            f"got {tuple(value.shape)}"
        )


def check_attention_mask(
    attention_mask: object,
    name: str = "attention_mask",
    *,
    like: torch.Tensor | None = None,
    like_name: str = "input_ids",
    non_empty: bool = False,
) -> torch.Tensor:
    """Validate a (batch, seq_len) mask of bools or 0/1 integers and return it as bool.

    Parameters
    ----------
    attention_mask : object
        The argument to check: 1 (``True``) for real tokens, 0 for padding.
    name : str, default "attention_mask"
        Its name, used in the error message.
    like : torch.Tensor or None, default None
        If given, the mask must have its shape (``input_ids`` usually).
    like_name : str, default "input_ids"
        Name of ``like`` in the error message.
    non_empty : bool, default False
        Refuse a mask with no position (``seq_len == 0``).

    Returns
    -------
    mask : (batch, seq_len) bool
        ``attention_mask`` as a bool tensor.

    Raises
    ------
    TypeError
        If ``attention_mask`` is not a tensor.
    ValueError
        If it is not 2-D, has a floating or complex dtype, holds other values than 0 and 1,
        is empty while ``non_empty`` or has another shape than ``like``.
    """
    check_integer_2d(attention_mask, name, allow_bool=True)
    if non_empty and attention_mask.shape[-1] == 0:
        raise ValueError(
            f"{name} must have at least one position, got shape {tuple(attention_mask.shape)}"
        )
    if like is not None:
        check_same_shape(attention_mask, name, like, like_name)
    if attention_mask.dtype == torch.bool:
        return attention_mask
    if not bool(((attention_mask == 0) | (attention_mask == 1)).all()):
        raise ValueError(f"{name} must contain only 0 and 1")
    return attention_mask.bool()


def check_logits_labels(logits: object, labels: object, ignore_index: object) -> None:
    """Validate (batch, seq_len, vocab_size) float logits against (batch, seq_len) labels.

    Parameters
    ----------
    logits : object
        Expected: (batch, seq_len, vocab_size) floating tensor.
    labels : object
        Expected: (batch, seq_len) integer tensor.
    ignore_index : object
        Expected: an int.

    Raises
    ------
    TypeError
        If ``logits`` or ``labels`` is not a tensor, or ``ignore_index`` not an int.
    ValueError
        If ``logits`` is not a 3-D float tensor, ``labels`` not a 2-D integer tensor, or
        their (batch, seq_len) differ.
    """
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    if not logits.dtype.is_floating_point:
        raise ValueError(f"logits must have a float dtype, got {logits.dtype}")
    if logits.dim() != 3:
        raise ValueError(
            f"logits must be 3-D (batch, seq_len, vocab_size), got shape {tuple(logits.shape)}"
        )
    check_integer_2d(labels, "labels")
    if labels.shape != logits.shape[:2]:
        raise ValueError(
            f"labels must have shape (batch, seq_len) = {tuple(logits.shape[:2])} "
            f"like logits, got {tuple(labels.shape)}"
        )
    check_int(ignore_index, "ignore_index")


def as_ids(input_ids: object, name: str = "input_ids") -> torch.Tensor:
    """Turn one sequence of token ids into a (1, seq_len) int64 tensor.

    Parameters
    ----------
    input_ids : list of int, (seq_len,) or (1, seq_len) integer tensor
        One non-empty sequence.
    name : str, default "input_ids"
        Its name, used in the error message.

    Returns
    -------
    ids : (1, seq_len) int64

    Raises
    ------
    TypeError
        If ``input_ids`` is neither a tensor nor a sequence (a ``str`` is refused).
    ValueError
        If it does not hold integer ids, or not exactly one non-empty sequence.
    """
    if isinstance(input_ids, torch.Tensor):
        ids = input_ids
    elif isinstance(input_ids, Sequence) and not isinstance(input_ids, str):
        ids = torch.tensor(list(input_ids))
    else:
        raise TypeError(f"{name} must be a list of ids or a tensor, got {type(input_ids).__name__}")
    if not _is_integer_dtype(ids.dtype):
        raise ValueError(f"{name} must hold integer token ids, got dtype {ids.dtype}")
    if ids.ndim == 1:
        ids = ids.unsqueeze(0)
    if ids.ndim != 2 or ids.shape[0] != 1 or ids.shape[1] == 0:
        raise ValueError(
            f"{name} must hold one non-empty sequence (list, 1-D or (1, seq_len)), "
            f"got shape {tuple(ids.shape)}"
        )
    return ids.long()


def check_probability(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a number in [0, 1].

    Raises
    ------
    TypeError
        If ``value`` is not an int or float (bools are refused).
    ValueError
        If it is outside [0, 1] (or NaN).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(value).__name__}")
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def check_floating(value: object, name: str) -> torch.Tensor:
    """Return ``value`` if it is a floating tensor of at least 2 dimensions ``(..., length, dim)``.

    Raises
    ------
    TypeError
        If ``value`` is not a tensor.
    ValueError
        If its dtype is not floating or it has fewer than 2 dimensions.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.dtype.is_floating_point:
        raise ValueError(f"{name} must have a floating dtype, got {value.dtype}")
    if value.ndim < 2:
        raise ValueError(
            f"{name} must have at least 2 dimensions (..., length, dim), "
            f"got shape {tuple(value.shape)}"
        )
    return value


def check_lengths(value: object, name: str = "lengths") -> list[int]:
    """Return ``value`` as a non-empty list of positive ints (a tensor is accepted too).

    Raises
    ------
    TypeError
        If ``value`` is not a sequence of ints (a ``str`` is refused).
    ValueError
        If it is empty or holds a length < 1.
    """
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"{name} must be a sequence of ints, got {type(value).__name__}")
    if len(value) == 0:
        raise ValueError(f"{name} must not be empty")
    for length in value:
        if isinstance(length, bool) or not isinstance(length, int):
            raise TypeError(f"{name} must hold ints, got {type(length).__name__}")
        if length < 1:
            raise ValueError(f"{name} must hold positive lengths, got {length}")
    return list(value)


def check_batch(
    value: object, name: str = "batch", *, keys: Sequence[str] = ("input_ids", "labels")
) -> Mapping:
    """Return ``value`` if it is a mapping (a dict or a ``BatchEncoding``) holding ``keys``.

    Raises
    ------
    TypeError
        If ``value`` is not a mapping.
    ValueError
        If a key of ``keys`` is missing; the message lists the keys it has.
    """
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{name} must be a mapping (dict or BatchEncoding), got {type(value).__name__}"
        )
    for key in keys:
        if key not in value:
            raise ValueError(f"{name} must contain {key!r}; it has {sorted(value.keys())}")
    return value


def check_examples(value: object, name: str = "examples") -> list[list[int]]:
    """Return a non-empty list of token-id lists (or of dicts with ``input_ids``) as lists of ints.

    Raises
    ------
    TypeError
        If ``value`` is not a sequence, or an example is not a sequence of integer ids.
    ValueError
        If ``value`` or one of its examples is empty.
    """
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"{name} must be a list of token-id lists, got {type(value).__name__}")
    if len(value) == 0:
        raise ValueError(f"{name} must not be empty")
    out = []
    for example in value:
        ids = example["input_ids"] if isinstance(example, dict) else example
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        if not isinstance(ids, Sequence) or isinstance(ids, str):
            raise TypeError(f"{name} must hold sequences of ids, got {type(ids).__name__}")
        if not ids:
            raise ValueError(f"{name} must not contain an empty example")
        if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
            raise TypeError(f"{name} must hold integer token ids")
        out.append(list(ids))
    return out
