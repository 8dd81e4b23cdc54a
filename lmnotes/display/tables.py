"""Token tables: one sequence of a batch, position by position, as HTML or plain text.

:func:`token_table` rebuilds the "general principle" table of the original notes
from a real batch (one row per position: the token the model sees, its id, the
label and the token the label stands for); :func:`next_token_table` shows what
a causal LM is scored on at each position (the next token, its probability and
its loss). Both render as HTML in a notebook and as plain text in a terminal
or a doctest (:class:`lmnotes._tables.Table`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from lmnotes._checks import check_int, check_integer_2d, check_same_shape
from lmnotes._tables import Table
from lmnotes.clm import next_token_losses

__all__ = [
    "NextTokenTable",
    "TokenTable",
    "next_token_table",
    "token_table",
]


def _check_row(row: object, batch: int) -> int:
    """Return ``row`` if it is an int indexing a batch of ``batch`` sequences (negative too)."""
    check_int(row, "row")
    if not -batch <= row < batch:
        raise ValueError(
            f"row must be in [{-batch}, {batch - 1}] for a batch of {batch}, got {row}"
        )
    return row


@dataclasses.dataclass(frozen=True, repr=False)
class TokenTable(Table):
    """One sequence of a batch, position by position.

    Attributes
    ----------
    rows : tuple of (int, str, int, int, str)
        ``(position, token, input id, label, label token)``; ``label`` is ``-100``
        where the loss ignores the position, and ``label token`` is then empty.
    """

    rows: tuple[tuple[int, str, int, int, str], ...]

    columns = ("position", "token", "input id", "label", "label token")
    numeric = (True, False, True, True, False)
    code = (False, True, False, False, True)

    def cells(self) -> list[tuple[str, ...]]:
        """Each row as text; an ignored label shows ``-100`` and no label token."""
        return [tuple(str(cell) for cell in row) for row in self.rows]

    def cell_class(self, row: int, column: int) -> str | None:
        """``lmnotes-ignored`` on a ``-100`` label (the loss skips that position)."""
        return "lmnotes-ignored" if column == 3 and self.rows[row][3] == -100 else None


def token_table(input_ids: torch.Tensor, labels: torch.Tensor, tokenizer, *, row: int = 0):
    """The notes' "general principle" table, built from one row of a real batch.

    Parameters
    ----------
    input_ids : (batch, seq_len) integer tensor
        What the model sees (after masking for MLM).
    labels : (batch, seq_len) integer tensor
        The matching labels (``-100`` where the loss ignores the position).
    tokenizer : transformers tokenizer
        Turns ids into token strings (``convert_ids_to_tokens``: ``##ing`` for a
        WordPiece continuation, ``Ġ`` for a GPT-2 leading space).
    row : int, default 0
        Which sequence of the batch (negative indices count from the end).

    Returns
    -------
    TokenTable
        ``print`` it for plain text; a notebook shows its HTML.

    Raises
    ------
    ValueError
        If a tensor is not 2-D with an integer dtype, the shapes differ, or
        ``row`` is out of range.
    TypeError
        If a tensor argument is not a tensor or ``row`` is not an int.

    Examples
    --------
    >>> from lmnotes.display import token_table
    >>> import torch
    >>> from lmnotes.tiny import bert_tokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "has", "four", "paws"]
    >>> tokenizer = bert_tokenizer(vocab)
    >>> input_ids = torch.tensor([[2, 5, 6, 7, 4, 9, 3]])     # "four" was masked
    >>> labels = torch.tensor([[-100, -100, -100, -100, 8, -100, -100]])
    >>> print(token_table(input_ids, labels, tokenizer))
    position  token   input id  label  label token
    --------  ------  --------  -----  -----------
           0  [CLS]          2   -100
           1  the            5   -100
           2  cat            6   -100
           3  has            7   -100
           4  [MASK]         4      8  four
           5  paws           9   -100
           6  [SEP]          3   -100
    """
    check_integer_2d(input_ids, "input_ids")
    check_integer_2d(labels, "labels")
    check_same_shape(labels, "labels", input_ids, "input_ids")
    _check_row(row, input_ids.shape[0])
    ids = input_ids[row].tolist()
    targets = labels[row].tolist()
    tokens = tokenizer.convert_ids_to_tokens(ids)
    rows = []
    for position, (input_id, token, label) in enumerate(zip(ids, tokens, targets, strict=True)):
        label_token = "" if label == -100 else tokenizer.convert_ids_to_tokens(label)
        rows.append((position, str(token), input_id, label, str(label_token)))
    return TokenTable(tuple(rows))


@dataclasses.dataclass(frozen=True, repr=False)
class NextTokenTable(Table):
    """What a causal LM is scored on at each position of one sequence.

    Attributes
    ----------
    rows : tuple of (int, str, str, float, float)
        ``(position, token, next label, probability, loss)``: the input token at
        ``position``, the label of ``position + 1`` it is scored against, the
        probability the model gives it and ``-log`` of that probability. Where
        nothing is scored (the last position, or a next label of ``-100``) the
        next label is empty and the numbers are ``nan``.
    """

    rows: tuple[tuple[int, str, str, float, float], ...]

    columns = ("position", "token", "next label", "p(next)", "loss")
    numeric = (True, False, False, True, True)
    code = (False, True, True, False, False)

    def cells(self) -> list[tuple[str, ...]]:
        """Each row as text, probabilities and losses to 3 decimals, empty where unscored."""
        return [
            (
                str(position),
                token,
                target,
                f"{prob:.3f}" if target else "",
                f"{loss:.3f}" if target else "",
            )
            for position, token, target, prob, loss in self.rows
        ]


def next_token_table(
    input_ids: torch.Tensor,
    labels: torch.Tensor,
    logits: torch.Tensor,
    tokenizer,
    *,
    row: int = 0,
) -> NextTokenTable:
    """The causal LM loss of one sequence, position by position.

    Position ``i`` is scored against the label of position ``i + 1``
    (:func:`lmnotes.clm.next_token_losses`); the table shows that target, the
    probability the model gives it and its loss. Every position but the last
    has a target: the model is trained on all of them at once.

    Parameters
    ----------
    input_ids : (batch, seq_len) integer tensor
        What the model read.
    labels : (batch, seq_len) integer tensor
        Labels not shifted (``-100`` where ignored), as the collator makes them.
    logits : (batch, seq_len, vocab_size) float tensor
        The model's outputs for ``input_ids``.
    tokenizer : transformers tokenizer
        Turns ids into token strings (``convert_ids_to_tokens``).
    row : int, default 0
        Which sequence of the batch (negative indices count from the end).

    Returns
    -------
    NextTokenTable
        ``print`` it for plain text; a notebook shows its HTML.

    Raises
    ------
    ValueError
        If shapes disagree, a tensor has the wrong dtype or number of
        dimensions, or ``row`` is out of range.
    TypeError
        If an argument is not a tensor or ``row`` is not an int.

    Examples
    --------
    >>> from lmnotes.display import next_token_table
    >>> import torch
    >>> from lmnotes.tiny import bert_tokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat"]
    >>> tokenizer = bert_tokenizer(vocab)
    >>> ids = torch.tensor([[5, 6, 7]])
    >>> logits = torch.zeros(1, 3, len(vocab))
    >>> logits[0, 0, 6] = 10.0                          # sure that "cat" follows "the"
    >>> print(next_token_table(ids, ids, logits, tokenizer))
    position  token  next label  p(next)   loss
    --------  -----  ----------  -------  -----
           0  the    cat           1.000  0.000
           1  cat    sat           0.125  2.079
           2  sat
    """
    check_integer_2d(input_ids, "input_ids")
    losses = next_token_losses(logits, labels)
    check_same_shape(labels, "labels", input_ids, "input_ids")
    _check_row(row, input_ids.shape[0])
    tokens = tokenizer.convert_ids_to_tokens(input_ids[row].tolist())
    targets = labels[row].tolist()[1:] + [-100]
    rows = []
    for position, (token, target, loss) in enumerate(
        zip(tokens, targets, losses[row].tolist(), strict=True)
    ):
        scored = target != -100
        target_token = str(tokenizer.convert_ids_to_tokens(target)) if scored else ""
        prob = float(np.exp(-loss)) if scored else float("nan")
        rows.append((position, str(token), target_token, prob, loss))
    return NextTokenTable(tuple(rows))
