"""lmnotes.explorer: the data of the batch explorer page, tokenized by the real tokenizers."""

from __future__ import annotations

import html
import json
import re

import pytest
from conftest import ROOT

from lmnotes.assets import load_tokenizer
from lmnotes.explorer import (
    EXPLORER_EXAMPLES,
    EXPLORER_SINGULARS,
    EXPLORER_STRINGS,
    explorer_data,
    explorer_html,
)

SCRIPT = ROOT / "docs" / "_static" / "explorer.js"
#: The computation the interface reads (window.lmnotesExplorer), loaded before it.
COMPUTE = ROOT / "docs" / "_static" / "explorer-compute.js"


@pytest.fixture(scope="module")
def data() -> dict:
    return explorer_data()


class TestExplorerData:
    def test_examples_are_the_real_tokenizers_ids(self, data) -> None:
        """Each example's ids are what bert-base-cased (MLM) and CodeGen (CLM) give for its text."""
        for family, name in (("mlm", "bert-base-cased"), ("clm", "Salesforce/codegen-350M-mono")):
            tokenizer = load_tokenizer(name)
            entry = data["families"][family]
            assert entry["name"] == name
            assert [e["text"] for e in entry["examples"]] == list(EXPLORER_EXAMPLES[family])
            for example in entry["examples"]:
                assert example["ids"] == tokenizer(example["text"])["input_ids"]

    def test_the_notes_code_lines_keep_their_ids(self, data) -> None:
        """The notes' two code lines give the ids the notes printed."""
        ids = {e["text"]: e["ids"] for e in data["families"]["clm"]["examples"]}
        assert ids["def hello_world():"] == [4299, 23748, 62, 6894, 33529]
        assert ids["import numpy as np"] == [11748, 299, 32152, 355, 45941]

    def test_tokenizer_views_match_the_tokenizers(self, data) -> None:
        """pad/eos/mask ids, special ids and len(tokenizer) are read from the real tokenizers."""
        bert = load_tokenizer("bert-base-cased")
        view = data["families"]["mlm"]["configs"]["pad"]
        assert view == {
            "pad_token_id": bert.pad_token_id,
            "eos_token_id": None,
            "mask_token_id": bert.mask_token_id,
            "special_ids": sorted(set(bert.all_special_ids)),
            "vocab_size": len(bert),
        }
        assert view["vocab_size"] == 28996
        configs = data["families"]["clm"]["configs"]
        assert configs["eos"]["pad_token_id"] == configs["eos"]["eos_token_id"] == 50256
        assert configs["eos"]["vocab_size"] == 50295 and configs["eos"]["mask_token_id"] is None
        distinct = configs["pad"]
        assert distinct["pad_token_id"] == 50295 and distinct["eos_token_id"] == 50256
        assert distinct["vocab_size"] == 50296
        assert set(distinct["special_ids"]) == {50256, 50295}

    def test_every_shown_id_has_its_token(self, data) -> None:
        """Every id of an example, and every special, pad, eos and mask id, has its token string."""
        for name, entry in data["families"].items():
            tokenizer = load_tokenizer(entry["name"])
            if name == "clm":
                tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
            needed = {i for e in entry["examples"] for i in e["ids"]}
            for view in entry["configs"].values():
                needed |= set(view["special_ids"])
            assert needed <= {int(k) for k in entry["tokens"]}
            for key, token in entry["tokens"].items():
                assert tokenizer.convert_ids_to_tokens(int(key)) == token

    def test_decoders_are_the_tokenizers(self, data) -> None:
        """Each family names how its tokenizer decodes: WordPiece for BERT, byte-level for
        CodeGen (read from the tokenizers' own decoders)."""
        for family, entry in data["families"].items():
            tokenizer = load_tokenizer(entry["name"])
            kind = type(tokenizer.backend_tokenizer.decoder).__name__
            assert {"WordPiece": "wordpiece", "ByteLevel": "byte-level"}[kind] == entry["decoder"]
            assert entry["decoder"] == ("wordpiece" if family == "mlm" else "byte-level")

    def test_is_json_and_small(self, data) -> None:
        """The data round-trips through JSON and stays small (the page must stay under 500 KB)."""
        assert json.loads(json.dumps(data)) == data
        assert len(json.dumps(data)) < 20_000

    def test_custom_examples(self) -> None:
        """Other texts can be given per family; they are tokenized the same way."""
        data = explorer_data({"mlm": ["Hello"], "clm": ["pass"]})
        assert data["families"]["mlm"]["examples"] == [{"text": "Hello", "ids": [101, 8667, 102]}]
        assert data["families"]["clm"]["examples"] == [{"text": "pass", "ids": [6603]}]

    @pytest.mark.parametrize(
        ("examples", "error", "match"),
        [
            ([], TypeError, "examples must be a mapping"),
            ({"mlm": ["a"]}, ValueError, "examples must have the key 'clm'"),
            ({"mlm": "a", "clm": ["b"]}, TypeError, r"examples\['mlm'\] must be a sequence of str"),
            ({"mlm": [], "clm": ["b"]}, ValueError, r"examples\['mlm'\] must not be empty"),
            ({"mlm": ["a"], "clm": [3]}, TypeError, r"examples\['clm'\] must hold str"),
        ],
    )
    def test_bad_examples_are_refused(self, examples, error, match) -> None:
        """A wrong type is a TypeError, a wrong value a ValueError, each naming the argument."""
        with pytest.raises(error, match=match):
            explorer_data(examples)


class TestExplorerHtml:
    def test_embeds_the_data_and_the_scripts(self, data) -> None:
        """The JSON in the page parses back to the data; the stylesheet and the two scripts
        follow it, the computation (explorer-compute.js) before the interface that reads it."""
        page = explorer_html(data)
        payload = re.search(
            r'<script type="application/json" class="lmnotes-explorer-data">(.*?)</script>',
            page,
            re.DOTALL,
        ).group(1)
        assert json.loads(payload) == data
        assert page.endswith(
            '<link rel="stylesheet" href="../_static/explorer.css">\n'
            '<script src="../_static/explorer-compute.js"></script>\n'
            '<script src="../_static/explorer.js"></script>'
        )
        assert re.findall(r'<script src="([^"]+)"', page) == [
            "../_static/explorer-compute.js",
            "../_static/explorer.js",
        ]

    def test_no_text_closes_the_script_early(self) -> None:
        """A string holding </script> or <!-- cannot end or break the JSON script element."""
        page = explorer_html({"a": "</script><!-- & -->"})
        payload = page.split('class="lmnotes-explorer-data">', 1)[1].split("</script>", 1)[0]
        assert "<" not in payload and ">" not in payload and "&" not in payload
        assert json.loads(payload) == {"a": "</script><!-- & -->"}

    def test_embeds_every_string_as_text(self) -> None:
        """Each string of the interface is one escaped text node of a <template>, keyed by name."""
        page = explorer_html({}, strings={"a": "x < y & z", "b": "Row {n}"})
        template = re.search(
            r'<template class="lmnotes-explorer-strings">(.*?)</template>', page
        ).group(1)
        spans = re.findall(r'<span data-key="(\w+)">([^<]*)</span>', template)
        assert [(key, html.unescape(text)) for key, text in spans] == [
            ("a", "x < y & z"),
            ("b", "Row {n}"),
        ]
        default = explorer_html({})
        # Every message, then the singular of each message that counts.
        assert default.count("<span data-key=") == len(EXPLORER_STRINGS) + len(EXPLORER_SINGULARS)
        singulars = re.findall(r'<span data-key="(\w+)" data-count="(\w+)">', default)
        assert singulars == [(key, count) for key, (count, _one) in EXPLORER_SINGULARS.items()]
        for key, (count, one) in EXPLORER_SINGULARS.items():
            assert "{" + count + "}" in one and "{" + count + "}" in EXPLORER_STRINGS[key]

    def test_script_uses_exactly_the_strings(self) -> None:
        """Every key explorer.js reads has its words in EXPLORER_STRINGS, and every string is
        used: no word of the interface lives in the script."""
        script = SCRIPT.read_text("utf-8")
        used = set(re.findall(r'(?:this|self)\.t\("(\w+)"', script))
        used |= set(re.findall(r"\b(?:w|this\.words|self\.words)\.(\w+)", script))
        used |= set(re.findall(r'notice\("(\w+)"', script))
        used |= set(re.findall(r"^    (\w+Notice\w*|mlmNone): ", script, re.MULTILINE))
        assert used - set(EXPLORER_STRINGS) == set()
        assert set(EXPLORER_STRINGS) - used == set()

    @pytest.mark.parametrize("path", [SCRIPT, COMPUTE], ids=lambda path: path.name)
    def test_script_holds_no_french(self, path) -> None:
        """The French words come from the catalog, not from the scripts: no accented letter, no
        French table in explorer.js or explorer-compute.js."""
        script = path.read_text("utf-8")
        assert re.findall(r"[àâçéèêëîïôûùüÿœÀÉ]", script) == []
        assert "fr: {" not in script

    def test_the_computation_holds_no_interface(self) -> None:
        """explorer-compute.js touches no page (it loads in Node too) and reads no words of
        the interface; explorer.js reads the computation from window.lmnotesExplorer and
        defines none of it."""
        compute = COMPUTE.read_text("utf-8")
        code = re.sub(r"^\s*//.*$", "", re.sub(r"/\*.*?\*/", "", compute, flags=re.S), flags=re.M)
        assert re.findall(r"\b(?:document|window|localStorage)\b", code) == []
        assert "module.exports" in compute and "root.lmnotesExplorer" in compute
        assert "lmnotesWords" not in code and ".t(" not in code
        script = SCRIPT.read_text("utf-8")
        assert "window.lmnotesExplorer;" in script
        for name in ("compute", "decode", "seedValue", "generator", "maskTokens"):
            assert f"function {name}(" in compute and f"function {name}(" not in script

    @pytest.mark.parametrize(
        ("script", "compute", "style"),
        [
            ("static/x.js", "static/explorer-compute.js", "static/x.css"),
            ("x.js", "explorer-compute.js", "x.css"),
            ("/a/b/explorer.js", "/a/b/explorer-compute.js", "/a/b/explorer.css"),
        ],
    )
    def test_script_url(self, script, compute, style) -> None:
        """Another script URL is used as given, its .css sibling is linked, and the
        computation is explorer-compute.js in its folder, loaded before it."""
        page = explorer_html({}, script=script)
        assert re.findall(r'<script src="([^"]+)"', page) == [compute, script]
        assert f'href="{style}"' in page

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"data": []}, TypeError, "data must be a mapping"),
            ({"data": {}, "script": 3}, TypeError, "script must be a str"),
            ({"data": {}, "script": "x.css"}, ValueError, "script must be the URL of a .js file"),
            ({"data": {}, "strings": []}, TypeError, "strings must be a mapping"),
            ({"data": {}, "strings": {"a": 3}}, TypeError, "strings must map str to str"),
            ({"data": {}, "strings": {"a b": "x"}}, ValueError, "strings keys must be identifiers"),
        ],
    )
    def test_bad_arguments_are_refused(self, kwargs, error, match) -> None:
        """A wrong type is a TypeError, a wrong value a ValueError, each naming the argument."""
        with pytest.raises(error, match=match):
            explorer_html(**kwargs)
