"""Next-token prediction: teacher forcing against generation one token at a time.

A causal LM returns, in one forward pass over ``T`` tokens, ``T`` rows of logits: row ``i``
is its prediction of token ``i + 1`` given tokens ``0 .. i`` and nothing after them (the
causal mask). Training scores every row at once against the real next token (*teacher
forcing*). Generation uses only the last row: it appends the predicted token and runs
again, either over the whole sequence (no cache) or over the new token only, reusing the
keys and values of the earlier tokens (the *key/value cache*).

Because of the causal mask the three give the same predictions:
:func:`teacher_forcing_vs_generation` checks it on any causal LM, and
:func:`top_prediction_table` shows, position by position, what a model expects next.
"""

from __future__ import annotations

import dataclasses
import inspect

import torch

from lmnotes._checks import as_ids, check_int
from lmnotes._tables import Table, visible_token
from lmnotes.compat import cache_argument

__all__ = [
    "GenerationComparison",
    "GreedyRun",
    "TopPredictionTable",
    "greedy_generate",
    "teacher_forcing_vs_generation",
    "top_prediction_table",
]


# --------------------------------------------------------------------------- validation


def _check_model(model: object) -> torch.nn.Module:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _without_cache(model: torch.nn.Module) -> dict[str, bool]:
    """``{"use_cache": False}`` if ``model.forward`` takes it (BERT does not in transformers
    4.x)."""
    takes_it = "use_cache" in inspect.signature(model.forward).parameters
    return {"use_cache": False} if takes_it else {}


def _logits(model: torch.nn.Module, **inputs) -> tuple[torch.Tensor, object]:
    """Logits (float32) and the returned cache (``None`` if none) of one forward pass."""
    with torch.no_grad():
        out = model(**inputs)
    cache = getattr(out, "cache", None)
    if cache is None:
        cache = getattr(out, "past_key_values", None)
    return out.logits.float(), cache


# --------------------------------------------------------------------------- generation


@dataclasses.dataclass(frozen=True)
class GreedyRun:
    """Tokens chosen by greedy decoding, one forward pass per new token.

    Attributes
    ----------
    new_ids : tuple of int
        The ``n_new`` generated ids (the prompt is not repeated).
    tokens_fed : tuple of int
        How many tokens went into the model at each step: the prompt length, then 1 per
        step with the cache; the whole sequence so far at every step without it.
    logits : (n_new, vocab_size) float32 tensor
        Row ``t``: the logits that chose ``new_ids[t]`` (the last row of step ``t``).
        Not compared by ``==``.
    """

    new_ids: tuple[int, ...]
    tokens_fed: tuple[int, ...]
    logits: torch.Tensor = dataclasses.field(repr=False, compare=False)


def greedy_generate(
    model: torch.nn.Module, input_ids, n_new: int, *, use_cache: bool = True
) -> GreedyRun:
    """Generate ``n_new`` tokens greedily (argmax), one forward pass per token.

    With ``use_cache=True`` the first pass runs over the prompt and returns the keys and
    values of every layer; each later pass feeds only the newest token (one query) with
    that cache (its keys and values for all earlier positions), as ``model.generate``
    does. With ``use_cache=False`` each pass recomputes the whole sequence and only its
    last row of logits is used. Generation does not stop at an end-of-sequence token.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers causal LM (returns ``logits``; with ``use_cache``, a ``cache``).
    input_ids : list of int, (seq_len,) or (1, seq_len) integer tensor
        The prompt, one sequence, no padding.
    n_new : int
        Number of tokens to generate (``>= 1``).
    use_cache : bool, default True
        Reuse the key/value cache between steps.

    Returns
    -------
    GreedyRun

    Raises
    ------
    TypeError
        If ``model`` is not a module, ``input_ids`` not a list or tensor, ``n_new`` not
        an int.
    ValueError
        If ``input_ids`` is not one non-empty sequence of integer ids, or ``n_new < 1``.

    Examples
    --------
    >>> from lmnotes.generation import greedy_generate
    >>> from lmnotes.tiny import tiny_llama
    >>> model = tiny_llama()
    >>> with_cache = greedy_generate(model, [5, 17, 42], n_new=4)
    >>> without = greedy_generate(model, [5, 17, 42], n_new=4, use_cache=False)
    >>> len(with_cache.new_ids), with_cache.new_ids == without.new_ids
    (4, True)
    >>> with_cache.tokens_fed, without.tokens_fed      # tokens fed to the model per step
    ((3, 1, 1, 1), (3, 4, 5, 6))
    >>> tuple(with_cache.logits.shape)
    (4, 100)
    """
    model = _check_model(model)
    ids = as_ids(input_ids)
    n_new = check_int(n_new, "n_new", minimum=1)
    chosen: list[int] = []
    fed: list[int] = []
    rows: list[torch.Tensor] = []
    if use_cache:
        # "cache" in recent transformers, "past_key_values" before (lmnotes.compat); a model
        # that takes neither (BERT) raises ValueError here.
        cache_name = cache_argument(model)
        logits, cache = _logits(model, input_ids=ids, use_cache=True)
        fed.append(ids.shape[1])
        if cache is None:
            raise ValueError("model returned no key/value cache with use_cache=True")
        for step in range(n_new):
            row = logits[0, -1]
            rows.append(row)
            chosen.append(int(row.argmax()))
            if step + 1 < n_new:
                new = torch.tensor([[chosen[-1]]])
                past = {cache_name: cache}
                logits, cache = _logits(model, input_ids=new, **past, use_cache=True)
                fed.append(new.shape[1])
    else:
        sequence = ids
        for _ in range(n_new):
            logits, _cache = _logits(model, input_ids=sequence, **_without_cache(model))
            fed.append(sequence.shape[1])
            row = logits[0, -1]
            rows.append(row)
            chosen.append(int(row.argmax()))
            sequence = torch.cat([sequence, torch.tensor([[chosen[-1]]])], dim=1)
    return GreedyRun(new_ids=tuple(chosen), tokens_fed=tuple(fed), logits=torch.stack(rows))


@dataclasses.dataclass(frozen=True)
class GenerationComparison:
    """Greedy generation, with and without the cache, against one teacher-forced pass.

    Attributes
    ----------
    prompt_ids : tuple of int
        The prompt.
    with_cache : GreedyRun
        One token per step, keys and values of earlier tokens reused.
    without_cache : GreedyRun
        One token per step, the whole sequence recomputed at each step.
    teacher_forcing_ids : tuple of int
        Argmax of the rows ``P - 1 .. P + n_new - 2`` of one forward pass over the prompt
        (length ``P``) followed by the generated tokens: what the model predicts at each
        position when it is given the true previous tokens all at once.
    max_logit_diff_cache : float
        Largest absolute difference between the logits of the cached steps and the
        matching teacher-forcing rows.
    max_logit_diff_no_cache : float
        The same for the uncached steps.
    """

    prompt_ids: tuple[int, ...]
    with_cache: GreedyRun
    without_cache: GreedyRun
    teacher_forcing_ids: tuple[int, ...]
    max_logit_diff_cache: float = dataclasses.field(compare=False)
    max_logit_diff_no_cache: float = dataclasses.field(compare=False)

    @property
    def agree(self) -> bool:
        """True if the three ways chose exactly the same tokens."""
        return self.with_cache.new_ids == self.without_cache.new_ids == self.teacher_forcing_ids


def teacher_forcing_vs_generation(
    model: torch.nn.Module, input_ids, n_new: int
) -> GenerationComparison:
    """Generate ``n_new`` tokens step by step, then recover them from one forward pass.

    The generated tokens (greedy, with the key/value cache) are appended to the prompt and
    the whole sequence goes through the model once. Row ``i`` of those logits only saw
    tokens ``0 .. i`` (causal mask), exactly what step ``i - P + 1`` of generation saw, so
    its argmax is the token generated there.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers causal LM.
    input_ids : list of int, (seq_len,) or (1, seq_len) integer tensor
        The prompt (length ``P``), one sequence, no padding.
    n_new : int
        Number of tokens to generate (``>= 1``).

    Returns
    -------
    GenerationComparison
        Its ``agree`` property is the boolean answer.

    Raises
    ------
    TypeError, ValueError
        As :func:`greedy_generate`.

    Examples
    --------
    >>> from lmnotes.generation import teacher_forcing_vs_generation
    >>> from lmnotes.tiny import tiny_gpt2
    >>> result = teacher_forcing_vs_generation(tiny_gpt2(), [5, 17, 42, 8], n_new=5)
    >>> result.agree, result.max_logit_diff_cache < 1e-4
    (True, True)
    """
    model = _check_model(model)
    ids = as_ids(input_ids)
    n_new = check_int(n_new, "n_new", minimum=1)
    with_cache = greedy_generate(model, ids, n_new, use_cache=True)
    without_cache = greedy_generate(model, ids, n_new, use_cache=False)
    prompt_len = ids.shape[1]
    # The last generated token is never an input of a generation step: leave it out.
    full = torch.cat([ids, torch.tensor([with_cache.new_ids[:-1]], dtype=torch.long)], dim=1)
    logits, _cache = _logits(model, input_ids=full, **_without_cache(model))
    forced = logits[0, prompt_len - 1 :]

    def diff(run: GreedyRun) -> float:
        return float((run.logits - forced).abs().max())

    return GenerationComparison(
        prompt_ids=tuple(ids[0].tolist()),
        with_cache=with_cache,
        without_cache=without_cache,
        teacher_forcing_ids=tuple(forced.argmax(-1).tolist()),
        max_logit_diff_cache=diff(with_cache),
        max_logit_diff_no_cache=diff(without_cache),
    )


# --------------------------------------------------------------------------- next-token table


@dataclasses.dataclass(frozen=True, repr=False)
class TopPredictionTable(Table):
    """What a causal LM expects after each position of a text (one teacher-forced pass).

    Attributes
    ----------
    rows : tuple of (int, str, str, float, str)
        ``(position, token, top prediction, p(top), next token)``: the token at
        ``position``, the token the model finds most likely to follow tokens
        ``0 .. position``, its probability, and the token that does follow in the text
        (``""`` at the last position). Tokens are decoded, with spaces shown as ``␣`` and
        newlines as ``\\n``. The printed table adds a column ``top = next`` holding ``✓``
        where the top prediction is the next token (a mark that needs no colour).
    """

    rows: tuple[tuple[int, str, str, float, str], ...]

    columns = ("position", "token", "top prediction", "p(top)", "next token in text", "top = next")
    numeric = (True, False, False, True, False, False)
    code = (False, True, True, False, True, False)

    @property
    def hits(self) -> int:
        """Positions whose top prediction is the token that follows in the text."""
        return sum(1 for row in self.rows if row[4] and row[4] == row[2])

    def cells(self) -> list[tuple[str, ...]]:
        """Each row as text, the probability to 3 decimals, ``✓`` on a correct top prediction."""
        return [
            (str(pos), token, top, f"{p_top:.3f}", nxt, "\u2713" if nxt and nxt == top else "")
            for pos, token, top, p_top, nxt in self.rows
        ]

    def cell_class(self, row: int, column: int) -> str | None:
        """``lmnotes-hit`` on a top prediction equal to the next token in the text, and its
        ``✓``."""
        pos, token, top, p_top, nxt = self.rows[row]
        return "lmnotes-hit" if column in (2, 5) and nxt and nxt == top else None


def top_prediction_table(model: torch.nn.Module, tokenizer, text: str) -> TopPredictionTable:
    """One forward pass over ``text``: the top prediction and its probability at each position.

    Row ``i`` is the model's most likely next token given tokens ``0 .. i`` and nothing
    after them (the causal mask): what it would generate if the text stopped there. All
    rows come from the same pass. The text is tokenized as the tokenizer does by default
    (with its special tokens, if it adds any). See :func:`lmnotes.display.next_token_table`
    for the probability of the token that does follow, and its loss.

    Parameters
    ----------
    model : torch.nn.Module
        A transformers causal LM.
    tokenizer : transformers tokenizer
        The model's tokenizer (``__call__`` and ``decode``).
    text : str
        A non-empty text.

    Returns
    -------
    TopPredictionTable
        ``print`` it for plain text; a notebook shows its HTML.

    Raises
    ------
    TypeError
        If ``model`` is not a module or ``text`` not a string.
    ValueError
        If ``text`` gives no token.

    Examples
    --------
    >>> from tokenizers import Tokenizer, models, pre_tokenizers
    >>> from transformers import PreTrainedTokenizerFast
    >>> from lmnotes.generation import top_prediction_table
    >>> from lmnotes.tiny import tiny_gpt2
    >>> words = [f"w{i}" for i in range(100)]          # one word per id of the tiny model
    >>> backend = Tokenizer(models.WordLevel(dict(zip(words, range(100))), unk_token="w0"))
    >>> backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    >>> tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend)
    >>> table = top_prediction_table(tiny_gpt2(), tokenizer, "w5 w17 w42")
    >>> [(row[0], row[1], row[4]) for row in table.rows]   # position, token, next token
    [(0, 'w5', 'w17'), (1, 'w17', 'w42'), (2, 'w42', '')]
    >>> all(0.0 < row[3] <= 1.0 for row in table.rows)
    True
    """
    model = _check_model(model)
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    if ids.shape[-1] == 0:
        raise ValueError(f"text must give at least one token, got {text!r}")
    logits, _cache = _logits(model, input_ids=ids, use_cache=False)
    p_top, top_ids = logits[0].softmax(-1).max(-1)
    seq = ids[0].tolist()

    def shown(token_id: int) -> str:
        return visible_token(tokenizer.decode([token_id]))

    rows = tuple(
        (
            pos,
            shown(token_id),
            shown(int(top_ids[pos])),
            round(float(p_top[pos]), 6),
            shown(seq[pos + 1]) if pos + 1 < len(seq) else "",
        )
        for pos, token_id in enumerate(seq)
    )
    return TopPredictionTable(rows)
