"""Tests for lmnotes.clm: the shifted loss, labels from the attention mask, the pad = eos
pitfall."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import (
    DataCollatorForLanguageModeling,
    GPT2Config,
    GPT2LMHeadModel,
    GPT2TokenizerFast,
    LlamaConfig,
    LlamaForCausalLM,
)
from transformers.loss.loss_utils import ForCausalLMLoss

from lmnotes.clm import (
    EosLabelCount,
    causal_lm_labels,
    hidden_eos_labels,
    next_token_losses,
    shifted_loss,
)

VOCAB = 101


@pytest.fixture(scope="module")
def tiny_gpt2():
    """A randomly initialised 2-layer GPT-2 with a vocabulary of 101 tokens."""
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=VOCAB,
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
    )
    return GPT2LMHeadModel(config).eval()


def _random_labels(generator, batch, length, ignored=0.3):
    ids = torch.randint(0, VOCAB, (batch, length), generator=generator)
    labels = ids.clone()
    labels[torch.rand(batch, length, generator=generator) < ignored] = -100
    return ids, labels


class TestShiftedLoss:
    """shifted_loss equals the loss a transformers causal LM computes itself."""

    @pytest.mark.parametrize("seed", range(8))
    def test_equals_tiny_gpt2_loss(self, tiny_gpt2, seed):
        """Bit-identical to GPT2LMHeadModel(..., labels=labels).loss, padding labels included."""
        generator = torch.Generator().manual_seed(seed)
        ids, labels = _random_labels(generator, batch=1 + seed % 4, length=3 + 2 * seed)
        with torch.no_grad():
            outputs = tiny_gpt2(input_ids=ids, labels=labels)
        assert torch.equal(shifted_loss(outputs.logits, labels), outputs.loss)

    def test_equals_bfloat16_model_loss(self, tiny_gpt2):
        """With bfloat16 logits the loss is computed in float32, like the model's."""
        model = GPT2LMHeadModel(tiny_gpt2.config).eval().to(torch.bfloat16)
        ids, labels = _random_labels(torch.Generator().manual_seed(1), batch=3, length=10)
        with torch.no_grad():
            outputs = model(input_ids=ids, labels=labels)
        assert outputs.logits.dtype == torch.bfloat16
        loss = shifted_loss(outputs.logits, labels)
        assert loss.dtype == torch.float32
        assert torch.equal(loss, outputs.loss)

    def test_equals_tiny_llama_loss(self):
        """Another architecture (Llama) uses the same shifted loss."""
        torch.manual_seed(0)
        config = LlamaConfig(
            vocab_size=VOCAB,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=64,
            bos_token_id=0,
            eos_token_id=0,
            pad_token_id=0,
        )
        model = LlamaForCausalLM(config).eval()
        ids, labels = _random_labels(torch.Generator().manual_seed(2), batch=2, length=9)
        with torch.no_grad():
            outputs = model(input_ids=ids, labels=labels)
        assert torch.equal(shifted_loss(outputs.logits, labels), outputs.loss)

    @settings(max_examples=60, deadline=None)
    @given(
        batch=st.integers(1, 4),
        length=st.integers(2, 12),
        vocab=st.integers(2, 50),
        ignored=st.floats(0.0, 0.9),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_equals_library_loss_and_sliced_formula(self, batch, length, vocab, ignored, seed):
        """Equal to ForCausalLMLoss bit for bit, and to CE(logits[:, :-1], labels[:, 1:])
        numerically."""
        generator = torch.Generator().manual_seed(seed)
        logits = torch.randn(batch, length, vocab, generator=generator)
        labels = torch.randint(0, vocab, (batch, length), generator=generator)
        labels[torch.rand(batch, length, generator=generator) < ignored] = -100
        labels[0, 1] = 1  # at least one target counts
        loss = shifted_loss(logits, labels)
        assert torch.equal(loss, ForCausalLMLoss(logits, labels, vocab_size=vocab))
        sliced = F.cross_entropy(logits[:, :-1].reshape(-1, vocab), labels[:, 1:].reshape(-1))
        torch.testing.assert_close(loss, sliced)

    def test_first_label_never_a_target_last_logit_never_scored(self):
        """Changing labels[:, 0] or logits[:, -1] does not change the loss; changing labels[:, 1]
        does."""
        generator = torch.Generator().manual_seed(0)
        logits = torch.randn(2, 5, 7, generator=generator)
        labels = torch.randint(0, 7, (2, 5), generator=generator)
        loss = shifted_loss(logits, labels)
        other_first = labels.clone()
        other_first[:, 0] = (labels[:, 0] + 1) % 7
        other_last = logits.clone()
        other_last[:, -1] = torch.randn(2, 7, generator=generator)
        other_second = labels.clone()
        other_second[:, 1] = (labels[:, 1] + 1) % 7
        assert torch.equal(shifted_loss(logits, other_first), loss)
        assert torch.equal(shifted_loss(other_last, labels), loss)
        assert not torch.equal(shifted_loss(logits, other_second), loss)

    def test_custom_ignore_index(self):
        """Targets equal to ignore_index do not count."""
        logits = torch.randn(1, 4, 5, generator=torch.Generator().manual_seed(0))
        labels = torch.tensor([[1, 2, 3, 4]])
        with_minus_one = torch.tensor([[1, 2, -1, 4]])
        expected = F.cross_entropy(logits[0, [0, 2]], torch.tensor([2, 4]))
        torch.testing.assert_close(shifted_loss(logits, with_minus_one, ignore_index=-1), expected)
        assert not torch.equal(shifted_loss(logits, labels), expected)

    @pytest.mark.parametrize(
        ("logits", "labels", "name"),
        [
            (torch.zeros(2, 3, 5, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long), "logits"),
            (torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long), "logits"),
            (torch.zeros(2, 3, 5), torch.zeros(2, 3), "labels"),
            (torch.zeros(2, 3, 5), torch.zeros(6, dtype=torch.long), "labels"),
            (torch.zeros(2, 3, 5), torch.zeros(2, 4, dtype=torch.long), "labels"),
        ],
        ids=["int-logits", "2-D-logits", "float-labels", "1-D-labels", "shape-mismatch"],
    )
    def test_validation(self, logits, labels, name):
        """Bad shapes or dtypes raise ValueError naming the argument."""
        with pytest.raises(ValueError, match=name):
            shifted_loss(logits, labels)

    def test_type_errors(self):
        """Non-tensor logits or labels, or a non-int ignore_index, raise TypeError naming them."""
        with pytest.raises(TypeError, match="logits"):
            shifted_loss([[[0.0, 1.0]]], torch.zeros(1, 1, dtype=torch.long))
        with pytest.raises(TypeError, match="labels"):
            shifted_loss(torch.zeros(1, 1, 2), [[0]])
        with pytest.raises(TypeError, match="ignore_index"):
            shifted_loss(torch.zeros(1, 1, 2), torch.zeros(1, 1, dtype=torch.long), -100.0)

    @pytest.mark.slow
    def test_equals_smollm2_loss(self):
        """On the real SmolLM2-135M (lmnotes.assets), shifted_loss equals outputs.loss."""
        assets = pytest.importorskip("lmnotes.assets")
        if not hasattr(assets, "load_causal_lm"):
            pytest.skip("lmnotes.assets.load_causal_lm is not written yet")
        loaded = assets.load_causal_lm()
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        ids = torch.randint(
            0, model.config.vocab_size, (2, 12), generator=torch.Generator().manual_seed(0)
        )
        labels = ids.clone()
        labels[1, 8:] = -100
        with torch.no_grad():
            outputs = model(input_ids=ids, labels=labels)
        assert torch.equal(shifted_loss(outputs.logits, labels), outputs.loss)


class TestCausalLmLabels:
    """causal_lm_labels hides padding by the attention mask."""

    @settings(max_examples=40, deadline=None)
    @given(lengths=st.lists(st.integers(1, 10), min_size=1, max_size=5), left=st.booleans())
    def test_minus_100_exactly_where_mask_is_zero(self, lengths, left):
        """labels == input_ids where attention is 1 and -100 where it is 0, for either padding
        side."""
        width = max(lengths)
        generator = torch.Generator().manual_seed(sum(lengths))
        input_ids = torch.randint(0, 50, (len(lengths), width), generator=generator)
        positions = torch.arange(width)
        lengths_t = torch.tensor(lengths)[:, None]
        mask = positions >= width - lengths_t if left else positions < lengths_t
        before = input_ids.clone()
        labels = causal_lm_labels(input_ids, mask.long())
        assert torch.equal(labels[mask], input_ids[mask])
        assert (labels[~mask] == -100).all()
        assert torch.equal(input_ids, before)  # not modified

    def test_matches_collator_when_pad_differs_from_eos(self, gpt2_tokenizer):
        """With a distinct pad token, labels equal the library's (pad id -> -100)."""
        tokenizer = GPT2TokenizerFast.from_pretrained(gpt2_tokenizer.name_or_path)
        tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
        assert tokenizer.pad_token_id == 50257
        eos = tokenizer.eos_token_id
        examples = [
            {"input_ids": tokenizer(t)["input_ids"] + [eos]}
            for t in ["def hello_world():", "import numpy as np\nx = 1", "pass"]
        ]
        batch = DataCollatorForLanguageModeling(tokenizer, mlm=False)(examples)
        assert torch.equal(
            causal_lm_labels(batch["input_ids"], batch["attention_mask"]), batch["labels"]
        )

    def test_keeps_real_eos_when_pad_is_eos(self, gpt2_tokenizer):
        """With pad = eos, real EOS tokens keep their label; the collator's labels lose them."""
        tokenizer = GPT2TokenizerFast.from_pretrained(gpt2_tokenizer.name_or_path)
        tokenizer.pad_token = tokenizer.eos_token
        eos = tokenizer.eos_token_id
        examples = [
            {"input_ids": tokenizer(t)["input_ids"] + [eos]}
            for t in ["def hello_world():", "import numpy as np\nx = 1", "pass"]
        ]
        batch = DataCollatorForLanguageModeling(tokenizer, mlm=False)(examples)
        labels = causal_lm_labels(batch["input_ids"], batch["attention_mask"])
        real_eos = (batch["input_ids"] == eos) & batch["attention_mask"].bool()
        assert int(real_eos.sum()) == 3
        assert (labels[real_eos] == eos).all()
        assert (batch["labels"][real_eos] == -100).all()

    @pytest.mark.parametrize(
        ("input_ids", "attention_mask", "name"),
        [
            (torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.long), "input_ids"),
            (torch.zeros(3, dtype=torch.long), torch.ones(3, dtype=torch.long), "input_ids"),
            (torch.zeros(2, 3, dtype=torch.long), torch.ones(2, 3), "attention_mask"),
            (
                torch.zeros(2, 3, dtype=torch.long),
                torch.ones(2, 4, dtype=torch.long),
                "attention_mask",
            ),
            (torch.zeros(2, 3, dtype=torch.long), torch.full((2, 3), 2), "attention_mask"),
        ],
        ids=["float-ids", "1-D-ids", "float-mask", "shape-mismatch", "non-binary-mask"],
    )
    def test_validation(self, input_ids, attention_mask, name):
        """Bad shapes, dtypes or mask values raise ValueError naming the argument."""
        with pytest.raises(ValueError, match=name):
            causal_lm_labels(input_ids, attention_mask)


class TestHiddenEosLabels:
    """hidden_eos_labels counts real EOS tokens whose label is -100."""

    def _batch(self, tokenizer, texts):
        eos = tokenizer.eos_token_id
        examples = [{"input_ids": tokenizer(t)["input_ids"] + [eos]} for t in texts]
        return DataCollatorForLanguageModeling(tokenizer, mlm=False)(examples)

    def test_collator_with_pad_eos_hides_every_real_eos(self, gpt2_tokenizer):
        """pad = eos: each example's final EOS is real (attention 1) and labelled -100 by the
        library."""
        tokenizer = GPT2TokenizerFast.from_pretrained(gpt2_tokenizer.name_or_path)
        tokenizer.pad_token = tokenizer.eos_token
        texts = ["def hello_world():", "import numpy as np", "x = [1, 2, 3]\nprint(x)", "pass"]
        batch = self._batch(tokenizer, texts)
        assert (batch["attention_mask"] == 0).any()  # the batch is padded
        count = hidden_eos_labels(batch, tokenizer.eos_token_id)
        assert count == EosLabelCount(real_eos=len(texts), hidden=len(texts))
        assert str(count) == f"{len(texts)} of {len(texts)} real EOS tokens have label -100"

    def test_fixes_hide_none(self, gpt2_tokenizer):
        """A distinct pad token, or labels from the attention mask, leave every real EOS
        labelled."""
        distinct = GPT2TokenizerFast.from_pretrained(gpt2_tokenizer.name_or_path)
        distinct.add_special_tokens({"pad_token": "<|pad|>"})
        texts = ["def hello_world():", "import numpy as np", "pass"]
        assert hidden_eos_labels(self._batch(distinct, texts), distinct.eos_token_id).hidden == 0

        same = GPT2TokenizerFast.from_pretrained(gpt2_tokenizer.name_or_path)
        same.pad_token = same.eos_token
        batch = dict(self._batch(same, texts))
        batch["labels"] = causal_lm_labels(batch["input_ids"], batch["attention_mask"])
        assert hidden_eos_labels(batch, same.eos_token_id) == EosLabelCount(3, 0)

    def test_padding_eos_not_counted(self):
        """EOS ids under attention 0 (padding) are not real EOS tokens."""
        batch = {
            "input_ids": torch.tensor([[5, 9, 9, 9]]),
            "attention_mask": torch.tensor([[1, 1, 0, 0]]),
            "labels": torch.tensor([[5, -100, -100, -100]]),
        }
        assert hidden_eos_labels(batch, 9) == EosLabelCount(real_eos=1, hidden=1)

    def test_validation(self):
        """A missing key or mismatched shapes raise ValueError, wrong types TypeError, naming
        them."""
        ok = {
            "input_ids": torch.zeros(1, 3, dtype=torch.long),
            "attention_mask": torch.ones(1, 3, dtype=torch.long),
            "labels": torch.zeros(1, 3, dtype=torch.long),
        }
        with pytest.raises(ValueError, match="attention_mask"):
            hidden_eos_labels({k: v for k, v in ok.items() if k != "attention_mask"}, 0)
        with pytest.raises(TypeError, match="eos_token_id"):
            hidden_eos_labels(ok, None)
        with pytest.raises(ValueError, match="labels"):
            hidden_eos_labels({**ok, "labels": torch.zeros(1, 4, dtype=torch.long)}, 0)
        with pytest.raises(TypeError, match="batch"):
            hidden_eos_labels([ok], 0)
        with pytest.raises(ValueError, match="input_ids"):
            hidden_eos_labels({**ok, "input_ids": torch.zeros(1, 3)}, 0)


class TestNextTokenLosses:
    """next_token_losses is the causal LM loss by hand, one value per position."""

    @pytest.mark.parametrize("seed", range(4))
    def test_mean_equals_model_loss(self, tiny_gpt2, seed):
        """Its nanmean equals GPT2LMHeadModel's loss (up to rounding), ignored labels included."""
        generator = torch.Generator().manual_seed(seed)
        ids, labels = _random_labels(generator, batch=2, length=6 + seed)
        labels[0, 1] = ids[0, 1]  # at least one target counts
        with torch.no_grad():
            outputs = tiny_gpt2(input_ids=ids, labels=labels)
        losses = next_token_losses(outputs.logits, labels)
        torch.testing.assert_close(losses.nanmean(), outputs.loss)

    def test_position_i_is_scored_against_label_i_plus_1(self):
        """Entry i is -log_softmax(logits[i])[labels[i + 1]]; the last and ignored ones are nan."""
        generator = torch.Generator().manual_seed(0)
        logits = torch.randn(2, 5, 7, generator=generator)
        labels = torch.randint(0, 7, (2, 5), generator=generator)
        labels[1, 3] = -100
        losses = next_token_losses(logits, labels)
        for b in range(2):
            for i in range(5):
                if i == 4 or labels[b, i + 1] == -100:
                    assert losses[b, i].isnan()
                else:
                    expected = -torch.log_softmax(logits[b, i], -1)[labels[b, i + 1]]
                    torch.testing.assert_close(losses[b, i], expected)

    def test_every_position_but_the_last_is_scored(self):
        """Without ignored labels, a row of n tokens has n - 1 scored positions."""
        losses = next_token_losses(torch.zeros(3, 6, 4), torch.ones(3, 6, dtype=torch.long))
        assert (~losses.isnan()).sum(dim=1).tolist() == [5, 5, 5]

    def test_validation(self):
        """Bad shapes, dtypes, out-of-vocabulary labels or ignore_index are refused, naming them."""
        with pytest.raises(ValueError, match="logits"):
            next_token_losses(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long))
        with pytest.raises(ValueError, match="labels"):
            next_token_losses(torch.zeros(2, 3, 5), torch.zeros(2, 3))
        with pytest.raises(ValueError, match="labels"):
            next_token_losses(torch.zeros(1, 2, 5), torch.tensor([[1, 7]]))
        with pytest.raises(TypeError, match="ignore_index"):
            next_token_losses(torch.zeros(1, 2, 5), torch.tensor([[1, 2]]), ignore_index="x")
