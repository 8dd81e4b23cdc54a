"""Tests for lmnotes.generation: teacher forcing and step-by-step generation agree."""

from __future__ import annotations

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from lmnotes.generation import (
    GenerationComparison,
    greedy_generate,
    teacher_forcing_vs_generation,
    top_prediction_table,
)
from lmnotes.tiny import tiny_bert, tiny_gpt2, tiny_llama

PROMPT = [5, 17, 42, 8]


@pytest.fixture(scope="module")
def word_tokenizer():
    """A whitespace word-level tokenizer over the tiny models' 100 ids: "w<id>"."""
    words = [f"w{i}" for i in range(100)]
    backend = Tokenizer(models.WordLevel(dict(zip(words, range(100), strict=True)), unk_token="w0"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=backend)


class TestGreedyGenerate:
    @pytest.mark.parametrize("build", [tiny_gpt2, tiny_llama])
    def test_cache_and_no_cache_choose_the_same_tokens(self, build):
        """With and without the key/value cache, greedy decoding picks the same ids."""
        model = build(seed=1)
        a = greedy_generate(model, PROMPT, 6, use_cache=True)
        b = greedy_generate(model, PROMPT, 6, use_cache=False)
        assert a.new_ids == b.new_ids
        torch.testing.assert_close(a.logits, b.logits, rtol=0, atol=1e-4)

    @pytest.mark.parametrize("use_cache", [True, False])
    def test_matches_model_generate(self, use_cache):
        """The loop picks the tokens that transformers' own greedy model.generate picks."""
        model = tiny_llama(seed=2)
        ids = torch.tensor([PROMPT])
        expected = model.generate(
            ids,
            max_new_tokens=5,
            min_new_tokens=5,
            do_sample=False,
            use_cache=use_cache,
            pad_token_id=1,
        )[0, len(PROMPT) :].tolist()
        assert list(greedy_generate(model, ids, 5, use_cache=use_cache).new_ids) == expected

    def test_argmax_of_logits_is_the_chosen_token(self):
        """Each stored logit row's argmax is the token chosen at that step."""
        run = greedy_generate(tiny_gpt2(), PROMPT, 4)
        assert tuple(run.logits.argmax(-1).tolist()) == run.new_ids

    def test_tokens_fed_per_step(self):
        """The cache feeds the prompt then one token per step; no cache feeds everything again."""
        assert greedy_generate(tiny_gpt2(), PROMPT, 3).tokens_fed == (4, 1, 1)
        assert greedy_generate(tiny_gpt2(), PROMPT, 3, use_cache=False).tokens_fed == (4, 5, 6)

    def test_accepts_list_1d_and_2d(self):
        """A list, a 1-D and a (1, seq_len) tensor give the same run."""
        model = tiny_gpt2()
        runs = {
            greedy_generate(model, ids, 3).new_ids
            for ids in (PROMPT, torch.tensor(PROMPT), torch.tensor([PROMPT]))
        }
        assert len(runs) == 1

    @pytest.mark.parametrize(
        ("kwargs", "error", "name"),
        [
            ({"n_new": 0}, ValueError, "n_new"),
            ({"n_new": 2.0}, TypeError, "n_new"),
            ({"input_ids": []}, ValueError, "input_ids"),
            ({"input_ids": [[1, 2], [3, 4]]}, ValueError, "input_ids"),
            ({"input_ids": torch.tensor([1.0, 2.0])}, ValueError, "input_ids"),
            ({"input_ids": "w1 w2"}, TypeError, "input_ids"),
            ({"model": "gpt2"}, TypeError, "model"),
        ],
    )
    def test_bad_input_raises(self, kwargs, error, name):
        """Bad n_new, input_ids or model raise an error naming the argument."""
        args = {"model": tiny_gpt2(), "input_ids": PROMPT, "n_new": 2, **kwargs}
        with pytest.raises(error, match=name):
            greedy_generate(**args)


class TestTeacherForcingVsGeneration:
    @pytest.mark.parametrize("build", [tiny_gpt2, tiny_llama])
    @pytest.mark.parametrize("seed", [0, 3])
    def test_causal_models_agree(self, build, seed):
        """One teacher-forced pass recovers every greedily generated token, logits within noise."""
        result = teacher_forcing_vs_generation(build(seed=seed), PROMPT, 6)
        assert isinstance(result, GenerationComparison)
        assert result.agree
        assert max(result.max_logit_diff_cache, result.max_logit_diff_no_cache) < 1e-4

    def test_bidirectional_model_breaks_the_equivalence(self):
        """In BERT (no causal mask) the step logits differ from one pass over the whole sequence."""
        model = tiny_bert(seed=0)
        run = greedy_generate(model, PROMPT, 5, use_cache=False)
        full = torch.tensor([PROMPT + list(run.new_ids[:-1])])
        with torch.no_grad():
            forced = model(full).logits[0, len(PROMPT) - 1 :]
        assert float((forced - run.logits).abs().max()) > 1e-2

    def test_model_without_cache_raises(self):
        """A model that returns no cache (BERT) raises ValueError naming model."""
        with pytest.raises(ValueError, match="model"):
            teacher_forcing_vs_generation(tiny_bert(), PROMPT, 2)

    def test_agree_is_false_when_one_run_differs(self):
        """agree compares all three id tuples."""
        result = teacher_forcing_vs_generation(tiny_gpt2(), PROMPT, 3)
        changed = GenerationComparison(
            prompt_ids=result.prompt_ids,
            with_cache=result.with_cache,
            without_cache=result.without_cache,
            teacher_forcing_ids=(*result.teacher_forcing_ids[:-1], -1),
            max_logit_diff_cache=0.0,
            max_logit_diff_no_cache=0.0,
        )
        assert not changed.agree

    def test_deterministic(self):
        """Two runs give equal results."""
        model = tiny_llama()
        assert teacher_forcing_vs_generation(model, PROMPT, 4) == teacher_forcing_vs_generation(
            model, PROMPT, 4
        )

    def test_bad_n_new_raises(self):
        """n_new < 1 raises ValueError naming n_new."""
        with pytest.raises(ValueError, match="n_new"):
            teacher_forcing_vs_generation(tiny_gpt2(), PROMPT, 0)

    @pytest.mark.slow
    def test_smollm2_agrees(self):
        """On the real SmolLM2-135M the generated code is recovered by one teacher-forced pass."""
        from lmnotes.assets import load_causal_lm

        model, tokenizer = load_causal_lm()
        ids = tokenizer("def hello_world():")["input_ids"]
        result = teacher_forcing_vs_generation(model, ids, 6)
        assert result.agree
        assert result.max_logit_diff_cache < 1e-3


class TestTopPredictionTable:
    def test_rows_follow_the_text(self, word_tokenizer):
        """One row per token; the next token column is the text shifted by one, empty at the end."""
        table = top_prediction_table(tiny_gpt2(), word_tokenizer, "w5 w17 w42 w8")
        assert [r[1] for r in table.rows] == ["w5", "w17", "w42", "w8"]
        assert [r[4] for r in table.rows] == ["w17", "w42", "w8", ""]

    def test_probabilities_match_one_forward_pass(self, word_tokenizer):
        """Each row holds the argmax and max of the softmax at its position."""
        model = tiny_llama()
        table = top_prediction_table(model, word_tokenizer, "w5 w17 w42")
        with torch.no_grad():
            probs = model(torch.tensor([[5, 17, 42]])).logits[0].softmax(-1)
        for pos, row in enumerate(table.rows):
            assert row[2] == f"w{int(probs[pos].argmax())}"
            assert row[3] == pytest.approx(float(probs[pos].max()), abs=1e-6)

    def test_last_row_is_what_generation_picks_first(self, word_tokenizer):
        """The top prediction of the last position is the first greedily generated token."""
        model = tiny_gpt2(seed=4)
        table = top_prediction_table(model, word_tokenizer, "w5 w17 w42 w8")
        assert table.rows[-1][2] == f"w{greedy_generate(model, PROMPT, 1).new_ids[0]}"

    def test_hits_counts_correct_top_predictions(self, word_tokenizer):
        """hits counts the rows whose top prediction equals the next token of the text."""
        model = tiny_gpt2()
        top = top_prediction_table(model, word_tokenizer, "w5").rows[0][2]
        assert top_prediction_table(model, word_tokenizer, f"w5 {top}").hits == 1
        other = "w6" if top != "w6" else "w7"
        assert top_prediction_table(model, word_tokenizer, f"w5 {other}").hits == 0

    def test_hits_are_marked_in_text_and_html(self, word_tokenizer):
        """A correct top prediction carries a visible ✓ in text and HTML; other rows none."""
        model = tiny_gpt2()
        top = top_prediction_table(model, word_tokenizer, "w5").rows[0][2]
        other = "w6" if top != "w6" else "w7"
        table = top_prediction_table(model, word_tokenizer, f"w5 {top} {other}")
        lines = str(table).splitlines()
        assert lines[0].rstrip().endswith("top = next")
        assert lines[2].rstrip().endswith("\u2713")
        assert [line.count("\u2713") for line in lines[2:]] == [1] + [0] * (len(lines) - 3)
        from bs4 import BeautifulSoup

        rows = BeautifulSoup(table._repr_html_(), "html.parser").select("tbody tr")
        assert rows[0].find_all("td")[-1].get_text() == "\u2713"
        assert "lmnotes-hit" in rows[0].find_all("td")[-1]["class"]
        assert rows[0].find_all("td")[2]["class"] == ["lmnotes-hit"]
        assert sum(row.get_text().count("\u2713") for row in rows) == table.hits == 1

    def test_text_and_html(self, word_tokenizer):
        """Plain text has a header, a rule and one line per token; the HTML is a table."""
        table = top_prediction_table(tiny_gpt2(), word_tokenizer, "w5 w17")
        lines = str(table).splitlines()
        assert lines[0].split()[:2] == ["position", "token"] and len(lines) == 4
        assert table._repr_html_().startswith("<table")

    def test_bad_text_raises(self, word_tokenizer):
        """A non-string text raises TypeError naming text; an empty one ValueError."""
        with pytest.raises(TypeError, match="text"):
            top_prediction_table(tiny_gpt2(), word_tokenizer, [5, 17])
        with pytest.raises(ValueError, match="text"):
            top_prediction_table(tiny_gpt2(), word_tokenizer, "")
