"""Tests for lmnotes.machine: throughput on padded and packed batches, the machine description."""

from __future__ import annotations

import pytest
import torch
from hypothesis import strategies as st

from lmnotes.machine import machine_description, measure_throughput
from lmnotes.packing import (
    padding_waste,
)

lengths_strategy = st.lists(st.integers(1, 40), min_size=1, max_size=30)


class TestMeasureThroughput:
    def test_counts_and_positive_speeds(self):
        """Token counts match the lengths and the padded layout; speeds are positive and finite."""
        lengths = [3, 9, 4, 12, 7]
        result = measure_throughput(lengths, batch_size=2, repeats=1)
        assert result.real_tokens == sum(lengths)
        assert result.padded_slots == padding_waste(lengths, 2).padded_tokens
        for speed in (result.padded_tokens_per_second, result.packed_tokens_per_second):
            assert 0 < speed < float("inf")
        assert result.speedup == pytest.approx(
            result.packed_tokens_per_second / result.padded_tokens_per_second
        )

    @pytest.mark.parametrize(
        ("kwargs", "name"), [({"batch_size": 0}, "batch_size"), ({"repeats": 0}, "repeats")]
    )
    def test_bad_sizes_raise(self, kwargs, name):
        """batch_size or repeats < 1 raise ValueError naming them."""
        with pytest.raises(ValueError, match=name):
            measure_throughput([3, 4], **kwargs)


class TestMachineDescription:
    def test_names_cpu_count_and_torch(self):
        """The description states os.cpu_count(), the architecture, torch's version and threads."""
        import os
        import platform

        text = machine_description()
        assert f"os.cpu_count() = {os.cpu_count()}" in text
        assert platform.machine() in text
        assert f"torch {torch.__version__}" in text
        assert f"torch.get_num_threads() = {torch.get_num_threads()}" in text
