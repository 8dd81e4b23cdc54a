"""Tests for lmnotes.instruct: completion-only labels from a chat template, and the loss split."""

from __future__ import annotations

import pytest
import torch
from transformers import DataCollatorForSeq2Seq

from lmnotes.instruct import LossSplit, completion_only_example, loss_split
from lmnotes.tiny import tiny_llama, word_tokenizer

TEMPLATE = (
    "{% for m in messages %}{{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}w3 {% endif %}"
)
CHAT = [{"role": "user", "content": "w10 w11"}, {"role": "assistant", "content": "w3 w20 w21"}]


@pytest.fixture
def tokenizer():
    """The tiny word tokenizer with a template whose generation prompt is the word w3."""
    tokenizer = word_tokenizer()
    tokenizer.chat_template = TEMPLATE
    return tokenizer


class TestCompletionOnlyExample:
    def test_prompt_is_minus_100(self, tokenizer):
        """Labels are -100 up to the generation prompt, the ids after it."""
        example = completion_only_example(tokenizer, CHAT)
        assert example["input_ids"] == [10, 11, 3, 20, 21]
        assert example["labels"] == [-100, -100, -100, 20, 21]
        assert example["attention_mask"] == [1] * 5

    def test_several_turns(self, tokenizer):
        """Only the last turn is scored; earlier assistant turns are prompt."""
        chat = [
            *CHAT,
            {"role": "user", "content": "w12"},
            {"role": "assistant", "content": "w3 w30"},
        ]
        example = completion_only_example(tokenizer, chat)
        scored = [
            i
            for i, label in zip(example["input_ids"], example["labels"], strict=True)
            if label != -100
        ]
        assert scored == [30]

    def test_template_not_a_prefix(self, tokenizer):
        """A template that renders the prompt differently from the conversation is a ValueError."""
        tokenizer.chat_template = (
            "{% for m in messages %}{{ m['content'] }} {% endfor %}"
            "{% if add_generation_prompt %}w4 {% endif %}"
        )
        with pytest.raises(ValueError, match="prefix"):
            completion_only_example(tokenizer, [CHAT[0], {"role": "assistant", "content": "w5"}])

    def test_argument_errors(self, tokenizer):
        """Wrong types are TypeErrors, a missing answer a ValueError, each naming messages."""
        with pytest.raises(TypeError, match="messages"):
            completion_only_example(tokenizer, "w10")
        with pytest.raises(TypeError, match="messages"):
            completion_only_example(tokenizer, [("user", "w10")])
        with pytest.raises(ValueError, match="messages"):
            completion_only_example(tokenizer, CHAT[:1])
        with pytest.raises(ValueError, match="assistant"):
            completion_only_example(tokenizer, [CHAT[0], {"role": "user", "content": "w5"}])


class TestLossSplit:
    @pytest.fixture
    def batch(self, tokenizer):
        """Two chats of different lengths, padded by DataCollatorForSeq2Seq."""
        chats = [
            CHAT,
            [
                {"role": "user", "content": "w40 w41 w42 w43"},
                {"role": "assistant", "content": "w3 w50"},
            ],
        ]
        return DataCollatorForSeq2Seq(tokenizer)(
            [completion_only_example(tokenizer, c) for c in chats]
        )

    def test_answer_only_is_the_model_loss(self, batch):
        """answer_only equals the model's loss on the completion-only labels."""
        model = tiny_llama()
        with torch.no_grad():
            expected = model(**batch).loss.item()
        assert loss_split(model, batch).answer_only == pytest.approx(expected, abs=1e-5)

    def test_everything_is_the_loss_on_all_tokens(self, batch):
        """everything equals the model's loss with every real token labelled; counts add up."""
        from lmnotes.clm import causal_lm_labels

        model = tiny_llama()
        labels = causal_lm_labels(batch["input_ids"], batch["attention_mask"])
        with torch.no_grad():
            expected = model(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels
            ).loss.item()
        split = loss_split(model, batch)
        assert split.everything == pytest.approx(expected, abs=1e-5)
        real = int(batch["attention_mask"].sum()) - batch["input_ids"].shape[0]
        assert split.answer_targets + split.prompt_targets == real
        assert split.answer_targets == int((batch["labels"] != -100).sum())

    def test_table(self, batch):
        """The table has three rows, the answer row first."""
        text = str(loss_split(tiny_llama(), batch))
        assert text.splitlines()[2].startswith("answer only")
        assert isinstance(loss_split(tiny_llama(), batch), LossSplit)

    def test_argument_errors(self, batch):
        """A missing key is a ValueError, a non-mapping a TypeError."""
        with pytest.raises(ValueError, match="labels"):
            loss_split(tiny_llama(), {k: v for k, v in batch.items() if k != "labels"})
        with pytest.raises(TypeError, match="batch"):
            loss_split(tiny_llama(), [batch["input_ids"]])
