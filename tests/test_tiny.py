"""Tests for lmnotes.tiny: the tiny random models and the toy WordPiece tokenizer."""

from __future__ import annotations

import pytest
import torch
from transformers import BertTokenizerFast

from lmnotes.tiny import (
    TINY_FIRST_WORD_ID,
    bert_tokenizer,
    random_word_ids,
    tiny_bart,
    tiny_bart_lm,
    tiny_bert,
    tiny_gpt2,
    tiny_llama,
    tiny_llama_config,
    word_tokenizer,
)

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "##s"]


class TestTinyModels:
    @pytest.mark.parametrize("build", [tiny_gpt2, tiny_bert, tiny_bart, tiny_bart_lm, tiny_llama])
    def test_same_seed_same_weights(self, build):
        """Two builds with one seed have equal weights; another seed gives other weights."""
        a, b, c = build(seed=3), build(seed=3), build(seed=4)
        pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)

    @pytest.mark.parametrize("build", [tiny_gpt2, tiny_bert, tiny_bart, tiny_bart_lm, tiny_llama])
    def test_tiny_and_in_eval_mode(self, build):
        """Models are in eval mode (no dropout) and have fewer than 100k parameters."""
        model = build()
        assert not model.training
        assert sum(p.numel() for p in model.parameters()) < 100_000

    def test_caller_rng_untouched(self):
        """Building a tiny model does not change the caller's global torch RNG stream."""
        torch.manual_seed(123)
        expected = torch.rand(3)
        torch.manual_seed(123)
        tiny_gpt2(seed=0)
        assert torch.equal(torch.rand(3), expected)

    def test_bad_seed_raises(self):
        """A non-int seed raises TypeError naming seed."""
        with pytest.raises(TypeError, match="seed"):
            tiny_gpt2(seed=0.5)


class TestBertTokenizer:
    def test_wordpiece_with_special_tokens(self):
        """Lowercases, splits into WordPiece pieces and frames the text with [CLS] ... [SEP]."""
        tokenizer = bert_tokenizer(VOCAB)
        assert isinstance(tokenizer, BertTokenizerFast)
        assert tokenizer("The cats sat")["input_ids"] == [2, 5, 6, 8, 7, 3]
        assert tokenizer.convert_ids_to_tokens([1, 4]) == ["[UNK]", "[MASK]"]

    def test_special_ids_and_mask(self):
        """Special ids come from the vocabulary; get_special_tokens_mask marks them."""
        tokenizer = bert_tokenizer(VOCAB)
        assert (
            tokenizer.pad_token_id,
            tokenizer.unk_token_id,
            tokenizer.cls_token_id,
            tokenizer.sep_token_id,
            tokenizer.mask_token_id,
        ) == (0, 1, 2, 3, 4)
        mask = tokenizer.get_special_tokens_mask([2, 5, 6, 3, 0], already_has_special_tokens=True)
        assert mask == [1, 0, 0, 1, 1]

    def test_mapping_and_case(self):
        """A token -> id mapping gives the same ids; lowercase=False keeps the case."""
        mapping = {token: i for i, token in enumerate(VOCAB)}
        assert bert_tokenizer(mapping)("the cat")["input_ids"] == [2, 5, 6, 3]
        assert bert_tokenizer(VOCAB, lowercase=False)("The cat")["input_ids"] == [2, 1, 6, 3]

    def test_offsets_for_whole_word_masking(self):
        """A fast tokenizer: offset mappings are available."""
        encoding = bert_tokenizer(VOCAB)("cats", return_offsets_mapping=True)
        assert encoding["offset_mapping"] == [(0, 0), (0, 3), (3, 4), (0, 0)]

    @pytest.mark.parametrize(
        ("vocab", "error", "match"),
        [
            ([], ValueError, "empty"),
            (["[PAD]", "[PAD]"], ValueError, "repeat"),
            (["[PAD]", "the"], ValueError, "special"),
            ({"[PAD]": 0, "[UNK]": 2}, ValueError, "ids"),
            ("[PAD] [UNK]", TypeError, "vocab"),
            ([1, 2], TypeError, "str"),
        ],
    )
    def test_bad_vocab_raises(self, vocab, error, match):
        """Bad vocabularies raise, naming what is wrong."""
        with pytest.raises(error, match=match):
            bert_tokenizer(vocab)


class TestRandomWordIds:
    def test_shape_range_and_determinism(self):
        """Ids have the asked shape, are never special, and the same seed gives the same ids."""
        ids = random_word_ids(7, seed=3, batch=2)
        assert ids.shape == (2, 7) and ids.dtype == torch.int64
        assert bool((ids >= TINY_FIRST_WORD_ID).all())
        assert torch.equal(ids, random_word_ids(7, seed=3, batch=2))
        assert not torch.equal(ids, random_word_ids(7, seed=4, batch=2))

    def test_bad_arguments_name_themselves(self):
        """A non-int length is a TypeError, a length < 1 a ValueError, each naming the argument."""
        with pytest.raises(TypeError, match="length"):
            random_word_ids(2.0, seed=0)
        with pytest.raises(ValueError, match="length"):
            random_word_ids(0, seed=0)


class TestTinyLlamaConfig:
    def test_config_is_the_models(self):
        """tiny_llama builds its model from exactly this configuration."""
        assert tiny_llama().config.to_dict()["hidden_size"] == tiny_llama_config().hidden_size
        assert tiny_llama_config("sdpa")._attn_implementation == "sdpa"


class TestTinyBartLm:
    def test_same_weights_as_tiny_bart(self):
        """The encoder-decoder under the LM head is tiny_bart's, weight for weight."""
        base, lm = tiny_bart(seed=2), tiny_bart_lm(seed=2)
        assert torch.equal(base.encoder.layers[0].fc1.weight, lm.model.encoder.layers[0].fc1.weight)

    def test_returns_a_loss(self):
        """Given labels, the model returns a finite loss."""
        ids = torch.tensor([[0, 5, 6, 2]])
        assert torch.isfinite(tiny_bart_lm()(input_ids=ids, labels=ids).loss)


class TestWordTokenizer:
    def test_ids_are_the_words(self):
        """Word wN gets id N, framed by <s> (0) and </s> (2)."""
        assert word_tokenizer()("w3 w99 w50")["input_ids"] == [0, 3, 99, 50, 2]

    def test_special_ids_match_the_tiny_models(self):
        """bos, pad and eos ids are those of tiny_bart and tiny_llama."""
        tokenizer, config = word_tokenizer(), tiny_bart().config
        assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id) == (
            config.bos_token_id,
            config.pad_token_id,
            config.eos_token_id,
        )

    def test_pads_on_the_right(self):
        """A batch of two lengths is padded with id 1 after the shorter text."""
        batch = word_tokenizer()(["w5 w6 w7", "w8"], padding=True)
        assert batch["input_ids"][1] == [0, 8, 2, 1, 1]
