"""Tests for lmnotes.compat: the shims behave alike on every supported transformers release."""

from __future__ import annotations

import pytest
import torch
from transformers import DataCollatorForLanguageModeling, LlamaConfig

from lmnotes.compat import (
    SEED_ZERO_HONOURED,
    TRANSFORMERS_VERSION,
    as_boolean_mask,
    cache_argument,
    create_causal_mask,
    versions,
)
from lmnotes.masks import causal_padding_mask, to_additive
from lmnotes.tiny import bert_tokenizer, tiny_bert, tiny_gpt2, tiny_llama

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "##s"]


class TestVersion:
    def test_supported_range(self):
        """The installed release is inside the range pyproject.toml declares (>=4.57,<6)."""
        assert (4, 57) <= TRANSFORMERS_VERSION.release[:2] and TRANSFORMERS_VERSION.major < 6

    def test_seed_zero_flag_is_what_the_collator_does(self):
        """SEED_ZERO_HONOURED is True exactly where a collator built with seed=0 gives the
        same batch whatever the global random state (measured on each release by nox -s
        compat, like the claim mlm-seed-zero)."""
        tokenizer = bert_tokenizer(VOCAB)
        rows = [[2, 5, 6, 7, 8, 3]] * 64
        labels = []
        for global_seed in (1, 2):
            torch.manual_seed(global_seed)
            collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.5, seed=0)
            labels.append(collator(rows)["labels"])
        assert SEED_ZERO_HONOURED == torch.equal(*labels)


class TestVersions:
    def test_names_the_running_releases(self):
        """versions() gives the running transformers then torch release, as installed."""
        import transformers

        expected = {"transformers": transformers.__version__, "torch": torch.__version__}
        assert versions() == expected
        assert list(versions()) == ["transformers", "torch"]
        assert str(TRANSFORMERS_VERSION) in versions()["transformers"]


class TestCreateCausalMask:
    @pytest.mark.parametrize("impl", ["eager", "sdpa"])
    def test_causal_and_padding(self, impl):
        """The library's mask equals causal_padding_mask (additive under eager)."""
        config = LlamaConfig(
            hidden_size=8,
            num_attention_heads=2,
            num_hidden_layers=1,
            intermediate_size=16,
            attn_implementation=impl,
        )
        attention_mask = torch.tensor([[1, 1, 1, 0], [0, 1, 1, 1]])
        mask = create_causal_mask(config, torch.zeros(2, 4, 8), attention_mask)
        expected = causal_padding_mask(attention_mask)
        if impl == "eager":
            expected = to_additive(expected)
        assert torch.equal(mask, expected)

    def test_packed_position_ids(self):
        """Without attention_mask, restarting position ids give a block-diagonal mask."""
        config = LlamaConfig(
            hidden_size=8,
            num_attention_heads=2,
            num_hidden_layers=1,
            intermediate_size=16,
            attn_implementation="sdpa",
        )
        mask = create_causal_mask(
            config, torch.zeros(1, 4, 8), None, position_ids=torch.tensor([[0, 1, 0, 1]])
        )
        assert mask[0, 0].int().tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]]

    def test_bad_embeds_raise(self):
        """inputs_embeds must be a 3-D tensor."""
        with pytest.raises(TypeError, match="inputs_embeds"):
            create_causal_mask(LlamaConfig(), torch.zeros(2, 4), None)


class TestCacheArgument:
    @pytest.mark.parametrize("build", [tiny_gpt2, tiny_llama])
    def test_cache_is_used(self, build):
        """Passing the cache under the returned name continues the sequence: logits equal a full
        pass."""
        model = build()
        ids = torch.tensor([[5, 17, 42, 8]])
        name = cache_argument(model)
        with torch.no_grad():
            first = model(input_ids=ids[:, :3], use_cache=True)
            step = model(input_ids=ids[:, 3:], use_cache=True, **{name: getattr(first, name)})
            full = model(input_ids=ids)
        torch.testing.assert_close(step.logits[0, -1], full.logits[0, -1], atol=1e-5, rtol=1e-5)

    def test_model_without_cache_raises(self):
        """BERT's masked LM takes no cache: ValueError naming the model."""
        with pytest.raises(ValueError, match="BertForMaskedLM"):
            cache_argument(tiny_bert())

    def test_not_a_module_raises(self):
        """A non-module raises TypeError naming model."""
        with pytest.raises(TypeError, match="model"):
            cache_argument("gpt2")


class TestAsBooleanMask:
    @pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
    def test_inverse_of_to_additive(self, dtype):
        """as_boolean_mask(to_additive(m)) == m for every float dtype; -0.0 counts as allowed."""
        mask = torch.tensor([[True, False, True], [False, False, True]])
        assert torch.equal(as_boolean_mask(to_additive(mask, dtype)), mask)
        assert as_boolean_mask(torch.tensor([-0.0, 0.0], dtype=dtype)).tolist() == [True, True]

    def test_bool_and_none_pass_through(self):
        """A boolean mask is returned as is; None stays None."""
        mask = torch.tensor([True, False])
        assert as_boolean_mask(mask) is mask and as_boolean_mask(None) is None

    def test_bias_is_not_a_mask(self):
        """A float tensor with other values (a bias) raises ValueError."""
        with pytest.raises(ValueError, match="additive"):
            as_boolean_mask(torch.tensor([0.0, -1.0]))

    def test_bad_types_raise(self):
        """Integer masks raise ValueError, non-tensors TypeError."""
        with pytest.raises(ValueError, match="dtype"):
            as_boolean_mask(torch.tensor([0, 1]))
        with pytest.raises(TypeError, match="mask"):
            as_boolean_mask([0.0])


@pytest.mark.site
class TestVersionsOnPages:
    @pytest.mark.parametrize("language", ["en", "fr"])
    @pytest.mark.parametrize(
        "page", ["causal-mask", "clm", "cross-attention", "mlm", "packing", "padding-mask"]
    )
    def test_note_page_names_its_releases(self, site, language, page):
        """Each note page prints the transformers and torch releases that ran it, after a
        paragraph linking to the compatibility page."""
        from bs4 import BeautifulSoup

        html = (site / language / "notes" / f"{page}.html").read_text("utf-8")
        soup = BeautifulSoup(html, "lxml")
        cell = next(
            div
            for div in soup.select("div.cell")
            if "from lmnotes.compat import versions" in div.select_one("div.cell_input").get_text()
        )
        assert cell.select_one("div.cell_output").get_text().strip() == repr(versions())
        paragraph = cell.find_previous_sibling("p")
        links = [a["href"] for a in paragraph.select("a[href]")]
        assert any(href.endswith("reference/compatibility.html") for href in links)
