"""Whole-word masking: the MLM collator chooses words, not tokens.

``DataCollatorForLanguageModeling(whole_word_mask=True)`` (transformers 4.57+) reads the
tokens' character offsets (a fast tokenizer's ``offset_mapping``): a token that starts
where the previous one ended belongs to the same word, so a word is a run of text
without a space (``un ##bel ##ie ##va ##bly``, but also ``fragments ,`` and
``doesn ' t``). The Bernoulli draw of ``mlm_probability`` is made on the first token of
each word only, and every token of a chosen word is chosen with it. Random replacement
is not supported: every chosen token becomes ``[MASK]``. ``mask_replace_prob=1,
random_replace_prob=0`` says so on every release (``mask_replace_prob=1`` alone raises a
``ValueError``: with the default ``random_replace_prob=0.1`` the sum exceeds 1). The
examples must carry their ``offset_mapping`` (``return_offsets_mapping=True``).

:func:`word_ids_from_offsets` groups tokens as the collator does;
:func:`compare_whole_word_masking` measures both collators on one sentence;
:func:`legacy_whole_word_mask` is how the older ``DataCollatorForWholeWordMask`` (and
Google's ``create_pretraining_data.py --do_whole_word_mask``) chose words: a budget of
tokens per sequence, filled word by word.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch

from lmnotes._checks import check_int, check_integer_2d, check_probability
from lmnotes._tables import Table
from lmnotes.mlm import binomial_rate, mask_outcomes

__all__ = [
    "LegacyWholeWordMask",
    "WholeWordComparison",
    "compare_whole_word_masking",
    "legacy_whole_word_mask",
    "word_ids_from_offsets",
]


def word_ids_from_offsets(offsets: torch.Tensor, special_tokens_mask: torch.Tensor) -> torch.Tensor:
    """The word of each token, as whole-word masking sees it: ``-1`` for special tokens.

    A non-special token starts a new word when its first character is not the previous
    token's end (a space in between) or when the previous token is special.

    Parameters
    ----------
    offsets : (batch, seq_len, 2) integer tensor
        Start and end character of each token (``return_offsets_mapping=True``).
    special_tokens_mask : (batch, seq_len) integer or bool tensor
        1 on special tokens ([CLS], [SEP], [PAD]).

    Returns
    -------
    word_ids : (batch, seq_len) int64 tensor
        ``0, 1, 2, ...`` per row, ``-1`` on special tokens.

    Raises
    ------
    TypeError
        If an argument is not a tensor.
    ValueError
        If the shapes do not match.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.whole_word import word_ids_from_offsets
    >>> # [CLS] un ##believ ##ably fast ##er , [SEP] for the text "unbelievably faster,"
    >>> offsets = torch.tensor([[[0, 0], [0, 2], [2, 8], [8, 12], [13, 17], [17, 19], [19, 20],
    ...                          [0, 0]]])
    >>> special = torch.tensor([[1, 0, 0, 0, 0, 0, 0, 1]])
    >>> word_ids_from_offsets(offsets, special)
    tensor([[-1,  0,  0,  0,  1,  1,  1, -1]])
    """
    if not isinstance(offsets, torch.Tensor):
        raise TypeError(f"offsets must be a torch.Tensor, got {type(offsets).__name__}")
    check_integer_2d(special_tokens_mask, "special_tokens_mask", allow_bool=True)
    if (
        offsets.dim() != 3
        or offsets.shape[:2] != special_tokens_mask.shape
        or offsets.shape[2] != 2
    ):
        raise ValueError(
            f"offsets must have shape (batch, seq_len, 2) = {(*special_tokens_mask.shape, 2)}, "
            f"got {tuple(offsets.shape)}"
        )
    special = special_tokens_mask.bool()
    starts, ends = offsets[..., 0], offsets[..., 1]
    previous_end = torch.nn.functional.pad(ends, (1, 0), value=-1)[:, :-1]
    previous_special = torch.nn.functional.pad(special, (1, 0), value=False)[:, :-1]
    new_word = ~special & ((starts != previous_end) | previous_special)
    word_ids = new_word.long().cumsum(dim=1) - 1
    return word_ids.masked_fill(special, -1)


@dataclasses.dataclass(frozen=True, repr=False)
class WholeWordComparison(Table):
    """Token-level against whole-word masking of one sentence, over many draws.

    Attributes
    ----------
    tokens, words : int
        Ordinary tokens and words of the sentence (as :func:`word_ids_from_offsets`).
    draws : int
        Rows collated for each collator (the sentence repeated).
    rows : tuple of (str, float, float, float, float, float, float)
        ``(masking, chosen tokens, words touched, words split, [MASK], random, unchanged)``:
        the fraction of ordinary tokens chosen, of words with at least one chosen token,
        of words with some but not all tokens chosen, and the split of the chosen tokens.
    errors : tuple of (float, float, float, float, float, float)
        The standard error of each fraction of ``rows``, in the same order. The draws
        (rows of the batch) are independent, the tokens of one draw are not (whole-word
        masking chooses them together): the first three come from the spread of the
        per-draw fractions, ``std / sqrt(draws)``; the last three are binomial over the
        chosen tokens, each of which is replaced on its own.
    """

    tokens: int
    words: int
    draws: int
    rows: tuple[tuple[str, float, float, float, float, float, float], ...]
    errors: tuple[tuple[float, float, float, float, float, float], ...]

    columns = (
        "masking",
        "chosen tokens",
        "words touched",
        "words split",
        "[MASK]",
        "random",
        "unchanged",
    )
    numeric = (False, True, True, True, True, True, True)

    def cells(self) -> list[tuple[str, ...]]:
        """Each collator as text: fractions to 3 decimals, ± one standard error."""
        return [
            (name, *(f"{x:.3f} \u00b1 {e:.3f}" for x, e in zip(values, errors, strict=True)))
            for (name, *values), errors in zip(self.rows, self.errors, strict=True)
        ]

    def row(self, masking: str) -> dict[str, float]:
        """The measured fractions of one row (``"token-level"`` or ``"whole-word"``)."""
        found = next(r for r in self.rows if r[0] == masking)
        return dict(zip(self.columns[1:], found[1:], strict=True))

    def error(self, masking: str) -> dict[str, float]:
        """The standard errors of one row, keyed like :meth:`row`."""
        index = next(i for i, r in enumerate(self.rows) if r[0] == masking)
        return dict(zip(self.columns[1:], self.errors[index], strict=True))


def _mean_and_error(per_draw: torch.Tensor) -> tuple[float, float]:
    """Mean of independent per-draw values and its standard error, ``std / sqrt(n)``."""
    values = per_draw.double()
    n = values.numel()
    spread = float(values.std()) / math.sqrt(n) if n > 1 else float("nan")
    return float(values.mean()), spread


def _measure(name: str, batch, word_ids: torch.Tensor, mask_token_id: int) -> tuple:
    outcomes = mask_outcomes(batch["input_ids"], batch["labels"], mask_token_id)
    chosen = outcomes > 0
    ordinary = word_ids[0] >= 0
    words = int(word_ids.max()) + 1
    touched = torch.zeros(chosen.shape[0])
    split = torch.zeros(chosen.shape[0])
    for word in range(words):
        in_word = word_ids == word
        count = (chosen & in_word).sum(dim=1)
        size = int(in_word[0].sum())
        touched += (count > 0).float()
        split += ((count > 0) & (count < size)).float()
    per_draw = [
        (chosen & ordinary).sum(dim=1).double() / int(ordinary.sum()),
        touched / words,
        split / words,
    ]
    n_chosen = int(chosen.sum())
    shares = [
        binomial_rate(int((outcomes == code).sum()), n_chosen) if n_chosen else None
        for code in (1, 2, 3)
    ]
    measured = [_mean_and_error(values) for values in per_draw]
    measured += [(r.rate, r.standard_error) if r else (float("nan"),) * 2 for r in shares]
    return (name, *(m for m, _ in measured)), tuple(e for _, e in measured)


def compare_whole_word_masking(
    tokenizer, text: str, *, draws: int = 2000, mlm_probability: float = 0.15, seed: int = 1
) -> WholeWordComparison:
    """Collate one sentence ``draws`` times with token-level and with whole-word masking.

    Token-level: ``DataCollatorForLanguageModeling(tokenizer, mlm_probability, seed)``,
    the default 80/10/10 split. Whole-word: the same with ``whole_word_mask=True`` and
    ``mask_replace_prob=1, random_replace_prob=0``: what transformers 5 sets itself, and
    what 4.57 needs, where the default probabilities raise a ``TypeError`` (both
    probabilities are needed: ``mask_replace_prob=1`` alone raises a ``ValueError``).

    Parameters
    ----------
    tokenizer : transformers fast tokenizer
        With a mask token and offset mappings.
    text : str
        One sentence.
    draws : int, default 2000
        Rows per collator (the sentence repeated, so no padding is needed).
    mlm_probability : float, default 0.15
    seed : int, default 1
        The collators' seed.

    Returns
    -------
    WholeWordComparison
        With a standard error for each fraction.

    Raises
    ------
    TypeError
        If ``text`` is not a str, or ``draws`` or ``seed`` not an int.
    ValueError
        If ``text`` has no ordinary token, ``draws < 1`` or the probability is outside [0, 1].

    Examples
    --------
    >>> from lmnotes.tiny import bert_tokenizer
    >>> from lmnotes.whole_word import compare_whole_word_masking
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "un", "##believ",
    ...          "##ably", "fast", "##er"]
    >>> result = compare_whole_word_masking(bert_tokenizer(vocab), "the unbelievably faster cat",
    ...                                     draws=500)
    >>> result.tokens, result.words
    (7, 4)
    >>> result.row("whole-word")["words split"], result.row("whole-word")["[MASK]"]
    (0.0, 1.0)
    >>> result.row("token-level")["words split"] > 0
    True
    >>> abs(result.row("whole-word")["chosen tokens"] - 0.15) < 3 * result.error("whole-word")[
    ...     "chosen tokens"]
    True
    """
    from transformers import DataCollatorForLanguageModeling

    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    draws = check_int(draws, "draws", minimum=1)
    seed = check_int(seed, "seed")
    mlm_probability = check_probability(mlm_probability, "mlm_probability")
    example = tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    special = torch.tensor([example["special_tokens_mask"]])
    word_ids = word_ids_from_offsets(torch.tensor([example["offset_mapping"]]), special)
    if int((word_ids >= 0).sum()) == 0:
        raise ValueError(f"text must give at least one ordinary token, got {text!r}")
    word_ids = word_ids.expand(draws, -1)
    token_level = DataCollatorForLanguageModeling(
        tokenizer, mlm_probability=mlm_probability, seed=seed
    )
    whole_word = DataCollatorForLanguageModeling(
        tokenizer,
        mlm_probability=mlm_probability,
        whole_word_mask=True,
        mask_replace_prob=1.0,
        random_replace_prob=0.0,
        seed=seed,
    )
    ids_only = [{"input_ids": example["input_ids"]}] * draws
    with_offsets = [
        {"input_ids": example["input_ids"], "offset_mapping": example["offset_mapping"]}
    ] * draws
    mask_id = tokenizer.mask_token_id
    measured = (
        _measure("token-level", token_level(ids_only), word_ids, mask_id),
        _measure("whole-word", whole_word(with_offsets), word_ids, mask_id),
    )
    return WholeWordComparison(
        tokens=int((word_ids[0] >= 0).sum()),
        words=int(word_ids.max()) + 1,
        draws=draws,
        rows=tuple(row for row, _ in measured),
        errors=tuple(errors for _, errors in measured),
    )


@dataclasses.dataclass(frozen=True)
class LegacyWholeWordMask:
    """The words the older ``DataCollatorForWholeWordMask`` chose in one sequence.

    Attributes
    ----------
    budget : int
        ``min(max_predictions, max(1, round(len(tokens) * mlm_probability)))``: a number
        of tokens, counted on the whole sequence, ``[CLS]`` and ``[SEP]`` included.
    words : tuple of tuple of int
        The candidate words (positions of their tokens), in the shuffled order in which
        they were tried. A word is a token and the ``##`` pieces after it.
    chosen : tuple of int
        1 at the chosen positions, 0 elsewhere (the collator's ``mask_labels``).
    skipped : tuple of int
        Indexes into ``words`` of the words passed over because they would have
        overflowed the budget.
    """

    budget: int
    words: tuple[tuple[int, ...], ...]
    chosen: tuple[int, ...]
    skipped: tuple[int, ...]

    @property
    def count(self) -> int:
        """Tokens chosen: at most ``budget``."""
        return sum(self.chosen)


def legacy_whole_word_mask(
    tokens: Sequence[str],
    mlm_probability: float = 0.15,
    *,
    generator: torch.Generator | None = None,
    max_predictions: int = 512,
) -> LegacyWholeWordMask:
    """Choose words as ``DataCollatorForWholeWordMask`` did (transformers 4.57 and before).

    The algorithm of Google's ``create_pretraining_data.py --do_whole_word_mask``, which
    the collator ported: group each token with the ``##`` pieces that follow it
    (``[CLS]`` and ``[SEP]`` are never candidates), shuffle the words, and take them in
    that order until the chosen tokens reach a budget of
    ``max(1, round(len(tokens) * mlm_probability))``, skipping any word that would
    overflow it. The budget is a count of tokens on the whole sequence, ``[CLS]`` and
    ``[SEP]`` included; it is not a count of words, and a word longer than the budget is
    never chosen. The collator then applied the 80/10/10 split to the chosen tokens.

    The shuffle is ``torch.randperm(len(words), generator=generator)``, as the collator
    draws it when built with a seed, so a collator seeded ``s`` chooses, in its first
    call, what this function chooses with ``torch.Generator().manual_seed(s)``, example
    after example (``tests/test_claims.py`` checks it where the collator exists).

    Parameters
    ----------
    tokens : sequence of str
        The tokens of one sequence (``tokenizer.convert_ids_to_tokens``), special ones
        included, no padding.
    mlm_probability : float, default 0.15
    generator : torch.Generator, optional
        For the shuffle; the global generator if omitted.
    max_predictions : int, default 512
        Upper bound of the budget (the collator's default).

    Returns
    -------
    LegacyWholeWordMask

    Raises
    ------
    TypeError
        If ``tokens`` is not a sequence of str, or ``max_predictions`` not an int.
    ValueError
        If ``mlm_probability`` is outside [0, 1] or ``max_predictions < 1``.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.whole_word import legacy_whole_word_mask
    >>> tokens = ["[CLS]", "the", "un", "##believ", "##ably", "fast", "##er", "cat", "[SEP]"]
    >>> choice = legacy_whole_word_mask(tokens, 0.3, generator=torch.Generator().manual_seed(0))
    >>> choice.budget                     # round(9 * 0.3) = 3 tokens, [CLS] and [SEP] counted
    3
    >>> [tokens[i] for i in range(len(tokens)) if choice.chosen[i]]
    ['the', 'cat']
    >>> [[tokens[i] for i in choice.words[k]] for k in choice.skipped]  # each would overflow
    [['un', '##believ', '##ably'], ['fast', '##er']]
    >>> choice.count                      # the budget is not always filled
    2
    """
    if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Sequence):
        raise TypeError(f"tokens must be a sequence of str, got {type(tokens).__name__}")
    if not all(isinstance(token, str) for token in tokens):
        raise TypeError("tokens must be a sequence of str")
    mlm_probability = check_probability(mlm_probability, "mlm_probability")
    max_predictions = check_int(max_predictions, "max_predictions", minimum=1)
    candidates: list[list[int]] = []
    for i, token in enumerate(tokens):
        if token in ("[CLS]", "[SEP]"):
            continue
        if candidates and token.startswith("##"):
            candidates[-1].append(i)
        else:
            candidates.append([i])
    order = torch.randperm(len(candidates), generator=generator).tolist()
    words = tuple(tuple(candidates[i]) for i in order)
    budget = min(max_predictions, max(1, round(len(tokens) * mlm_probability)))
    chosen: list[int] = []
    skipped: list[int] = []
    for index, word in enumerate(words):
        if len(chosen) >= budget:
            break
        if len(chosen) + len(word) > budget:
            skipped.append(index)
            continue
        chosen.extend(word)
    marked = set(chosen)
    return LegacyWholeWordMask(
        budget=budget,
        words=words,
        chosen=tuple(int(i in marked) for i in range(len(tokens))),
        skipped=tuple(skipped),
    )
