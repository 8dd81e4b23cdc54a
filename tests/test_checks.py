"""Tests for lmnotes._checks: one convention for argument errors across the package.

A wrong type is a ``TypeError``, a wrong value a ``ValueError``, and the message starts with
the argument's name.
"""

from __future__ import annotations

import pytest
import torch

from lmnotes._checks import (
    as_ids,
    check_attention_mask,
    check_batch,
    check_examples,
    check_floating,
    check_int,
    check_integer_2d,
    check_lengths,
    check_probability,
)

# (helper, arguments, exception) for a wrong type and a wrong value of each helper.
CASES = [
    (check_int, (2.0, "n"), TypeError),
    (check_int, (True, "n"), TypeError),
    (check_int, (0, "n"), ValueError, {"minimum": 1}),
    (check_integer_2d, ([[1]], "ids"), TypeError),
    (check_integer_2d, (torch.ones(2, 2), "ids"), ValueError),
    (check_integer_2d, (torch.ones(2, dtype=torch.long), "ids"), ValueError),
    (check_attention_mask, ([[1, 0]], "mask"), TypeError),
    (check_attention_mask, (torch.tensor([[2, 0]]), "mask"), ValueError),
    (check_probability, ("0.1", "p"), TypeError),
    (check_probability, (1.5, "p"), ValueError),
    (check_probability, (float("nan"), "p"), ValueError),
    (check_floating, ([1.0], "q"), TypeError),
    (check_floating, (torch.ones(2, 2, dtype=torch.long), "q"), ValueError),
    (check_floating, (torch.ones(3), "q"), ValueError),
    (check_lengths, ("abc", "lengths"), TypeError),
    (check_lengths, ([3, 1.5], "lengths"), TypeError),
    (check_lengths, ([], "lengths"), ValueError),
    (check_lengths, ([3, 0], "lengths"), ValueError),
    (check_examples, (5, "examples"), TypeError),
    (check_examples, ([[1, 2], [1.5]], "examples"), TypeError),
    (check_examples, ([], "examples"), ValueError),
    (check_examples, ([[1], []], "examples"), ValueError),
    (check_batch, ([[1, 2]], "batch"), TypeError),
    (check_batch, ({"input_ids": torch.ones(1, 2)}, "batch"), ValueError),
    (as_ids, ("hello", "ids"), TypeError),
    (as_ids, ([[1], [2]], "ids"), ValueError),
]


class TestErrorConvention:
    @pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].__name__}-{c[2].__name__}")
    def test_error_type_and_message_name_the_argument(self, case) -> None:
        """Each helper raises the documented exception, its message starting with the name."""
        helper, args, exception, *kwargs = case
        with pytest.raises(exception) as info:
            helper(*args, **(kwargs[0] if kwargs else {}))
        assert str(info.value).startswith(args[1]), str(info.value)


class TestReturnedValues:
    def test_values_come_back_converted(self) -> None:
        """Valid values are returned (masks as bool, lengths and examples as lists of ints)."""
        assert check_int(3, "n", minimum=1) == 3
        assert check_probability(1, "p") == 1.0
        assert check_attention_mask(torch.tensor([[1, 0]])).dtype == torch.bool
        assert check_lengths(torch.tensor([2, 3])) == [2, 3]
        assert check_examples([{"input_ids": torch.tensor([4, 5])}, [6]]) == [[4, 5], [6]]
        assert as_ids([5, 6]).shape == (1, 2)
        batch = {"input_ids": torch.ones(1, 2), "labels": torch.ones(1, 2)}
        assert check_batch(batch) is batch

    def test_a_missing_key_is_named_with_the_keys_there_are(self) -> None:
        with pytest.raises(ValueError, match=r"batch must contain 'attention_mask'; it has "):
            check_batch({"input_ids": 1, "labels": 2}, keys=("input_ids", "attention_mask"))
