"""Whole-word masking: the MLM collator chooses words, not tokens.

``DataCollatorForLanguageModeling(whole_word_mask=True)`` (transformers 4.57+) reads the
tokens' character offsets (a fast tokenizer's ``offset_mapping``): a token that starts
where the previous one ended belongs to the same word, so a word is a run of text
without a space (``un ##bel ##ie ##va ##bly``, but also ``fragments ,`` and
``doesn ' t``). The Bernoulli draw of ``mlm_probability`` is made on the first token of
each word only, and every token of a chosen word is chosen with it. Random replacement
is not supported: every chosen token becomes ``[MASK]`` (transformers 5 warns and sets
``mask_replace_prob`` to 1; 4.57 raises a ``TypeError`` unless it is passed as 1).

:func:`word_ids_from_offsets` groups tokens as the collator does;
:func:`compare_whole_word_masking` measures both collators on one sentence.
"""

from __future__ import annotations

import dataclasses

import torch

from lmnotes._checks import check_int, check_integer_2d, check_probability
from lmnotes._tables import Table
from lmnotes.mlm import mask_outcomes

__all__ = ["WholeWordComparison", "compare_whole_word_masking", "word_ids_from_offsets"]


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
    """

    tokens: int
    words: int
    draws: int
    rows: tuple[tuple[str, float, float, float, float, float, float], ...]

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
        """Each collator as text, fractions to 3 decimals."""
        return [(name, *(f"{x:.3f}" for x in values)) for name, *values in self.rows]

    def row(self, masking: str) -> dict[str, float]:
        """The measured fractions of one row (``"token-level"`` or ``"whole-word"``)."""
        found = next(r for r in self.rows if r[0] == masking)
        return dict(zip(self.columns[1:], found[1:], strict=True))


def _measure(name: str, batch, word_ids: torch.Tensor, mask_token_id: int) -> tuple:
    outcomes = mask_outcomes(batch["input_ids"], batch["labels"], mask_token_id)
    chosen = outcomes > 0
    ordinary = word_ids >= 0
    words = int(word_ids.max()) + 1
    touched = split = 0
    for word in range(words):
        in_word = word_ids == word
        count = (chosen & in_word).sum(dim=1)
        size = int(in_word[0].sum())
        touched += int((count > 0).sum())
        split += int(((count > 0) & (count < size)).sum())
    rows = chosen.shape[0]
    n_chosen = int(chosen.sum())
    shares = [
        int((outcomes == code).sum()) / n_chosen if n_chosen else float("nan") for code in (1, 2, 3)
    ]
    return (
        name,
        n_chosen / int(ordinary.sum()),
        touched / (words * rows),
        split / (words * rows),
        *shares,
    )


def compare_whole_word_masking(
    tokenizer, text: str, *, draws: int = 2000, mlm_probability: float = 0.15, seed: int = 1
) -> WholeWordComparison:
    """Collate one sentence ``draws`` times with token-level and with whole-word masking.

    Token-level: ``DataCollatorForLanguageModeling(tokenizer, mlm_probability, seed)``,
    the default 80/10/10 split. Whole-word: the same with ``whole_word_mask=True`` and
    ``mask_replace_prob=1, random_replace_prob=0`` (what transformers 5 sets itself;
    4.57 requires it).

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
    return WholeWordComparison(
        tokens=int((word_ids[0] >= 0).sum()),
        words=int(word_ids.max()) + 1,
        draws=draws,
        rows=(
            _measure("token-level", token_level(ids_only), word_ids, mask_id),
            _measure("whole-word", whole_word(with_offsets), word_ids, mask_id),
        ),
    )
