"""The data the batch explorer page needs: the notes' examples, tokenized by the real tokenizers.

The batch explorer (``docs/notes/batch-explorer.md``; ``docs/_static/explorer-compute.js``,
which builds the batches as the collators do, and ``docs/_static/explorer.js``, the page's
interface) builds MLM, CLM and padding-free batches in the browser. It needs no Python at
reading time, only data computed when the site is built:

- the notes' own examples (their MLM sentences, their two lines of Python and a few more),
  tokenized by the tokenizers the notes load: ``bert-base-cased`` for the masked LM,
  ``Salesforce/codegen-350M-mono`` for the causal LM and the padding-free batch;
- for each tokenizer, what a collator reads from it: ``pad_token_id``, ``eos_token_id``,
  ``mask_token_id``, the special ids (never chosen for masking) and the number of ids a
  random replacement is drawn from (``len(tokenizer)``, which the collator uses);
- CodeGen has no pad token: the notes set ``pad_token = eos_token``; the distinct pad is
  the one ``add_special_tokens({"pad_token": "<|pad|>"})`` adds (a new id, 50295);
- the token strings (``convert_ids_to_tokens``) of every id the page can show, and how the
  tokenizer decodes them (``"wordpiece"`` or ``"byte-level"``), so that the page can name an
  edited example by its decoded text.

:func:`explorer_data` returns that as plain JSON-able data; :func:`explorer_html` embeds it
in the page with the scripts that read it, and with the words of the interface
(:data:`EXPLORER_STRINGS`) as text the French build translates through the catalog of
outputs (``docs/locales/fr/LC_MESSAGES/outputs.po``), as it translates every output.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence

__all__ = [
    "EXPLORER_EXAMPLES",
    "EXPLORER_SINGULARS",
    "EXPLORER_STRINGS",
    "explorer_data",
    "explorer_html",
]

#: The examples of the explorer, per collator family: the notes' own sentences and code.
#: ``"mlm"`` texts go through bert-base-cased (with [CLS] and [SEP]); ``"clm"`` texts
#: through CodeGen (which adds no special token; the page can append EOS).
EXPLORER_EXAMPLES: dict[str, tuple[str, ...]] = {
    "mlm": (
        "Hello, this is",
        "this is a inside",
        "La chat a quatre papattes !",
        "Hello, I'm a single sentence!",
    ),
    "clm": (
        "def hello_world():",
        "import numpy as np",
        "    return x",
        "print(batch['labels'])",
    ),
}

#: The tokenizer each collator family uses, as in the notes.
TOKENIZERS = {"mlm": "bert-base-cased", "clm": "Salesforce/codegen-350M-mono"}

#: The pad token added to CodeGen for the "distinct pad" choice.
DISTINCT_PAD = "<|pad|>"

#: How each family's tokenizer turns token strings back into text (``tokenizer.decode``).
DECODERS = {"mlm": "wordpiece", "clm": "byte-level"}

#: The file name of the explorer's computation (``window.lmnotesExplorer``), which
#: :func:`explorer_html` loads from the folder of the interface script, before it.
COMPUTE_SCRIPT = "explorer-compute.js"

#: The words of the explorer's interface, by key, in English. ``{name}`` is filled in by the
#: page's script. They go on the page as text (see :func:`explorer_html`); a site in another
#: language gives the script their translation from its catalog instead (the lmnotes site:
#: ``window.lmnotesWords.explorer``, from ``docs/locales/<lang>/LC_MESSAGES/lmnotes.po``).
EXPLORER_STRINGS: dict[str, str] = {
    "title": "Build a batch",
    "skip": "Skip to the batch explorer",
    "collator": "Collator",
    "collatorMlm": "MLM: DataCollatorForLanguageModeling(mlm=True), bert-base-cased",
    "collatorClm": "CLM: DataCollatorForLanguageModeling(mlm=False), CodeGen",
    "collatorFlattening": "Padding-free: DataCollatorWithFlattening(), CodeGen",
    "examples": "Examples",
    "examplesHelp": (
        "Tick the examples of the batch; edit their token ids (drop, repeat, change the length)."
    ),
    "use": "Use",
    "idsOf": "Token ids of example {n}",
    "drop": "Drop last token",
    "repeat": "Repeat last token",
    "reset": "Reset",
    "exampleN": "example {n}",
    "appendEos": "Append EOS ({eos}) to each example",
    "padding": "Padding",
    "side": "Padding side",
    "right": "right",
    "left": "left",
    "none": "none",
    "padToken": "Pad token",
    "padEos": "pad = EOS ({eos}), as in the notes",
    "padDistinct": "a distinct pad ({pad})",
    "masking": "Masking (MLM)",
    "seed": "seed",
    "nextSeed": "Next seed",
    "batch": "The batch",
    "notices": "What this batch shows",
    "rowOf": "Row {n}: {what}",
    "packed": "the packed row ({k} examples)",
    "packedOne": "the packed row (1 example)",
    "emptyExample": "an empty example",
    "fields": "Fields of row {n}",
    "position": "position",
    "token": "token",
    "draw": "MLM draw",
    "drawMask": "mask",
    "drawRandom": "random",
    "drawKept": "unchanged",
    "example": "example",
    "labelToken": "label token",
    "random": "(random id)",
    "unknown": "(id not in this page)",
    "gridCaption": "Attention mask of row {n}: query rows, key columns; ● may attend, · masked.",
    "gridRegion": "Attention mask of row {n}",
    "corner": "query ↓ key →",
    "legend": (
        "Labels: a bold framed value is trained; -100 (in italics, dashed) is ignored by the"
        " loss. Padding is hatched."
    ),
    "error": "Cannot build this batch: {message}",
    "invalidIds": "example {n}: ids must be integers from 0 to {max}",
    "invalidSeed": (
        "the seed must be an integer from -9223372036854775808 to 18446744073709551615,"
        " the range torch.Generator.manual_seed takes"
    ),
    "invalidProbability": "{name} must be a number from 0 to 1, as the collator requires",
    "invalidSum": "{mask} + {random} must not exceed 1, as the collator requires",
    "noExample": "tick at least one example",
    "allEmpty": (
        "every example is empty, and DataCollatorWithFlattening refuses such a batch (ValueError)"
    ),
    "padEosNotice": (
        "pad = EOS: {n} real EOS tokens have no label (-100), so the model is never trained"
        " to stop."
    ),
    "padIdNotice": (
        "{n} real tokens equal to the pad id ({pad}) have no label (-100): the collator"
        " ignores every pad id, not only padding."
    ),
    "emptyRowsNotice": "Left padding: {n} query rows attend to nothing (every key is masked).",
    "allPadNotice": (
        "Row {r} is padding only: none of its {n} query rows attends to anything (every key is"
        " masked)."
    ),
    "emptyNotice": (
        "Example {n} is empty: the collator pads it to a row of padding only (attention_mask"
        " all 0, every label -100), which adds nothing to the loss."
    ),
    "emptyEosNotice": (
        "Example {n} has no token of its own: its row holds only the EOS appended to it, and"
        " padding; that EOS is no target after the shift, so the row adds nothing to the loss."
    ),
    "emptyEosTargetNotice": (
        "Example {n} has no token of its own: its row holds only the EOS appended to it, after"
        " the padding; that EOS is still a target, scored at the padding position before it."
    ),
    "emptyBatchNotice": (
        "Every example is empty: the collator returns {k} rows of length 0, with no token and"
        " no label."
    ),
    "emptyPackedNotice": (
        "Example {n} is empty: DataCollatorWithFlattening leaves it out of the packed row (no"
        " token, no label, no position id)."
    ),
    "editedNotice": (
        "Example {n} is edited: its row holds {k} tokens where the tokenizer gave {m}; its"
        " heading is decoded from the ids now in it. Reset brings the original back."
    ),
    "presetNotice": (
        "The configuration in the address was not loaded: {key} cannot be {value}. The form"
        " shows the defaults."
    ),
    "seedNotice": (
        "A negative seed counts modulo 2 to the power 64, as torch.Generator.manual_seed"
        " counts it: seed {s} draws as seed {u}."
    ),
    "padTargetNotice": (
        "Left padding: in {n} rows the first real token keeps its label, so the loss scores it"
        " at the padding position before it, a query that attends to nothing; training pads on"
        " the right."
    ),
    "positionsNotice": (
        "Left padding: real tokens start after the padding; the position ids shown count real"
        " tokens only (the model's default 0, 1, 2… would shift them)."
    ),
    "wasteNotice": "{p} of {t} token slots are padding ({pct}).",
    "packedNotice": (
        "Padding-free: {n} tokens of {k} examples in one row, no padding; the first label of"
        " each example is -100, position ids restart at 0, and the mask keeps the examples"
        " apart."
    ),
    "packedNoticeOne": (
        "Padding-free: {n} tokens of 1 example in one row, no padding; its first label is"
        " -100 and its position ids start at 0."
    ),
    "mlmNotice": (
        "{c} of {e} tokens that may be chosen were chosen: {m} [MASK], {r} random, {u}"
        " unchanged. Special tokens and padding are never chosen."
    ),
    "mlmNone": "No token was chosen: this batch gives no MLM loss. Try another seed.",
    "noTargetNotice": (
        "No label is left after the model's shift (every target is -100): this batch trains"
        " nothing."
    ),
    "shiftNotice": "The labels are the input ids, not shifted: the model shifts them in its loss.",
    "readMore": "Read more",
    "quote": "“{text}”",
}

#: The messages of :data:`EXPLORER_STRINGS` that count something: key -> (the placeholder
#: that holds the count, the message's singular form). :data:`EXPLORER_STRINGS` holds their
#: plural form; the page's script picks the form the count needs in the page's language
#: (``Intl.PluralRules``), and a catalog translates both (``ngettext``).
EXPLORER_SINGULARS: dict[str, tuple[str, str]] = {
    "padEosNotice": (
        "n",
        "pad = EOS: {n} real EOS token has no label (-100), so the model is never trained to stop.",
    ),
    "padIdNotice": (
        "n",
        "{n} real token equal to the pad id ({pad}) has no label (-100): the collator"
        " ignores every pad id, not only padding.",
    ),
    "emptyRowsNotice": (
        "n",
        "Left padding: {n} query row attends to nothing (every key is masked).",
    ),
    "emptyBatchNotice": (
        "k",
        "Every example is empty: the collator returns {k} row of length 0, with no token and"
        " no label.",
    ),
    "editedNotice": (
        "k",
        "Example {n} is edited: its row holds {k} token where the tokenizer gave {m}; its"
        " heading is decoded from the ids now in it. Reset brings the original back.",
    ),
    "padTargetNotice": (
        "n",
        "Left padding: in {n} row the first real token keeps its label, so the loss scores it"
        " at the padding position before it, a query that attends to nothing; training pads on"
        " the right.",
    ),
}


def _collator_view(tokenizer) -> dict[str, object]:
    """What a collator reads from ``tokenizer``, in the explorer's contract."""
    return {
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "mask_token_id": tokenizer.mask_token_id,
        "special_ids": sorted(set(tokenizer.all_special_ids)),
        "vocab_size": len(tokenizer),
    }


def _tokenizer_entry(
    tokenizer, name: str, texts: Sequence[str], configs: Mapping[str, object], decoder: str
) -> dict:
    examples = [{"text": text, "ids": tokenizer(text)["input_ids"]} for text in texts]
    ids = {i for example in examples for i in example["ids"]}
    for config in configs.values():
        ids.update(config["special_ids"])
        ids.update(v for k, v in config.items() if k.endswith("_token_id") and v is not None)
    tokens = {str(i): tokenizer.convert_ids_to_tokens(i) for i in sorted(ids)}
    return {
        "name": name,
        "configs": dict(configs),
        "examples": examples,
        "tokens": tokens,
        "decoder": decoder,
    }


def explorer_data(examples: Mapping[str, Sequence[str]] | None = None) -> dict:
    """Tokenize the explorer's examples with the real tokenizers; return JSON-able data.

    Parameters
    ----------
    examples : mapping with keys ``"mlm"`` and ``"clm"`` of sequences of str, optional
        The texts of each family (default :data:`EXPLORER_EXAMPLES`).

    Returns
    -------
    dict
        ``{"version": 1, "families": {"mlm": entry, "clm": entry}}``, where each entry is
        ``{"name": hub id, "configs": {choice: tokenizer view}, "examples": [{"text": str,
        "ids": [int, ...]}, ...], "tokens": {str(id): token string}, "decoder": str}``, where
        ``decoder`` says how ``tokenizer.decode`` joins token strings: ``"wordpiece"``
        (bert-base-cased: ``##`` pieces glued, spaces before punctuation dropped) or
        ``"byte-level"`` (CodeGen: each character stands for a byte). A tokenizer view has
        the keys of ``config.tokenizer`` in ``window.lmnotesExplorer.compute``: ``pad_token_id``,
        ``eos_token_id``, ``mask_token_id`` (int or None), ``special_ids`` (sorted list of
        int) and ``vocab_size`` (``len(tokenizer)``). The MLM family has one choice,
        ``"pad"`` (BERT's [PAD]); the CLM family has ``"eos"`` (``pad_token = eos_token``, as
        in the notes) and ``"pad"`` (a distinct ``<|pad|>`` added as a special token).
        ``tokens`` covers every id of the examples and every special id.

    Raises
    ------
    TypeError
        If ``examples`` is not a mapping of sequences of str.
    ValueError
        If ``examples`` lacks ``"mlm"`` or ``"clm"`` or one of them is empty.

    Examples
    --------
    >>> import json
    >>> from lmnotes.explorer import explorer_data
    >>> data = explorer_data()
    >>> clm = data["families"]["clm"]
    >>> clm["examples"][0]
    {'text': 'def hello_world():', 'ids': [4299, 23748, 62, 6894, 33529]}
    >>> clm["configs"]["eos"]["pad_token_id"], clm["configs"]["pad"]["pad_token_id"]
    (50256, 50295)
    >>> clm["tokens"]["50295"], clm["configs"]["pad"]["vocab_size"]
    ('<|pad|>', 50296)
    >>> mlm = data["families"]["mlm"]
    >>> mlm["configs"]["pad"]["mask_token_id"], mlm["configs"]["pad"]["special_ids"]
    (103, [0, 100, 101, 102, 103])
    >>> [mlm["tokens"][str(i)] for i in mlm["examples"][0]["ids"]]
    ['[CLS]', 'Hello', ',', 'this', 'is', '[SEP]']
    >>> len(json.dumps(data)) < 10_000
    True
    """
    from lmnotes.assets import load_tokenizer

    if examples is None:
        examples = EXPLORER_EXAMPLES
    if not isinstance(examples, Mapping):
        raise TypeError(f"examples must be a mapping, got {type(examples).__name__}")
    for family in TOKENIZERS:
        texts = examples.get(family)
        if texts is None:
            raise ValueError(f"examples must have the key {family!r}")
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(
                f"examples[{family!r}] must be a sequence of str, got {type(texts).__name__}"
            )
        if not texts:
            raise ValueError(f"examples[{family!r}] must not be empty")
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"examples[{family!r}] must hold str, got {type(text).__name__}")

    bert = load_tokenizer(TOKENIZERS["mlm"])
    mlm = _tokenizer_entry(
        bert, TOKENIZERS["mlm"], examples["mlm"], {"pad": _collator_view(bert)}, DECODERS["mlm"]
    )

    codegen = load_tokenizer(TOKENIZERS["clm"])
    codegen.pad_token = codegen.eos_token  # the notes' choice
    with_eos = _collator_view(codegen)
    padded = load_tokenizer(TOKENIZERS["clm"])
    padded.add_special_tokens({"pad_token": DISTINCT_PAD})
    clm = _tokenizer_entry(
        padded,
        TOKENIZERS["clm"],
        examples["clm"],
        {"eos": with_eos, "pad": _collator_view(padded)},
        DECODERS["clm"],
    )
    return {"version": 1, "families": {"mlm": mlm, "clm": clm}}


def explorer_html(
    data: Mapping,
    *,
    script: str = "../_static/explorer.js",
    strings: Mapping[str, str] | None = None,
) -> str:
    """The HTML that puts the explorer on a page: its data, its words, a mount point, the scripts.

    Parameters
    ----------
    data : mapping
        What :func:`explorer_data` returns (anything JSON-serialisable).
    script : str, default ``"../_static/explorer.js"``
        URL of ``explorer.js`` (the interface) relative to the page (a page in ``notes/``);
        its stylesheet is the same URL with ``.css``, and the computation it reads
        (``window.lmnotesExplorer``) is ``explorer-compute.js`` in the same folder.
    strings : mapping of str to str, optional
        The words of the interface by key (default :data:`EXPLORER_STRINGS`).

    Returns
    -------
    str
        A ``<div class="lmnotes-explorer">`` holding a ``<script type="application/json">``
        with ``data`` (``<``, ``>`` and ``&`` escaped, so no text ends the script early) and
        a ``<template class="lmnotes-explorer-strings">`` with one
        ``<span data-key="key">words</span>`` per string (HTML-escaped text, as written; a
        template is never shown),
        followed by the stylesheet link and two script tags: ``explorer-compute.js`` (the
        computation), then ``script`` (the interface, which reads it).

    Raises
    ------
    TypeError
        If ``data`` or ``strings`` is not a mapping, ``script`` is not a str, or a key or
        value of ``strings`` is not a str.
    ValueError
        If ``script`` does not end with ``.js``, or a key of ``strings`` is not an
        identifier.

    Examples
    --------
    >>> from lmnotes.explorer import explorer_html
    >>> page = explorer_html({"text": "</script>"})
    >>> page.count("<script"), page.count("</script>")  # the data's text closes nothing
    (3, 3)
    >>> page.startswith('<div class="lmnotes-explorer">')
    True
    >>> print(page[page.index("<link"):])  # the computation first, then the interface
    <link rel="stylesheet" href="../_static/explorer.css">
    <script src="../_static/explorer-compute.js"></script>
    <script src="../_static/explorer.js"></script>
    >>> '<span data-key="batch">The batch</span>' in page
    True
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a mapping, got {type(data).__name__}")
    if not isinstance(script, str):
        raise TypeError(f"script must be a str, got {type(script).__name__}")
    if not script.endswith(".js"):
        raise ValueError(f"script must be the URL of a .js file, got {script!r}")
    if strings is None:
        strings = EXPLORER_STRINGS
    if not isinstance(strings, Mapping):
        raise TypeError(f"strings must be a mapping, got {type(strings).__name__}")
    for key, value in strings.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"strings must map str to str, got {key!r}: {value!r}")
        if not key.isidentifier():
            raise ValueError(f"strings keys must be identifiers, got {key!r}")
    words = "".join(
        f'<span data-key="{key}">{html.escape(value, quote=False)}</span>'
        for key, value in strings.items()
    )
    # The singular of a message that counts, after its plural: data-count names the count.
    words += "".join(
        f'<span data-key="{key}" data-count="{count}">{html.escape(one, quote=False)}</span>'
        for key, (count, one) in EXPLORER_SINGULARS.items()
        if key in strings
    )
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    payload = payload.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    style = html.escape(script[: -len(".js")] + ".css", quote=True)
    compute = html.escape(script[: script.rfind("/") + 1] + COMPUTE_SCRIPT, quote=True)
    return (
        '<div class="lmnotes-explorer">'
        f'<script type="application/json" class="lmnotes-explorer-data">{payload}</script>'
        f'<template class="lmnotes-explorer-strings">{words}</template>'
        "</div>\n"
        f'<link rel="stylesheet" href="{style}">\n'
        f'<script src="{compute}"></script>\n'
        f'<script src="{html.escape(script, quote=True)}"></script>'
    )
