"""The batch explorer's test cases and what transformers gives for them (shared by tests).

``window.lmnotesExplorer.compute`` (docs/_static/explorer-compute.js) is compared with
``DataCollatorForLanguageModeling`` and ``DataCollatorWithFlattening`` on random
configurations drawn by a seeded ``random.Random``: lengths 1 to 32 (about one example in
eight empty), batches of 1 to 8, both padding sides, pad = EOS or a distinct pad, with and
without ``pad_to_multiple_of``. tests/test_explorer_compute.py runs the comparison in Node.js;
tests/test_explorer_browser.py uses the same tokenizers and library helpers in chromium.
"""

from __future__ import annotations

import os
import random
import shutil

import pytest
import torch
from transformers import DataCollatorForLanguageModeling

from lmnotes.assets import load_tokenizer

#: What to do without Node.js.
INSTALL_NODE = "node not found: install Node.js 20 or later (Debian: apt-get install nodejs)"

#: Random configurations compared with the library, per collator.
CONFIGS = 200
MULTIPLES = [None, None, 2, 3, 4, 8, 16]


def view(tokenizer) -> dict:
    """The ``config.tokenizer`` of the contract, read from a transformers tokenizer."""
    return {
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "mask_token_id": tokenizer.mask_token_id,
        "special_ids": sorted(set(tokenizer.all_special_ids)),
        "vocab_size": len(tokenizer),
    }


def codegen(pad: str):
    """CodeGen's tokenizer with pad = EOS (``pad="eos"``, as in the notes) or a distinct
    ``<|pad|>`` (``pad="pad"``)."""
    tokenizer = load_tokenizer("Salesforce/codegen-350M-mono")
    if pad == "eos":
        tokenizer.pad_token = tokenizer.eos_token
    else:
        tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
    return tokenizer


def load_tokenizers() -> dict:
    """CodeGen with pad = EOS (``"eos"``) and with a distinct <|pad|> (``"pad"``);
    bert-base-cased for MLM (``"mlm"``). :func:`library_padded` sets their padding side."""
    return {"eos": codegen("eos"), "pad": codegen("pad"), "mlm": load_tokenizer("bert-base-cased")}


def random_ids(rng: random.Random, length: int, vocab: int, frequent: list[int]) -> list[int]:
    """Random ids; about one in eight is one of ``frequent`` (EOS, pad, special ids)."""
    return [
        rng.choice(frequent) if rng.random() < 0.125 else rng.randrange(vocab)
        for _ in range(length)
    ]


def random_batch(rng: random.Random, vocab: int, frequent: list[int]) -> list[list[int]]:
    """1 to 8 examples of 1 to 32 ids; about one in eight is empty (as an emptied example)."""
    return [
        random_ids(rng, 0 if rng.random() < 0.125 else rng.randint(1, 32), vocab, frequent)
        for _ in range(rng.randint(1, 8))
    ]


def empties(configs) -> int:
    """How many examples of ``configs`` are empty, in batches that have another example."""
    return sum(
        not ids and any(config["examples"]) for config in configs for ids in config["examples"]
    )


def padded_configs(rng: random.Random, collator: str, tokenizers: dict, n: int):
    """``n`` (config, tokenizer) pairs covering both sides, both pads and pad_to_multiple_of."""
    pairs = []
    for i in range(n):
        if collator == "mlm":
            tokenizer = tokenizers["mlm"]
        else:
            tokenizer = tokenizers["eos" if i % 2 == 0 else "pad"]
        frequent = sorted(set(tokenizer.all_special_ids))
        config = {
            "collator": collator,
            "tokenizer": view(tokenizer),
            "examples": random_batch(rng, 50257 if collator != "mlm" else len(tokenizer), frequent),
            "padding_side": "right" if (i // 2) % 2 == 0 else "left",
            "pad_to_multiple_of": rng.choice(MULTIPLES),
            "seed": rng.randrange(2**31),
        }
        pairs.append((config, tokenizer))
    return pairs


def library_padded(config: dict, tokenizer, *, mlm: bool) -> dict[str, list]:
    """What ``DataCollatorForLanguageModeling(mlm=mlm)`` returns for ``config``'s examples,
    padding side and ``pad_to_multiple_of``, as lists."""
    tokenizer.padding_side = config["padding_side"]
    collator = DataCollatorForLanguageModeling(
        tokenizer, mlm=mlm, pad_to_multiple_of=config["pad_to_multiple_of"], seed=0
    )
    batch = collator([{"input_ids": ids} for ids in config["examples"]])
    return {key: value.tolist() for key, value in batch.items()}


def mask_strings(mask: torch.Tensor) -> list[str]:
    """A (query, key) boolean mask as one string of 0/1 per query row."""
    return ["".join("1" if bit else "0" for bit in row) for row in mask.tolist()]


def node_or_skip() -> str:
    """The ``node`` executable; without one, skip with the command that installs it, or fail
    under CI (``CI`` set)."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail(INSTALL_NODE)
        pytest.skip(INSTALL_NODE)
    return node
