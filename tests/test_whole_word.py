"""Tests for lmnotes.whole_word: words from offsets, token-level against whole-word masking."""

from __future__ import annotations

import pytest
import torch
from transformers import DataCollatorForLanguageModeling

from lmnotes.tiny import bert_tokenizer
from lmnotes.whole_word import (
    compare_whole_word_masking,
    legacy_whole_word_mask,
    word_ids_from_offsets,
)

VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "cat",
    "un",
    "##believ",
    "##ably",
    "fast",
    "##er",
    ",",
]
TEXT = "the unbelievably faster, cat"


@pytest.fixture(scope="module")
def tokenizer():
    """A WordPiece tokenizer with ## pieces and a comma."""
    return bert_tokenizer(VOCAB)


class TestWordIdsFromOffsets:
    def test_pieces_and_glued_punctuation(self, tokenizer):
        """## pieces share a word, and so does a comma glued to the word before it."""
        e = tokenizer(TEXT, return_offsets_mapping=True, return_special_tokens_mask=True)
        ids = word_ids_from_offsets(
            torch.tensor([e["offset_mapping"]]), torch.tensor([e["special_tokens_mask"]])
        )
        assert tokenizer.convert_ids_to_tokens(e["input_ids"]) == [
            "[CLS]",
            "the",
            "un",
            "##believ",
            "##ably",
            "fast",
            "##er",
            ",",
            "cat",
            "[SEP]",
        ]
        assert ids.tolist() == [[-1, 0, 1, 1, 1, 2, 2, 2, 3, -1]]

    def test_same_groups_as_the_collator(self, tokenizer):
        """With probability 1 on a word's first token, the collator chooses exactly its words."""
        e = tokenizer(TEXT, return_offsets_mapping=True, return_special_tokens_mask=True)
        ids = word_ids_from_offsets(
            torch.tensor([e["offset_mapping"]]), torch.tensor([e["special_tokens_mask"]])
        )
        collator = DataCollatorForLanguageModeling(
            tokenizer,
            whole_word_mask=True,
            mlm_probability=0.5,
            mask_replace_prob=1.0,
            random_replace_prob=0.0,
            seed=3,
        )
        batch = collator(
            [{"input_ids": e["input_ids"], "offset_mapping": e["offset_mapping"]}] * 50
        )
        chosen = batch["labels"] != -100
        for word in range(int(ids.max()) + 1):
            states = chosen[:, ids[0] == word]
            assert bool((states.all(dim=1) | ~states.any(dim=1)).all())

    def test_errors(self):
        """Offsets of the wrong shape are a ValueError, a list a TypeError."""
        with pytest.raises(ValueError, match="offsets"):
            word_ids_from_offsets(
                torch.zeros(1, 3, 3, dtype=torch.long), torch.zeros(1, 3, dtype=torch.long)
            )
        with pytest.raises(TypeError, match="offsets"):
            word_ids_from_offsets([[0, 1]], torch.zeros(1, 1, dtype=torch.long))


class TestCompareWholeWordMasking:
    def test_rates(self, tokenizer):
        """Both choose about 15 % of tokens; only token-level splits words and uses 80/10/10."""
        result = compare_whole_word_masking(tokenizer, TEXT, draws=3000)
        token, whole = result.row("token-level"), result.row("whole-word")
        assert (result.tokens, result.words) == (8, 4)
        assert token["chosen tokens"] == pytest.approx(0.15, abs=0.02)
        assert whole["chosen tokens"] == pytest.approx(0.15, abs=0.02)
        assert whole["words touched"] == pytest.approx(0.15, abs=0.02)
        assert token["words touched"] > 0.25
        assert whole["words split"] == 0.0 and token["words split"] > 0.1
        assert whole["[MASK]"] == 1.0 and token["[MASK]"] == pytest.approx(0.8, abs=0.04)

    def test_table(self, tokenizer):
        """Two rows, token-level first, each fraction shown ± its standard error."""
        lines = str(compare_whole_word_masking(tokenizer, TEXT, draws=10)).splitlines()
        assert lines[2].startswith("token-level") and lines[3].startswith("whole-word")
        assert lines[2].count("\u00b1") == 6

    def test_standard_errors(self, tokenizer):
        """Errors shrink as 1/sqrt(draws); whole-word tokens vary more than token-level ones."""
        small = compare_whole_word_masking(tokenizer, TEXT, draws=400)
        large = compare_whole_word_masking(tokenizer, TEXT, draws=3600)
        for masking in ("token-level", "whole-word"):
            ratio = small.error(masking)["chosen tokens"] / large.error(masking)["chosen tokens"]
            assert ratio == pytest.approx(3.0, rel=0.25)
        token, whole = large.error("token-level"), large.error("whole-word")
        # 8 tokens in 4 words: choosing words moves 2 tokens at a time on average.
        assert whole["chosen tokens"] > 1.2 * token["chosen tokens"]
        assert whole["words split"] == 0.0 and whole["[MASK]"] == 0.0
        assert token["[MASK]"] == pytest.approx((0.8 * 0.2 / (0.15 * 8 * 3600)) ** 0.5, rel=0.2)

    def test_errors(self, tokenizer):
        """A non-str text is a TypeError; no ordinary token or zero draws a ValueError."""
        with pytest.raises(TypeError, match="text"):
            compare_whole_word_masking(tokenizer, 3)
        with pytest.raises(ValueError, match="text"):
            compare_whole_word_masking(tokenizer, "")
        with pytest.raises(ValueError, match="draws"):
            compare_whole_word_masking(tokenizer, TEXT, draws=0)


class TestLegacyWholeWordMask:
    TOKENS = ["[CLS]", "the", "un", "##believ", "##ably", "fast", "##er", "cat", "[SEP]"]

    def test_budget_counts_special_tokens(self):
        """The budget is round(len(tokens) * p), [CLS] and [SEP] counted, at least 1."""
        for p, budget in ((0.15, 1), (0.3, 3), (0.5, 4), (1.0, 9), (0.0, 1)):
            assert legacy_whole_word_mask(self.TOKENS, p).budget == budget
        assert legacy_whole_word_mask(self.TOKENS, 1.0, max_predictions=2).budget == 2

    def test_words_and_never_more_than_the_budget(self):
        """Words are a token and its ## pieces; a word is whole or absent; count <= budget."""
        generator = torch.Generator().manual_seed(0)
        for _ in range(200):
            choice = legacy_whole_word_mask(self.TOKENS, 0.5, generator=generator)
            assert sorted(choice.words) == [(1,), (2, 3, 4), (5, 6), (7,)]
            assert choice.count <= choice.budget
            for word in choice.words:
                assert len({choice.chosen[i] for i in word}) == 1
            assert choice.chosen[0] == choice.chosen[-1] == 0

    def test_skips_a_word_that_would_overflow(self):
        """A 3-piece word never fits a budget of 2; after "the", "fast ##er" is skipped too."""
        generator = torch.Generator().manual_seed(1)
        tokens = self.TOKENS[:-2] + ["[SEP]"]  # 8 tokens, budget round(8 * 0.25) = 2
        counts = set()
        for _ in range(100):
            choice = legacy_whole_word_mask(tokens, 0.25, generator=generator)
            assert choice.budget == 2 and choice.chosen[2] == 0
            counts.add(choice.count)
            if choice.count == 1:  # "the" came first: both longer words overflow
                assert choice.chosen[1] == 1 and len(choice.skipped) == 2
        assert counts == {1, 2}

    def test_validation(self):
        """A str is not a token list; probabilities and max_predictions are checked."""
        with pytest.raises(TypeError, match="tokens"):
            legacy_whole_word_mask("the cat")
        with pytest.raises(TypeError, match="tokens"):
            legacy_whole_word_mask([1, 2])
        with pytest.raises(ValueError, match="mlm_probability"):
            legacy_whole_word_mask(self.TOKENS, 1.5)
        with pytest.raises(ValueError, match="max_predictions"):
            legacy_whole_word_mask(self.TOKENS, max_predictions=0)
