"""Masked language modelling (MLM): how a training batch is masked.

BERT-style pre-training hides some tokens of the input and asks the model to
recover them (Devlin et al. 2019, section 3.1). In Hugging Face transformers
this is done by ``DataCollatorForLanguageModeling(mlm=True)``, whose
``torch_mask_tokens`` method does four things:

1. every ordinary token is *chosen* independently with probability
   ``mlm_probability`` (0.15); special tokens ([CLS], [SEP], [PAD], ...) never are;
2. labels keep the original id at chosen positions and ``-100`` elsewhere
   (``-100`` is the ``ignore_index`` of :func:`torch.nn.functional.cross_entropy`);
3. a chosen token is replaced by [MASK] with probability ``mask_replace_prob`` (0.8),
4. otherwise by a random id with probability ``random_replace_prob`` (0.1 overall),
   otherwise it is left unchanged (the remaining 0.1).

:func:`mask_tokens` is the same algorithm written to be read, and it makes the
same random draws in the same order, so that with the same ``torch.Generator``
its output is bit-identical to the collator's (see the tests).
:func:`measure_masking` measures the rates on a large batch, and
:func:`measure_collator` measures them on the library's collator itself;
:func:`count_chosen` shows that the number of chosen tokens per sequence is
random. :func:`masked_token_losses` computes the MLM loss by hand, position
by position (no shift, unlike the causal LM loss of :mod:`lmnotes.clm`).
:func:`binomial_rate` gives a measured rate its uncertainty: a standard error, a
confidence interval, and how far an expected rate lies from it.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import warnings
from collections.abc import Sequence

import torch

from lmnotes._checks import (
    check_int,
    check_integer_2d,
    check_logits_labels,
    check_probability,
    check_same_shape,
)
from lmnotes._losses import token_nll
from lmnotes.compat import SEED_ZERO_HONOURED
from lmnotes.messages import msg, table

__all__ = [
    "MASK_OUTCOMES",
    "BinomialRate",
    "MaskingStats",
    "binomial_rate",
    "count_chosen",
    "mask_outcomes",
    "mask_tokens",
    "masked_token_losses",
    "measure_collator",
    "measure_masking",
    "random_token_batch",
]

IGNORE_INDEX = -100
"""Label value ignored by the loss (default ``ignore_index`` of ``torch.nn.CrossEntropyLoss``)."""

#: The fractions of :class:`MaskingStats` counted over the chosen tokens.
_CHOSEN_SPLIT = ("mask_fraction", "random_fraction", "unchanged_fraction")


def _special_tokens_mask(input_ids: torch.Tensor, tokenizer) -> torch.Tensor:
    """True on special ids (padding included), computed as the library does."""
    rows = [
        tokenizer.get_special_tokens_mask(row, already_has_special_tokens=True)
        for row in input_ids.tolist()
    ]
    return torch.tensor(rows, dtype=torch.bool).reshape(input_ids.shape)


def _check_mlm_arguments(
    tokenizer, mlm_probability, mask_replace_prob, random_replace_prob, generator
):
    """Validate the arguments shared by :func:`mask_tokens` and :func:`measure_masking`."""
    if getattr(tokenizer, "mask_token", None) is None:
        raise ValueError(
            "tokenizer has no mask token (tokenizer.mask_token is None): masked language "
            "modelling needs one; a causal LM tokenizer such as GPT-2's is meant for mlm=False"
        )
    mlm_probability = check_probability(mlm_probability, "mlm_probability")
    mask_replace_prob = check_probability(mask_replace_prob, "mask_replace_prob")
    random_replace_prob = check_probability(random_replace_prob, "random_replace_prob")
    if mask_replace_prob + random_replace_prob > 1:
        raise ValueError(
            f"mask_replace_prob + random_replace_prob must not exceed 1, got "
            f"{mask_replace_prob} + {random_replace_prob} = "
            f"{mask_replace_prob + random_replace_prob}"
        )
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got {type(generator).__name__}"
        )
    return mlm_probability, mask_replace_prob, random_replace_prob


def mask_tokens(
    input_ids: torch.Tensor,
    tokenizer,
    *,
    mlm_probability: float = 0.15,
    mask_replace_prob: float = 0.8,
    random_replace_prob: float = 0.1,
    generator: torch.Generator | None = None,
    special_tokens_mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask a padded batch for MLM exactly as ``DataCollatorForLanguageModeling`` does.

    The random draws are those of the library's ``torch_mask_tokens``, in the same
    order, on the same shapes: with ``generator=torch.Generator().manual_seed(s)``
    the result is bit-identical to the collator built with ``seed=s`` (the
    collator creates that same generator once and reuses it at every call, so
    calling this function repeatedly with one generator matches repeated calls
    of one collator). With ``generator=None`` the global torch RNG is used, as
    the collator does without ``seed``. Before transformers 5.19 the collator
    ignores ``seed=0`` and draws from the global RNG too: use another seed there.

    ``input_ids`` is **not modified**: the function works on clones.

    Parameters
    ----------
    input_ids : (batch, seq_len) integer tensor
        Token ids of a padded batch (special tokens and padding included).
    tokenizer : transformers tokenizer
        Must have a mask token. Provides ``mask_token_id``, the special ids that
        are never chosen, and ``len(tokenizer)``, the range of random ids.
    mlm_probability : float, default 0.15
        Probability that an ordinary (non-special) token is chosen.
    mask_replace_prob : float, default 0.8
        Probability that a chosen token becomes the mask token.
    random_replace_prob : float, default 0.1
        Probability that a chosen token becomes a random id drawn uniformly from
        ``range(len(tokenizer))`` (special ids included). The rest,
        ``1 - mask_replace_prob - random_replace_prob``, stays unchanged.
    generator : torch.Generator, optional
        Source of randomness; ``None`` uses the global RNG.
    special_tokens_mask : (batch, seq_len) tensor, optional
        1/True where a token must never be chosen, as the collator takes it from
        a batch whose examples carry ``special_tokens_mask``. By default it is
        computed like the library does, from ``tokenizer.all_special_ids``
        (``get_special_tokens_mask(..., already_has_special_tokens=True)``).

    Returns
    -------
    inputs : (batch, seq_len) tensor, same dtype as ``input_ids``
        The masked input the model sees.
    labels : (batch, seq_len) tensor, same dtype as ``input_ids``
        The original id at chosen positions, ``-100`` everywhere else.

    Notes
    -----
    Covers the collator's default path (``return_tensors="pt"``, token-level
    masking). Whole-word masking (``whole_word_mask=True``, transformers 4.57+)
    and the NumPy path (``return_tensors="np"``, NumPy's RNG) draw differently
    and are not reproduced.

    Raises
    ------
    ValueError
        If ``input_ids`` is not 2-D or has a non-integer dtype,
        ``special_tokens_mask`` has another shape, the tokenizer has no mask
        token, a probability is outside [0, 1], or
        ``mask_replace_prob + random_replace_prob > 1``.
    TypeError
        If ``input_ids`` is not a tensor, a probability is not a number, or
        ``generator`` is neither ``None`` nor a ``torch.Generator``.

    Examples
    --------
    >>> from lmnotes.mlm import mask_tokens
    >>> import torch
    >>> from lmnotes.tiny import bert_tokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat"]
    >>> tokenizer = bert_tokenizer(vocab)
    >>> ids = torch.tensor([[2, 5, 6, 7, 3], [2, 6, 7, 3, 0]])
    >>> inputs, labels = mask_tokens(ids, tokenizer, mlm_probability=1.0,
    ...                              mask_replace_prob=1.0, random_replace_prob=0.0)
    >>> inputs  # every ordinary token chosen, every chosen token became [MASK] (id 4)
    tensor([[2, 4, 4, 4, 3],
            [2, 4, 4, 3, 0]])
    >>> labels  # the original ids, -100 on [CLS], [SEP] and [PAD]
    tensor([[-100,    5,    6,    7, -100],
            [-100,    6,    7, -100, -100]])
    >>> ids  # unchanged
    tensor([[2, 5, 6, 7, 3],
            [2, 6, 7, 3, 0]])

    Parity with the library's collator, drawing from the same seeded generator:

    >>> from transformers import DataCollatorForLanguageModeling
    >>> collator = DataCollatorForLanguageModeling(tokenizer, seed=3)
    >>> batch = collator([[2, 5, 6, 7, 3], [2, 6, 7, 3]])
    >>> inputs, labels = mask_tokens(ids, tokenizer, generator=torch.Generator().manual_seed(3))
    >>> torch.equal(inputs, batch["input_ids"]), torch.equal(labels, batch["labels"])
    (True, True)
    """
    check_integer_2d(input_ids, "input_ids")
    mlm_probability, mask_replace_prob, random_replace_prob = _check_mlm_arguments(
        tokenizer, mlm_probability, mask_replace_prob, random_replace_prob, generator
    )

    # Which positions may be chosen: never special tokens, hence never padding.
    if special_tokens_mask is None:
        special = _special_tokens_mask(input_ids, tokenizer)
    else:
        if not isinstance(special_tokens_mask, torch.Tensor):
            raise TypeError(
                "special_tokens_mask must be a torch.Tensor or None, got "
                f"{type(special_tokens_mask).__name__}"
            )
        check_same_shape(special_tokens_mask, "special_tokens_mask", input_ids, "input_ids")
        special = special_tokens_mask.bool()

    inputs = input_ids.clone()
    labels = input_ids.clone()

    # Draw 1: each ordinary token is chosen with probability mlm_probability.
    probability = torch.full(labels.shape, mlm_probability)
    probability.masked_fill_(special, 0.0)
    chosen = torch.bernoulli(probability, generator=generator).bool()
    labels[~chosen] = IGNORE_INDEX  # the loss only looks at chosen positions

    # Draw 2: a chosen token becomes [MASK] with probability mask_replace_prob.
    to_mask = (
        torch.bernoulli(torch.full(labels.shape, mask_replace_prob), generator=generator).bool()
        & chosen
    )
    inputs[to_mask] = tokenizer.convert_tokens_to_ids(tokenizer.mask_token)

    # The library stops here (no more draws) when nothing can become random.
    if mask_replace_prob == 1 or random_replace_prob == 0:
        return inputs, labels

    # Draw 3: among chosen tokens not masked, random_replace_prob / (1 - mask_replace_prob)
    # become random, so that random_replace_prob of all chosen tokens do (0.1 / 0.2 = 0.5).
    random_given_not_masked = random_replace_prob / (1 - mask_replace_prob)
    to_randomize = (
        torch.bernoulli(
            torch.full(labels.shape, random_given_not_masked), generator=generator
        ).bool()
        & chosen
        & ~to_mask
    )
    # Draw 4: a random id for every position (only the selected ones are used).
    random_ids = torch.randint(len(tokenizer), labels.shape, dtype=torch.long, generator=generator)
    inputs[to_randomize] = random_ids[to_randomize].to(inputs.dtype)
    # The remaining chosen tokens keep their original id.
    return inputs, labels


MASK_OUTCOMES = ("unchosen", "[MASK]", "random", "unchanged")
"""Names of the codes returned by :func:`mask_outcomes`, in code order (0 to 3)."""


def mask_outcomes(inputs: torch.Tensor, labels: torch.Tensor, mask_token_id: int) -> torch.Tensor:
    """What happened at each position of a masked batch, read from its inputs and labels.

    A position is *chosen* when its label is not ``-100``; the label then holds
    the original id, so a chosen input equal to ``mask_token_id`` became the
    mask token, one equal to its label was left unchanged, and any other was
    replaced by a random id. (A random id that happens to equal the original or
    the mask id cannot be told apart: it counts as unchanged or [MASK].)

    Parameters
    ----------
    inputs : (batch, seq_len) integer tensor
        Masked input ids, as returned by :func:`mask_tokens` or the collator.
    labels : (batch, seq_len) integer tensor
        The matching labels.
    mask_token_id : int
        Id of the mask token (``tokenizer.mask_token_id``).

    Returns
    -------
    outcomes : (batch, seq_len) int64 tensor
        0 unchosen, 1 [MASK], 2 random, 3 unchanged (names in :data:`MASK_OUTCOMES`).

    Raises
    ------
    ValueError
        If ``inputs`` or ``labels`` is not 2-D with an integer dtype, or their
        shapes differ.
    TypeError
        If either is not a tensor, or ``mask_token_id`` is not an int.

    Examples
    --------
    >>> from lmnotes.mlm import MASK_OUTCOMES, mask_outcomes
    >>> import torch
    >>> inputs = torch.tensor([[2, 4, 9, 7, 3]])       # 4 is [MASK]
    >>> labels = torch.tensor([[-100, 5, 6, 7, -100]])
    >>> codes = mask_outcomes(inputs, labels, mask_token_id=4)
    >>> codes
    tensor([[0, 1, 2, 3, 0]])
    >>> [MASK_OUTCOMES[c] for c in codes[0].tolist()]
    ['unchosen', '[MASK]', 'random', 'unchanged', 'unchosen']
    """
    check_integer_2d(inputs, "inputs")
    check_integer_2d(labels, "labels")
    check_same_shape(labels, "labels", inputs, "inputs")
    check_int(mask_token_id, "mask_token_id")
    chosen = labels != IGNORE_INDEX
    outcomes = torch.zeros(inputs.shape, dtype=torch.long)
    outcomes[chosen] = 2
    outcomes[chosen & (inputs == labels)] = 3
    outcomes[chosen & (inputs == mask_token_id)] = 1
    return outcomes


def random_token_batch(
    tokenizer,
    *,
    batch_size: int = 256,
    max_length: int = 128,
    min_length: int = 8,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Build a right-padded batch of random ordinary tokens framed by [CLS] ... [SEP].

    Useful to measure masking statistics on many positions: the content of the
    tokens does not matter to the masking, only which of them are special.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        Must define ``cls_token_id``, ``sep_token_id`` and ``pad_token_id``.
    batch_size : int, default 256
        Number of rows.
    max_length : int, default 128
        Length of the padded batch (the longest row).
    min_length : int, default 8
        Shortest row, [CLS] and [SEP] included (at least 2).
    generator : torch.Generator, optional
        Source of randomness for the lengths and ids.

    Returns
    -------
    input_ids : (batch_size, max_length) int64 tensor
        Each row: [CLS], random non-special ids, [SEP], then [PAD] up to ``max_length``.

    Raises
    ------
    ValueError
        If the tokenizer lacks a [CLS], [SEP] or [PAD] id, ``batch_size < 1``,
        ``min_length < 2`` or ``max_length < min_length``.
    TypeError
        If a size is not an int.

    Examples
    --------
    >>> from lmnotes.mlm import random_token_batch
    >>> import torch
    >>> from lmnotes.tiny import bert_tokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat"]
    >>> tokenizer = bert_tokenizer(vocab)
    >>> ids = random_token_batch(tokenizer, batch_size=4, max_length=6, min_length=3,
    ...                          generator=torch.Generator().manual_seed(0))
    >>> ids.shape
    torch.Size([4, 6])
    >>> bool((ids[:, 0] == 2).all())  # every row starts with [CLS]
    True
    >>> set(ids.flatten().tolist()) <= {0, 2, 3, 5, 6, 7}  # [MASK] and [UNK] never appear
    True
    """
    for name in ("cls_token_id", "sep_token_id", "pad_token_id"):
        if getattr(tokenizer, name, None) is None:
            raise ValueError(f"tokenizer must define {name}, got None")
    check_int(batch_size, "batch_size", minimum=1)
    check_int(min_length, "min_length", minimum=2)  # room for [CLS] and [SEP]
    check_int(max_length, "max_length", minimum=min_length)
    special = set(tokenizer.all_special_ids)
    ordinary = torch.tensor([i for i in range(len(tokenizer)) if i not in special])
    lengths = torch.randint(min_length, max_length + 1, (batch_size,), generator=generator)
    lengths[0] = max_length  # the batch is as long as its longest row
    picks = torch.randint(len(ordinary), (batch_size, max_length), generator=generator)
    ids = ordinary[picks]
    positions = torch.arange(max_length)
    ids[:, 0] = tokenizer.cls_token_id
    ids[positions >= lengths[:, None] - 1] = tokenizer.sep_token_id
    ids[positions >= lengths[:, None]] = tokenizer.pad_token_id
    return ids


@dataclasses.dataclass(frozen=True)
class BinomialRate:
    """A rate measured by counting, with its uncertainty (see :func:`binomial_rate`).

    Attributes
    ----------
    successes, trials : int
        What was counted: ``successes`` events in ``trials`` independent draws.
    rate : float
        ``successes / trials``.
    standard_error : float
        ``sqrt(rate (1 - rate) / trials)``.
    low, high : float
        Wilson score interval of confidence ``level`` for the true rate.
    level : float
        Confidence level of the interval (0.95 by default).
    expected : float or None
        The rate the settings predict, if given.
    z : float or None
        ``(rate - expected) / sqrt(expected (1 - expected) / trials)``: how many standard
        errors (of a draw at the expected rate) the measurement lies from ``expected``.
    p_value : float or None
        Two-sided probability of a gap at least that large by chance (normal approximation).
    """

    successes: int
    trials: int
    rate: float
    standard_error: float
    low: float
    high: float
    level: float
    expected: float | None = None
    z: float | None = None
    p_value: float | None = None

    @property
    def contains_expected(self) -> bool | None:
        """Whether the interval contains ``expected`` (``None`` without one)."""
        if self.expected is None:
            return None
        return self.low <= self.expected <= self.high

    def __str__(self) -> str:
        # Decimals for 3 significant digits of the rate (or of the expected rate), at least 3,
        # the same for every rate of the line: 0.150, 0.000222.
        scale = self.rate or self.expected or 1.0
        digits = max(3, 2 - math.floor(math.log10(scale)))
        text = (
            f"{self.rate:.{digits}f} ({self.successes}/{self.trials}), interval "
            f"({self.level:.0%}) {self.low:.{digits}f} to {self.high:.{digits}f}"
        )
        if self.expected is not None:
            text += (
                f", expected {self.expected:.{digits}f}, z = {self.z:+.2f}, p = {self.p_value:.2g}"
            )
        return text


def binomial_rate(
    successes: int, trials: int, *, expected: float | None = None, level: float = 0.95
) -> BinomialRate:
    """A counted rate with its standard error, confidence interval and z-score.

    The ``trials`` draws are assumed independent, each a success with the same
    probability (a binomial count): true of the collator's choices of tokens, each drawn
    on its own, and of what a chosen token becomes. The interval is Wilson's score
    interval, which stays inside [0, 1] and holds up for rates near 0 (a rare event)
    where ``rate ± 1.96 standard errors`` does not.

    Parameters
    ----------
    successes : int
        Events counted, ``0 <= successes <= trials``.
    trials : int
        Draws, at least 1.
    expected : float, optional
        A rate in [0, 1] to compare with: gives ``z`` and ``p_value``.
    level : float, default 0.95
        Confidence level of the interval, in (0, 1).

    Returns
    -------
    BinomialRate

    Raises
    ------
    TypeError
        If ``successes`` or ``trials`` is not an int.
    ValueError
        If ``trials < 1``, ``successes`` is outside ``[0, trials]``, ``expected``
        outside [0, 1] or ``level`` outside (0, 1).

    Examples
    --------
    >>> from lmnotes.mlm import binomial_rate
    >>> r = binomial_rate(150, 1000, expected=0.15)
    >>> round(r.rate, 3), round(r.standard_error, 4), r.z
    (0.15, 0.0113, 0.0)
    >>> round(r.low, 3), round(r.high, 3), r.contains_expected
    (0.129, 0.173, True)
    >>> r = binomial_rate(62, 279_360, expected=5 / 28_996)   # rare: 2 standard errors above
    >>> print(r)  # doctest: +NORMALIZE_WHITESPACE
    0.000222 (62/279360), interval (95%) 0.000173 to 0.000284,
    expected 0.000172, z = +1.99, p = 0.046
    >>> r.contains_expected                  # just outside the interval
    False
    """
    successes = check_int(successes, "successes", minimum=0)
    trials = check_int(trials, "trials", minimum=1)
    if successes > trials:
        raise ValueError(f"successes must be at most trials = {trials}, got {successes}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if expected is not None:
        expected = check_probability(expected, "expected")
    rate = successes / trials
    q = statistics.NormalDist().inv_cdf((1 + level) / 2)
    denominator = 1 + q * q / trials
    centre = (rate + q * q / (2 * trials)) / denominator
    half = q * math.sqrt(rate * (1 - rate) / trials + q * q / (4 * trials * trials)) / denominator
    z = p_value = None
    if expected is not None:
        spread = math.sqrt(expected * (1 - expected) / trials)
        gap = rate - expected
        z = gap / spread if spread else (0.0 if gap == 0 else math.copysign(math.inf, gap))
        p_value = math.erfc(abs(z) / math.sqrt(2))
    return BinomialRate(
        successes=successes,
        trials=trials,
        rate=rate,
        standard_error=math.sqrt(rate * (1 - rate) / trials),
        low=max(0.0, centre - half),
        high=min(1.0, centre + half),
        level=level,
        expected=expected,
        z=z,
        p_value=p_value,
    )


@dataclasses.dataclass(frozen=True)
class MaskingStats:
    """What :func:`measure_masking` measured on one batch.

    Attributes
    ----------
    positions : int
        Positions in the batch (padding included).
    candidates : int
        Positions holding an ordinary token (not special, not padding).
    chosen : int
        Positions chosen in the first call (label other than -100).
    chosen_rate : float
        ``chosen / candidates``; expected ``mlm_probability``.
    mask_fraction : float
        Fraction of the chosen positions whose input became the mask token.
    random_fraction : float
        Fraction of the chosen positions whose input became another id. A random
        id that happens to equal the original or the mask id is counted as
        unchanged or mask token.
    unchanged_fraction : float
        Fraction of the chosen positions that kept the original id (the three
        fractions sum to 1).
    special_chosen : int
        Special or padding positions that were chosen (the library never chooses them: 0).
    redrawn_fraction : float
        Fraction of candidate positions whose chosen/unchosen state differs
        between two calls on the same batch (dynamic masking);
        expected ``2 p (1 - p)`` for ``p = mlm_probability``.
    mlm_probability : float
        The probability setting measured.
    mask_replace_prob : float
        The probability setting measured.
    random_replace_prob : float
        The probability setting measured.
    """

    positions: int
    candidates: int
    chosen: int
    chosen_rate: float
    mask_fraction: float
    random_fraction: float
    unchanged_fraction: float
    special_chosen: int
    redrawn_fraction: float
    mlm_probability: float
    mask_replace_prob: float
    random_replace_prob: float

    @property
    def expected(self) -> dict[str, float]:
        """The rates the settings predict, keyed like the measured attributes."""
        p = self.mlm_probability
        return {
            "chosen_rate": p,
            "mask_fraction": self.mask_replace_prob,
            "random_fraction": self.random_replace_prob,
            "unchanged_fraction": 1 - self.mask_replace_prob - self.random_replace_prob,
            "special_chosen": 0,
            "redrawn_fraction": 2 * p * (1 - p),
        }

    def rate(self, key: str) -> BinomialRate | None:
        """One measured fraction with its uncertainty (:func:`binomial_rate`).

        ``key`` is ``"chosen_rate"`` or ``"redrawn_fraction"`` (counted over the ordinary
        tokens, each drawn on its own) or ``"mask_fraction"``, ``"random_fraction"``,
        ``"unchanged_fraction"`` (over the chosen tokens); ``None`` if nothing was counted.
        """
        if key not in ("chosen_rate", "redrawn_fraction", *_CHOSEN_SPLIT):
            raise ValueError(f"key must name a measured fraction, got {key!r}")
        trials = self.chosen if key in _CHOSEN_SPLIT else self.candidates
        if not trials:
            return None
        value = getattr(self, key)
        return binomial_rate(round(value * trials), trials, expected=self.expected[key])

    def to_text(self) -> str:
        """A small plain-text table: measured, its 95 % interval, and expected."""
        rows = [
            ("chosen rate (of ordinary tokens)", "chosen_rate"),
            ("chosen -> mask token", "mask_fraction"),
            ("chosen -> random id", "random_fraction"),
            ("chosen -> unchanged", "unchanged_fraction"),
            ("special tokens chosen (count)", "special_chosen"),
            ("choice differs between 2 calls", "redrawn_fraction"),
        ]
        cells = []
        for label, key in rows:
            value, expected = getattr(self, key), self.expected[key]
            if isinstance(value, int):
                cells.append((msg(label), str(value), "", str(expected)))
                continue
            rate = self.rate(key)
            interval = f"{rate.low:.3f}\u2013{rate.high:.3f}" if rate else "-"
            cells.append((msg(label), f"{value:.3f}", interval, f"{expected:.3f}"))
        title = msg(
            "{0} chosen among {1} ordinary tokens ({2} positions)",
            self.chosen,
            self.candidates,
            self.positions,
        )
        columns = ("", "measured", "interval (95%)", "expected")
        return title + "\n\n" + table(columns, (False, True, True, True), cells)

    def __str__(self) -> str:
        return self.to_text()


def measure_masking(
    input_ids: torch.Tensor,
    tokenizer,
    *,
    mlm_probability: float = 0.15,
    mask_replace_prob: float = 0.8,
    random_replace_prob: float = 0.1,
    generator: torch.Generator | None = None,
) -> MaskingStats:
    """Mask a (large) batch twice with :func:`mask_tokens` and measure what happened.

    Measures the chosen rate, the split of chosen tokens into mask / random /
    unchanged (80/10/10 by default), that special tokens are never chosen, and
    how many choices change between two calls (masks are redrawn at each call:
    dynamic masking, Liu et al. 2019, section 4.1).

    Parameters
    ----------
    input_ids : (batch, seq_len) integer tensor
        The batch to mask, e.g. from :func:`random_token_batch`.
    tokenizer : transformers tokenizer
        With a mask token.
    mlm_probability, mask_replace_prob, random_replace_prob : float
        As in :func:`mask_tokens`.
    generator : torch.Generator, optional
        Used for both calls, one after the other (as one collator would).

    Returns
    -------
    MaskingStats
        Counts and fractions; ``print`` it for a table with the expected values.
        Fractions of chosen positions are ``nan`` when nothing was chosen.

    Raises
    ------
    ValueError, TypeError
        As :func:`mask_tokens`.

    Examples
    --------
    >>> from lmnotes.mlm import measure_masking, random_token_batch
    >>> import torch
    >>> from lmnotes.tiny import bert_tokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(95)]
    >>> tokenizer = bert_tokenizer(vocab)
    >>> generator = torch.Generator().manual_seed(0)
    >>> ids = random_token_batch(tokenizer, batch_size=512, max_length=64, generator=generator)
    >>> stats = measure_masking(ids, tokenizer, generator=generator)
    >>> stats.special_chosen
    0
    >>> abs(stats.chosen_rate - 0.15) < 0.01, abs(stats.mask_fraction - 0.8) < 0.02
    (True, True)
    >>> round(stats.mask_fraction + stats.random_fraction + stats.unchanged_fraction, 6)
    1.0
    """
    check_integer_2d(input_ids, "input_ids")
    mlm_probability, mask_replace_prob, random_replace_prob = _check_mlm_arguments(
        tokenizer, mlm_probability, mask_replace_prob, random_replace_prob, generator
    )
    settings = {
        "mlm_probability": mlm_probability,
        "mask_replace_prob": mask_replace_prob,
        "random_replace_prob": random_replace_prob,
        "generator": generator,
    }
    inputs, labels = mask_tokens(input_ids, tokenizer, **settings)
    _, labels_again = mask_tokens(input_ids, tokenizer, **settings)
    return _masking_stats(
        input_ids,
        tokenizer,
        inputs,
        labels,
        labels_again,
        mlm_probability=mlm_probability,
        mask_replace_prob=mask_replace_prob,
        random_replace_prob=random_replace_prob,
    )


def _masking_stats(
    input_ids: torch.Tensor,
    tokenizer,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    labels_again: torch.Tensor,
    *,
    mlm_probability: float,
    mask_replace_prob: float,
    random_replace_prob: float,
) -> MaskingStats:
    """Measure one masked batch (and the labels of a second masking of the same batch)."""
    special = _special_tokens_mask(input_ids, tokenizer)
    chosen = labels != IGNORE_INDEX
    chosen_again = labels_again != IGNORE_INDEX
    outcomes = mask_outcomes(inputs, labels, tokenizer.mask_token_id)
    became_mask, became_random, unchanged = outcomes == 1, outcomes == 2, outcomes == 3

    n_chosen = int(chosen.sum())
    n_candidates = int((~special).sum())

    def fraction(part: torch.Tensor, whole: int) -> float:
        return float(part.sum()) / whole if whole else float("nan")

    return MaskingStats(
        positions=input_ids.numel(),
        candidates=n_candidates,
        chosen=n_chosen,
        chosen_rate=fraction(chosen & ~special, n_candidates),
        mask_fraction=fraction(became_mask, n_chosen),
        random_fraction=fraction(became_random, n_chosen),
        unchanged_fraction=fraction(unchanged, n_chosen),
        special_chosen=int((chosen & special).sum()),
        redrawn_fraction=fraction((chosen != chosen_again) & ~special, n_candidates),
        mlm_probability=mlm_probability,
        mask_replace_prob=mask_replace_prob,
        random_replace_prob=random_replace_prob,
    )


def _check_mlm_collator(collator) -> None:
    """Raise unless *collator* is a ``DataCollatorForLanguageModeling`` with ``mlm=True``."""
    from transformers import DataCollatorForLanguageModeling

    if not isinstance(collator, DataCollatorForLanguageModeling):
        raise TypeError(
            "collator must be a transformers.DataCollatorForLanguageModeling, got "
            f"{type(collator).__name__}"
        )
    if not collator.mlm:
        raise ValueError("collator must mask tokens (mlm=True); got a collator with mlm=False")
    if getattr(collator, "seed", None) == 0 and not SEED_ZERO_HONOURED:
        warnings.warn(
            "collator: seed=0 is ignored by transformers < 5.19 (the global torch RNG is "
            "used, so the draws are not reproducible); use another seed",
            stacklevel=3,
        )


def measure_collator(collator, input_ids: torch.Tensor) -> MaskingStats:
    """Call the library's MLM collator twice on a batch and measure what it did.

    The same measures as :func:`measure_masking`, taken on
    ``DataCollatorForLanguageModeling`` itself rather than on :func:`mask_tokens`:
    the rows of ``input_ids`` are passed as lists of ids (the collator stacks
    them as they are; padding ids are special tokens, so never chosen), twice
    in a row, as two training steps would.

    Parameters
    ----------
    collator : transformers.DataCollatorForLanguageModeling
        With ``mlm=True``. Its ``tokenizer``, ``mlm_probability``,
        ``mask_replace_prob`` and ``random_replace_prob`` are the settings
        measured; seed it (``seed=...``) for reproducible numbers.
    input_ids : (batch, seq_len) integer tensor
        A padded batch, e.g. from :func:`random_token_batch`.

    Returns
    -------
    MaskingStats
        As :func:`measure_masking`; ``redrawn_fraction`` compares the two calls.

    Raises
    ------
    TypeError
        If ``collator`` is not a ``DataCollatorForLanguageModeling`` or
        ``input_ids`` not a tensor.
    ValueError
        If the collator has ``mlm=False``, or ``input_ids`` is not a 2-D integer tensor.

    Warns
    -----
    UserWarning
        If the collator has ``seed=0`` on transformers < 5.19, which ignores that seed.

    Examples
    --------
    >>> from lmnotes.mlm import measure_collator, random_token_batch
    >>> import torch
    >>> from transformers import DataCollatorForLanguageModeling
    >>> from lmnotes.tiny import bert_tokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(95)]
    >>> tokenizer = bert_tokenizer(vocab)
    >>> ids = random_token_batch(tokenizer, batch_size=512, max_length=64,
    ...                          generator=torch.Generator().manual_seed(0))
    >>> stats = measure_collator(DataCollatorForLanguageModeling(tokenizer, seed=1), ids)
    >>> stats.special_chosen, abs(stats.chosen_rate - 0.15) < 0.01
    (0, True)
    >>> stats.mask_replace_prob, stats.random_replace_prob   # read from the collator
    (0.8, 0.1)
    """
    _check_mlm_collator(collator)
    check_integer_2d(input_ids, "input_ids")
    rows = input_ids.tolist()
    first = collator(rows)
    second = collator(rows)
    return _masking_stats(
        input_ids,
        collator.tokenizer,
        first["input_ids"],
        first["labels"],
        second["labels"],
        mlm_probability=float(collator.mlm_probability),
        mask_replace_prob=float(collator.mask_replace_prob),
        random_replace_prob=float(collator.random_replace_prob),
    )


def count_chosen(collator, examples: Sequence, *, calls: int = 1000) -> torch.Tensor:
    """How many tokens of each sequence the collator chooses, call after call.

    Each ordinary token is an independent draw, so the number chosen in a
    sequence of ``n`` ordinary tokens follows a binomial law
    ``Binomial(n, mlm_probability)``: often 0, sometimes 2 or more.

    Parameters
    ----------
    collator : transformers.DataCollatorForLanguageModeling
        With ``mlm=True``; seed it for reproducible counts.
    examples : sequence
        What the collator is called with (lists of ids, or dicts with ``"input_ids"``).
    calls : int, default 1000
        Number of calls.

    Returns
    -------
    counts : (calls, batch) int64 tensor
        Chosen positions (label other than -100) of each sequence at each call.

    Raises
    ------
    TypeError
        If ``collator`` is not a ``DataCollatorForLanguageModeling`` or ``calls`` not an int.
    ValueError
        If the collator has ``mlm=False``, ``examples`` is empty or ``calls < 1``.

    Warns
    -----
    UserWarning
        If the collator has ``seed=0`` on transformers < 5.19, which ignores that seed.

    Examples
    --------
    >>> from lmnotes.mlm import count_chosen
    >>> import torch
    >>> from transformers import DataCollatorForLanguageModeling
    >>> from lmnotes.tiny import bert_tokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat"]
    >>> tokenizer = bert_tokenizer(vocab)
    >>> collator = DataCollatorForLanguageModeling(tokenizer, seed=1)
    >>> counts = count_chosen(collator, [[2, 5, 6, 7, 3]], calls=2000)
    >>> counts.shape
    torch.Size([2000, 1])
    >>> int(counts.max()) <= 3   # only the 3 ordinary tokens can be chosen
    True
    >>> abs(counts.float().mean().item() - 3 * 0.15) < 0.05   # 0.45 on average
    True
    """
    _check_mlm_collator(collator)
    check_int(calls, "calls", minimum=1)
    if isinstance(examples, (str, bytes)) or not isinstance(examples, Sequence) or not examples:
        raise ValueError(
            "examples must be a non-empty sequence of examples (lists of ids or dicts)"
        )
    return torch.stack(
        [(collator(examples)["labels"] != IGNORE_INDEX).sum(dim=1) for _ in range(calls)]
    )


def masked_token_losses(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX
) -> torch.Tensor:
    """The MLM loss by hand: ``-log p(label)`` at each chosen position, no shift.

    A masked LM predicts the token *at* each chosen position (the label sits at
    the same position as its logits), unlike a causal LM, whose logits at ``i``
    are scored against the token at ``i + 1`` (:func:`lmnotes.clm.shifted_loss`).
    The mean of the finite entries is the loss ``BertForMaskedLM`` returns (a
    cross-entropy averaged over the labels that are not ``ignore_index``).

    Parameters
    ----------
    logits : (batch, seq_len, vocab_size) float tensor
        Model outputs (computed in float32).
    labels : (batch, seq_len) integer tensor
        The collator's labels: the original id at chosen positions, ``ignore_index`` elsewhere.
    ignore_index : int, default -100
        Label value that does not count.

    Returns
    -------
    losses : (batch, seq_len) float32 tensor
        ``-log softmax(logits)[label]`` where the label counts, ``nan`` elsewhere;
        ``losses.nanmean()`` is the model's loss.

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
    >>> from lmnotes.mlm import masked_token_losses
    >>> import torch
    >>> logits = torch.zeros(1, 3, 4)             # uniform over a vocabulary of 4
    >>> logits[0, 1, 2] = 10.0                    # position 1 is sure its token is 2
    >>> labels = torch.tensor([[-100, 2, 3]])     # positions 1 and 2 were chosen
    >>> losses = masked_token_losses(logits, labels)
    >>> [round(x, 3) for x in losses[0].tolist()]  # nan, ~0, log 4
    [nan, 0.0, 1.386]
    >>> round(losses.nanmean().item(), 3)          # the mean over chosen positions
    0.693
    """
    check_logits_labels(logits, labels, ignore_index)
    return token_nll(logits, labels, ignore_index)
