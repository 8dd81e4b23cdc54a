"""Measuring this machine: forward-pass throughput on padded and packed batches, and the CPU.

Timings belong to the machine they were measured on, so a page that prints one also prints
:func:`machine_description`; only the token counts of :class:`Throughput` are
deterministic. The batches come from :mod:`lmnotes.packing`, the default model from
:mod:`lmnotes.tiny`.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from lmnotes._checks import check_int, check_lengths
from lmnotes._models import default_pad_token_id
from lmnotes.packing import packed_batch, padded_batch
from lmnotes.tiny import random_word_ids, tiny_llama

__all__ = ["Throughput", "measure_throughput", "machine_description"]


@dataclass(frozen=True)
class Throughput:
    """Forward-pass speed on padded and packed batches of the same examples.

    Attributes
    ----------
    real_tokens : int
        Non-pad tokens processed per pass over the data.
    padded_slots : int
        Token slots of the padded batches (real + pad).
    padded_tokens_per_second : float
        Real tokens per second, padded batches (best of the repeats).
    packed_tokens_per_second : float
        Real tokens per second, packed batches (best of the repeats).
    speedup : float
        ``packed_tokens_per_second / padded_tokens_per_second``.
    """

    real_tokens: int
    padded_slots: int
    padded_tokens_per_second: float
    packed_tokens_per_second: float
    speedup: float


def measure_throughput(
    lengths: Sequence[int],
    model: torch.nn.Module | None = None,
    batch_size: int = 8,
    repeats: int = 3,
    seed: int = 0,
) -> Throughput:
    """Time forward passes over examples of ``lengths``, padded and packed, batch by batch.

    Timings depend on the machine, so only the token counts are deterministic. The packed
    batches here run through eager/SDPA attention with a dense ``N x N`` block-diagonal
    mask; the large gains reported for packing come from FlashAttention-2's variable-length
    kernels on GPU, which skip the masked blocks.

    Parameters
    ----------
    lengths : sequence of int
        Example lengths; batches are consecutive slices of ``batch_size``.
    model : causal LM, optional
        Defaults to :func:`lmnotes.tiny.tiny_llama` ``(seed)``.
    batch_size : int, default 8
        Examples per batch (packed: per row).
    repeats : int, default 3
        Timed passes over the data for each layout; the fastest counts.
    seed : int, default 0
        Seed of the default model and of the token ids.

    Returns
    -------
    Throughput

    Raises
    ------
    TypeError
        If ``lengths`` is not a sequence of ints or a size is not an int.
    ValueError
        If a length or size is < 1.

    Examples
    --------
    >>> from lmnotes.machine import measure_throughput
    >>> result = measure_throughput([3, 9, 4, 12], batch_size=2, repeats=1)
    >>> result.real_tokens, result.padded_slots, result.packed_tokens_per_second > 0
    (28, 42, True)
    """
    lengths = check_lengths(lengths)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    repeats = check_int(repeats, "repeats", minimum=1)
    if model is None:
        model = tiny_llama(seed)
    vocab_size = model.get_input_embeddings().num_embeddings
    pad_token_id = default_pad_token_id(model)
    examples = [
        random_word_ids(n, seed + i, vocab_size=vocab_size)[0].tolist()
        for i, n in enumerate(lengths)
    ]
    chunks = [examples[i : i + batch_size] for i in range(0, len(examples), batch_size)]
    padded = [padded_batch(chunk, pad_token_id) for chunk in chunks]
    packed = [packed_batch(chunk) for chunk in chunks]
    padded_inputs = [
        {"input_ids": b["input_ids"], "attention_mask": b["attention_mask"]} for b in padded
    ]
    packed_inputs = [
        {"input_ids": b["input_ids"], "position_ids": b["position_ids"]} for b in packed
    ]

    def best_time(batches: list[dict[str, torch.Tensor]]) -> float:
        best = float("inf")
        with torch.no_grad():
            model(**batches[0], use_cache=False)  # warm-up
            for _ in range(repeats):
                start = time.perf_counter()
                for inputs in batches:
                    model(**inputs, use_cache=False)
                best = min(best, time.perf_counter() - start)
        return best

    real = sum(lengths)
    padded_speed = real / best_time(padded_inputs)
    packed_speed = real / best_time(packed_inputs)
    return Throughput(
        real_tokens=real,
        padded_slots=sum(b["input_ids"].numel() for b in padded),
        padded_tokens_per_second=padded_speed,
        packed_tokens_per_second=packed_speed,
        speedup=packed_speed / padded_speed,
    )


def machine_description() -> str:
    """The machine timings were measured on: CPU model, architecture, CPU count, torch threads.

    ``platform.processor()`` is often empty on Linux; the CPU model then comes from the
    first ``model name`` line of ``/proc/cpuinfo`` when there is one. The counts are
    written as the Python calls that give them, so the text reads the same in any
    language.

    Returns
    -------
    description : str
        For example ``"AMD EPYC (x86_64), os.cpu_count() = 2, torch 2.13.0,
        torch.get_num_threads() = 2"``.

    Examples
    --------
    >>> import os
    >>> from lmnotes.machine import machine_description
    >>> f"os.cpu_count() = {os.cpu_count()}" in machine_description()
    True
    """
    model = platform.processor().strip()
    cpuinfo = Path("/proc/cpuinfo")
    if not model and cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name") and ":" in line:
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{model or 'unknown CPU'} ({platform.machine() or 'unknown architecture'}), "
        f"os.cpu_count() = {os.cpu_count()}, torch {torch.__version__}, "
        f"torch.get_num_threads() = {torch.get_num_threads()}"
    )
