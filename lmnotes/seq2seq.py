"""Encoder-decoder (sequence-to-sequence) labels: the shift is on the input side.

``DataCollatorForSeq2Seq`` pads the ``labels`` of a batch with ``-100``
(``label_pad_token_id``) and, when it is given the model, builds the decoder's inputs
from them: ``decoder_input_ids = shift_tokens_right(labels, pad_token_id,
decoder_start_token_id)``, the labels moved one step to the right behind the decoder
start token, each ``-100`` replaced by the pad id. Position ``i`` of the decoder then
reads the target tokens before ``i`` and is scored against label ``i``: the loss of an
encoder-decoder model (BART, T5) compares its logits with the labels *as they are*.

A causal LM does the opposite: its inputs are the tokens themselves and the shift is in
the loss (:func:`lmnotes.clm.shifted_loss`). :func:`decoder_input_ids_from_labels` is the
input-side shift written out, :func:`seq2seq_loss` the unshifted loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lmnotes._checks import check_int, check_integer_2d, check_logits_labels

__all__ = ["decoder_input_ids_from_labels", "seq2seq_loss"]


def decoder_input_ids_from_labels(
    labels: torch.Tensor, pad_token_id: int, decoder_start_token_id: int
) -> torch.Tensor:
    """The decoder's inputs built from the labels: shifted right, ``-100`` read as padding.

    What transformers' ``shift_tokens_right`` (BART, mBART, ...) returns, and what
    ``DataCollatorForSeq2Seq(model=...)`` stores as ``decoder_input_ids``: position 0 holds
    ``decoder_start_token_id``, position ``i > 0`` holds ``labels[:, i - 1]``, and the last
    label is dropped. A ``-100`` cannot be an input id: it becomes ``pad_token_id``.

    Parameters
    ----------
    labels : (batch, tgt_len) integer tensor
        Target ids, ``-100`` where the loss ignores a position (padding). Not modified.
    pad_token_id : int
        Id that replaces ``-100`` in the inputs.
    decoder_start_token_id : int
        First input of the decoder (``</s>``, id 2, for BART; the pad id for T5).

    Returns
    -------
    decoder_input_ids : (batch, tgt_len) tensor, dtype of ``labels``

    Raises
    ------
    TypeError
        If ``labels`` is not a tensor, or an id is not an int.
    ValueError
        If ``labels`` is not a 2-D integer tensor.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.seq2seq import decoder_input_ids_from_labels
    >>> labels = torch.tensor([[0, 7, 8, 9, 2], [0, 5, 2, -100, -100]])
    >>> decoder_input_ids_from_labels(labels, pad_token_id=1, decoder_start_token_id=2)
    tensor([[2, 0, 7, 8, 9],
            [2, 0, 5, 2, 1]])
    """
    check_integer_2d(labels, "labels")
    pad_token_id = check_int(pad_token_id, "pad_token_id")
    decoder_start_token_id = check_int(decoder_start_token_id, "decoder_start_token_id")
    shifted = torch.empty_like(labels)
    shifted[:, 0] = decoder_start_token_id
    shifted[:, 1:] = labels[:, :-1]
    return shifted.masked_fill(shifted == -100, pad_token_id)


def seq2seq_loss(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100
) -> torch.Tensor:
    """The encoder-decoder loss: logits at position ``i`` against the label at ``i``, no shift.

    What ``BartForConditionalGeneration`` returns as ``outputs.loss``: the cross-entropy of
    the logits (in float32) against the unshifted labels, averaged over the labels that
    are not ``ignore_index``. The shift already happened on the input side
    (:func:`decoder_input_ids_from_labels`).

    Parameters
    ----------
    logits : (batch, tgt_len, vocab_size) float tensor
        Decoder outputs.
    labels : (batch, tgt_len) integer tensor
        Target ids, ``-100`` = ignored.
    ignore_index : int, default -100
        Label value that does not count.

    Returns
    -------
    loss : () float32 tensor
        ``nan`` if every label is ignored.

    Raises
    ------
    TypeError
        If ``logits`` or ``labels`` is not a tensor, or ``ignore_index`` not an int.
    ValueError
        If ``logits`` is not a 3-D float tensor, ``labels`` not a 2-D integer tensor, or
        their (batch, tgt_len) differ.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.seq2seq import seq2seq_loss
    >>> logits = torch.zeros(1, 2, 4)            # uniform over a vocabulary of 4...
    >>> logits[0, 0, 3] = 10.0                   # ...except position 0, sure of id 3
    >>> round(seq2seq_loss(logits, torch.tensor([[3, 1]])).item(), 3)   # (~0 + log 4) / 2
    0.693
    >>> seq2seq_loss(logits, torch.tensor([[3, -100]])).item() < 0.001
    True
    """
    check_logits_labels(logits, labels, ignore_index)
    vocab_size = logits.shape[-1]
    return F.cross_entropy(
        logits.float().reshape(-1, vocab_size),
        labels.reshape(-1).long(),
        ignore_index=ignore_index,
    )
