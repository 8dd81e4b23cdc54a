"""Tests for lmnotes.display: the token table and the figures."""

from __future__ import annotations

import io
import pathlib
import re
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.text import Annotation
from transformers import DataCollatorForLanguageModeling

from lmnotes.display import (
    LEGIBLE_PX,
    DescribedFigure,
    NextTokenTable,
    TokenTable,
    figure_svg,
    next_token_table,
    plot_label_shift,
    plot_mask,
    plot_masks,
    plot_mlm_masks,
    token_table,
)
from lmnotes.mlm import mask_outcomes, mask_tokens

bs4 = pytest.importorskip("bs4")

MAX_PNG_BYTES = 60_000


TEXTS = [
    "The cat has four paws and a long tail.",
    "Hello, this is a test.",
    "Masks are redrawn at every call.",
]


@pytest.fixture(scope="module")
def mlm_batch(bert_uncased):
    """A collated MLM batch from the library (seeded), with its unmasked tokens."""
    collator = DataCollatorForLanguageModeling(bert_uncased, mlm_probability=0.4, seed=1)
    batch = collator([bert_uncased(t) for t in TEXTS])
    assert (batch["labels"] != -100).sum() > 5
    return batch


def _png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


class TestTokenTable:
    """token_table shows position, token, input id, label and label token for one row."""

    @pytest.mark.parametrize("row", [0, 1, 2, -1])
    def test_rows_follow_the_batch(self, bert_uncased, mlm_batch, row):
        """One table row per position, with the batch's input id and label at that position."""
        table = token_table(mlm_batch["input_ids"], mlm_batch["labels"], bert_uncased, row=row)
        assert isinstance(table, TokenTable)
        assert [r[0] for r in table.rows] == list(range(mlm_batch["input_ids"].shape[1]))
        assert [r[2] for r in table.rows] == mlm_batch["input_ids"][row].tolist()
        assert [r[3] for r in table.rows] == mlm_batch["labels"][row].tolist()

    def test_label_token_is_the_original_token(self, bert_uncased, mlm_batch):
        """At chosen positions the label token is the token of the unmasked text; elsewhere
        empty."""
        for row, text in enumerate(TEXTS):
            original = ["[CLS]", *bert_uncased.tokenize(text), "[SEP]"]
            table = token_table(mlm_batch["input_ids"], mlm_batch["labels"], bert_uncased, row=row)
            for position, token, _, label, label_token in table.rows:
                if position >= len(original):
                    assert token == "[PAD]" and label == -100
                elif label == -100:
                    assert label_token == "" and token == original[position]
                else:
                    assert label_token == original[position]

    def test_text_shows_minus_100_as_is(self, bert_uncased, mlm_batch):
        """The text table has a header, a rule and one line per position; -100 is printed."""
        table = token_table(mlm_batch["input_ids"], mlm_batch["labels"], bert_uncased)
        lines = str(table).splitlines()
        assert lines[0].split() == ["position", "token", "input", "id", "label", "label", "token"]
        assert set(lines[1].replace(" ", "")) == {"-"}
        assert len(lines) == 2 + len(table.rows)
        ignored = int((mlm_batch["labels"][0] == -100).sum())
        assert sum(line.split()[3] == "-100" for line in lines[2:]) == ignored
        assert str(table) == table.to_text() == repr(table)

    def test_html_table(self, bert_uncased, mlm_batch):
        """_repr_html_ is a table with the five columns and one row per position."""
        table = token_table(mlm_batch["input_ids"], mlm_batch["labels"], bert_uncased)
        soup = bs4.BeautifulSoup(table._repr_html_(), "html.parser")
        headers = [th.get_text() for th in soup.find_all("th")]
        assert headers == ["position", "token", "input id", "label", "label token"]
        rows = soup.find("tbody").find_all("tr")
        assert len(rows) == len(table.rows)
        for tr, row in zip(rows, table.rows, strict=True):
            assert [td.get_text() for td in tr.find_all("td")] == [str(c) for c in row]

    def test_html_escapes_tokens(self, gpt2_tokenizer):
        """GPT-2's <|endoftext|> is escaped in HTML and printed as is in text."""
        eos = gpt2_tokenizer.eos_token_id
        ids = torch.tensor([gpt2_tokenizer("import numpy")["input_ids"] + [eos]])
        table = token_table(ids, ids.clone(), gpt2_tokenizer)
        assert "&lt;|endoftext|&gt;" in table._repr_html_()
        assert "<|endoftext|>" not in table._repr_html_()
        assert "<|endoftext|>" in table.to_text()

    def test_validation(self, bert_uncased):
        """Bad tensors or rows raise ValueError/TypeError naming the argument."""
        ids = torch.tensor([[101, 7592, 102]])
        with pytest.raises(ValueError, match="labels"):
            token_table(ids, torch.tensor([[1, 2]]), bert_uncased)
        with pytest.raises(ValueError, match="input_ids"):
            token_table(ids[0], ids[0], bert_uncased)
        with pytest.raises(ValueError, match="input_ids"):
            token_table(ids.float(), ids, bert_uncased)
        with pytest.raises(TypeError, match="input_ids"):
            token_table(ids.tolist(), ids, bert_uncased)
        with pytest.raises(ValueError, match="row"):
            token_table(ids, ids, bert_uncased, row=1)
        with pytest.raises(TypeError, match="row"):
            token_table(ids, ids, bert_uncased, row=0.0)


class TestNextTokenTable:
    """next_token_table shows, for each position, the next label, its probability and its loss."""

    @pytest.fixture()
    def scored(self, gpt2_tokenizer):
        """Ids of "import numpy as np" + EOS, labels with the EOS ignored, and random logits."""
        ids = torch.tensor([gpt2_tokenizer("import numpy as np")["input_ids"] + [50256]])
        labels = ids.clone()
        labels[0, -1] = -100
        logits = torch.randn(1, ids.shape[1], 50257, generator=torch.Generator().manual_seed(0))
        return ids, labels, logits

    def test_rows_pair_position_i_with_label_i_plus_1(self, gpt2_tokenizer, scored):
        """Row i shows token i and the token of label i + 1, with p = exp(-loss) = softmax there."""
        ids, labels, logits = scored
        table = next_token_table(ids, labels, logits, gpt2_tokenizer)
        assert isinstance(table, NextTokenTable)
        tokens = gpt2_tokenizer.convert_ids_to_tokens(ids[0].tolist())
        assert [r[1] for r in table.rows] == tokens
        n = ids.shape[1]
        for position, _, target, prob, loss in table.rows[: n - 2]:
            assert target == tokens[position + 1]
            expected = torch.softmax(logits[0, position], -1)[ids[0, position + 1]].item()
            assert prob == pytest.approx(expected, rel=1e-4)
            assert loss == pytest.approx(-np.log(expected), rel=1e-4)

    def test_unscored_positions_are_empty(self, gpt2_tokenizer, scored):
        """The position before an ignored label and the last one have no target and nan numbers."""
        ids, labels, logits = scored
        table = next_token_table(ids, labels, logits, gpt2_tokenizer)
        for row in table.rows[-2:]:
            assert row[2] == "" and np.isnan(row[3]) and np.isnan(row[4])
        last_lines = str(table).splitlines()[-2:]
        assert all(len(line.split()) == 2 for line in last_lines)  # position and token only

    def test_html(self, gpt2_tokenizer, scored):
        """_repr_html_ is a five-column table, one row per position, tokens escaped."""
        ids, labels, logits = scored
        html = next_token_table(ids, labels, logits, gpt2_tokenizer)._repr_html_()
        soup = bs4.BeautifulSoup(html, "html.parser")
        assert [th.get_text() for th in soup.find_all("th")] == [
            "position",
            "token",
            "next label",
            "p(next)",
            "loss",
        ]
        assert len(soup.find("tbody").find_all("tr")) == ids.shape[1]
        assert "&lt;|endoftext|&gt;" in html

    def test_validation(self, gpt2_tokenizer, scored):
        """Shape mismatches and bad rows are refused, naming the argument."""
        ids, labels, logits = scored
        with pytest.raises(ValueError, match="labels"):
            next_token_table(ids, labels[:, :2], logits, gpt2_tokenizer)
        with pytest.raises(ValueError, match="row"):
            next_token_table(ids, labels, logits, gpt2_tokenizer, row=1)
        with pytest.raises(TypeError, match="row"):
            next_token_table(ids, labels, logits, gpt2_tokenizer, row="0")
        with pytest.raises(ValueError, match="logits"):
            next_token_table(ids, labels, logits[0], gpt2_tokenizer)


class TestPlotMlmMasks:
    """plot_mlm_masks draws the outcome of every position of a masked batch."""

    def test_image_holds_outcomes_and_padding(self, bert_uncased, mlm_batch):
        """The image equals mask_outcomes, with 4 where attention_mask is 0."""
        fig = plot_mlm_masks(
            mlm_batch["input_ids"],
            mlm_batch["labels"],
            mask_token_id=bert_uncased.mask_token_id,
            attention_mask=mlm_batch["attention_mask"],
        )
        assert isinstance(fig, Figure)
        image = np.asarray(fig.axes[0].images[0].get_array())
        codes = mask_outcomes(
            mlm_batch["input_ids"], mlm_batch["labels"], bert_uncased.mask_token_id
        ).numpy()
        padding = mlm_batch["attention_mask"].numpy() == 0
        assert padding.any()
        assert (image[padding] == 4).all()
        assert np.array_equal(image[~padding], codes[~padding])

    def test_legend_counts_every_position(self, bert_uncased):
        """The legend names the four outcomes and its counts add up to the batch size."""
        ids = torch.randint(1000, 30000, (16, 40), generator=torch.Generator().manual_seed(0))
        inputs, labels = mask_tokens(
            ids, bert_uncased, mlm_probability=0.5, generator=torch.Generator().manual_seed(1)
        )
        fig = plot_mlm_masks(inputs, labels, mask_token_id=bert_uncased.mask_token_id)
        texts = [t.get_text() for t in fig.legends[0].get_texts()]
        assert [t.split(" (")[0] for t in texts] == ["unchosen", "[MASK]", "random", "unchanged"]
        counts = [int(t.split("(")[1].rstrip(")")) for t in texts]
        assert sum(counts) == ids.numel() and all(c > 0 for c in counts)

    def test_small_png_and_no_pyplot_figure(self, bert_uncased):
        """A 64 x 128 batch renders 600 x 300 px, PNG under 120 KB, SVG under 180 KB; no pyplot
        figure is left open."""
        ids = torch.randint(1000, 30000, (64, 128), generator=torch.Generator().manual_seed(0))
        inputs, labels = mask_tokens(ids, bert_uncased, generator=torch.Generator())
        open_before = plt.get_fignums()
        fig = plot_mlm_masks(inputs, labels, mask_token_id=bert_uncased.mask_token_id)
        png = _png_bytes(fig)
        assert len(png) < 2 * MAX_PNG_BYTES  # hatches make the raster larger; pages use SVG
        assert len(figure_svg(fig)) < 3 * MAX_PNG_BYTES
        assert tuple(fig.get_size_inches() * fig.dpi) == (600, 300)
        assert plt.get_fignums() == open_before

    def test_validation(self, bert_uncased):
        """A mismatched attention_mask or a non-int mask_token_id is refused, naming it."""
        ids = torch.tensor([[101, 103, 102]])
        labels = torch.tensor([[-100, 2000, -100]])
        with pytest.raises(ValueError, match="attention_mask"):
            plot_mlm_masks(ids, labels, mask_token_id=103, attention_mask=torch.ones(1, 4))
        with pytest.raises(TypeError, match="mask_token_id"):
            plot_mlm_masks(ids, labels, mask_token_id="[MASK]")
        with pytest.raises(ValueError, match="labels"):
            plot_mlm_masks(ids, labels[:, :2], mask_token_id=103)


class TestPlotLabelShift:
    """plot_label_shift draws one arrow from each input position i to label i + 1."""

    def _arrows(self, fig):
        return [t for t in fig.axes[0].texts if isinstance(t, Annotation)]

    @pytest.mark.parametrize("n", [2, 5, 16, 32])
    def test_arrow_from_i_to_i_plus_1(self, n):
        """n tokens give n - 1 arrows, the k-th from column k to column k + 1."""
        fig = plot_label_shift([f"t{i}" for i in range(n)])
        arrows = self._arrows(fig)
        assert len(arrows) == n - 1
        starts = sorted(round(a.xyann[0]) for a in arrows)
        ends = sorted(round(a.xy[0]) for a in arrows)
        assert starts == list(range(n - 1)) and ends == list(range(1, n))
        assert all(a.xy[1] > a.xyann[1] for a in arrows)  # from inputs (bottom) up to labels

    def test_greyed_first_label_and_last_input(self):
        """Without ignored labels exactly two boxes are grey: label 0 and input n - 1."""
        n = 4
        fig = plot_label_shift(["a", "b", "c", "d"])
        patches = fig.axes[0].patches
        assert len(patches) == 2 * n
        grey = to_rgba("#e6e6e6")
        greyed = {
            ("label" if p.get_y() > 0.5 else "input", round(p.get_x() + p.get_width() / 2))
            for p in patches
            if np.allclose(p.get_facecolor(), grey)
        }
        assert greyed == {("label", 0), ("input", n - 1)}

    def test_ignored_labels_get_no_arrow(self):
        """A label marked ignored (e.g. padding) receives no arrow."""
        fig = plot_label_shift(["a", "b", "<eos>", "<pad>"], ignored=[False, False, False, True])
        arrows = self._arrows(fig)
        assert len(arrows) == 2
        assert sorted(round(a.xy[0]) for a in arrows) == [1, 2]

    def test_inputs_before_ignored_labels_are_greyed(self):
        """An input whose next label is ignored is not scored: its box is grey, like the last
        one."""
        fig = plot_label_shift(["a", "b", "<eos>", "<pad>"], ignored=[False, False, True, True])
        grey = to_rgba("#e6e6e6")
        greyed_inputs = sorted(
            round(p.get_x() + p.get_width() / 2)
            for p in fig.axes[0].patches
            if p.get_y() < 0.5 and np.allclose(p.get_facecolor(), grey)
        )
        assert greyed_inputs == [1, 2, 3]

    def test_tokens_are_shown_with_visible_spaces(self):
        """Token strings appear on the figure; a leading space is drawn as ␣."""
        fig = plot_label_shift(["import", " numpy"])
        texts = {t.get_text() for t in fig.axes[0].texts}
        assert {"import", "\u2423numpy"} <= texts

    def test_special_tokens_are_drawn_whole(self):
        """<|endoftext|> is drawn whole (smaller font), never cut to <|end…; Ġ is drawn as ␣."""
        fig = plot_label_shift(["def", "\u0120hello", "<|endoftext|>"] * 4)
        texts = {t.get_text() for t in fig.axes[0].texts}
        assert {"<|endoftext|>", "\u2423hello"} <= texts
        assert not any("\u2026" in t or "\u0120" in t for t in texts)

    def test_small_png(self):
        """Even 32 tokens render under 60 KB."""
        assert len(_png_bytes(plot_label_shift([f"tok{i}" for i in range(32)]))) < MAX_PNG_BYTES

    def test_validation(self):
        """Too few or too many tokens, a string, or a wrong ignored length are refused."""
        with pytest.raises(ValueError, match="tokens"):
            plot_label_shift(["only"])
        with pytest.raises(ValueError, match="tokens"):
            plot_label_shift(["t"] * 33)
        with pytest.raises(TypeError, match="tokens"):
            plot_label_shift("abc")
        with pytest.raises(ValueError, match="ignored"):
            plot_label_shift(["a", "b"], ignored=[True])


class TestPlotMask:
    """plot_mask draws a boolean mask with queries on rows and keys on columns."""

    def test_byte_level_labels_use_the_space_convention(self):
        """Labels from convert_ids_to_tokens show Ġ as ␣, as every figure; other labels are kept."""
        tokens = ["def", "\u0120hello", "<|endoftext|>"]
        mask = torch.ones(3, 3, dtype=torch.bool).tril()
        fig = plot_mask(mask, xlabels=tokens, ylabels=["0", "1 (new)", "2"])
        ax = fig.axes[0]
        shown = [t.get_text() for t in ax.get_xticklabels()]
        assert shown == ["def", "\u2423hello", "<|endoftext|>"]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1 (new)", "2"]

    @pytest.mark.parametrize(
        "mask",
        [
            torch.ones(5, 5, dtype=torch.bool).tril(),
            torch.tensor([[1, 1, 0], [1, 1, 0]]),
            np.array([[True, False, True, True]]),
        ],
        ids=["causal-bool", "padding-int", "numpy"],
    )
    def test_image_is_the_mask(self, mask):
        """The image holds the mask as 0/1, same shape."""
        fig = plot_mask(mask, title="m")
        image = np.asarray(fig.axes[0].images[0].get_array())
        expected = np.asarray(mask.numpy() if isinstance(mask, torch.Tensor) else mask)
        assert np.array_equal(image, expected.astype(int))
        assert fig.axes[0].get_title() == "m"

    def test_axis_labels(self):
        """xlabels name the keys (columns) and ylabels the queries (rows)."""
        mask = torch.ones(2, 3, dtype=torch.bool)
        fig = plot_mask(mask, xlabels=["k0", "k1", "k2"], ylabels=["q0", "q1"])
        ax = fig.axes[0]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["k0", "k1", "k2"]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["q0", "q1"]
        assert "key" in ax.get_xlabel() and "query" in ax.get_ylabel()

    def test_small_png(self):
        """A 128 x 128 mask renders under 60 KB."""
        fig = plot_mask(torch.ones(128, 128, dtype=torch.bool).tril())
        assert len(_png_bytes(fig)) < MAX_PNG_BYTES

    def test_validation(self):
        """Non-2-D, float or non-0/1 masks and wrong label lengths are refused, naming them."""
        with pytest.raises(ValueError, match=r"mask\[0, 0\]"):
            plot_mask(torch.ones(1, 1, 3, 3, dtype=torch.bool))
        with pytest.raises(ValueError, match="mask"):
            plot_mask(torch.zeros(3, 3))
        with pytest.raises(ValueError, match="mask"):
            plot_mask(torch.full((2, 2), 2))
        with pytest.raises(TypeError, match="mask"):
            plot_mask([[True]])
        with pytest.raises(ValueError, match="xlabels"):
            plot_mask(torch.ones(2, 3, dtype=torch.bool), xlabels=["a", "b"])
        with pytest.raises(ValueError, match="ylabels"):
            plot_mask(torch.ones(2, 3, dtype=torch.bool), ylabels=["a"])


class TestPlotMasks:
    """plot_masks draws several masks side by side, each as plot_mask draws it."""

    def test_one_panel_per_mask_in_order(self):
        """Panel i holds masks[i] as 0/1 with its title; shapes may differ."""
        causal = torch.ones(4, 4, dtype=torch.bool).tril()
        cross = torch.tensor([[1, 1, 1, 0, 0]] * 4)
        fig = plot_masks([causal, cross], titles=["self", "cross"])
        assert len(fig.axes) == 2
        assert np.array_equal(np.asarray(fig.axes[0].images[0].get_array()), causal.int().numpy())
        assert np.array_equal(np.asarray(fig.axes[1].images[0].get_array()), cross.numpy())
        assert [ax.get_title() for ax in fig.axes] == ["self", "cross"]

    def test_labels_per_panel(self):
        """xlabels/ylabels give each panel its own tick labels; None leaves a panel unlabelled."""
        masks = [torch.ones(2, 2, dtype=torch.bool), torch.ones(2, 3, dtype=torch.bool)]
        fig = plot_masks(masks, xlabels=[["a", "b"], ["x", "y", "z"]], ylabels=[None, ["q", "r"]])
        assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["x", "y", "z"]
        assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["q", "r"]
        assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b"]

    def test_small_png_and_one_legend(self):
        """Two 64 x 64 panels render under 60 KB, with a single legend for the figure."""
        mask = torch.ones(64, 64, dtype=torch.bool).tril()
        fig = plot_masks([mask, mask])
        assert len(fig.legends) == 1
        assert len(_png_bytes(fig)) < MAX_PNG_BYTES

    def test_validation(self):
        """A bare tensor, 0 or 5 masks, a bad mask or wrong label counts are refused, named."""
        mask = torch.ones(2, 2, dtype=torch.bool)
        with pytest.raises(TypeError, match="masks"):
            plot_masks(mask)
        with pytest.raises(ValueError, match="masks"):
            plot_masks([])
        with pytest.raises(ValueError, match="masks"):
            plot_masks([mask] * 5)
        with pytest.raises(ValueError, match=r"masks\[1\]"):
            plot_masks([mask, torch.zeros(2, 2)])
        with pytest.raises(ValueError, match="titles"):
            plot_masks([mask, mask], titles=["only one"])
        with pytest.raises(ValueError, match=r"xlabels\[0\]"):
            plot_masks([mask], xlabels=[["a"]])


class TestModule:
    """Importing lmnotes.display has no global side effect outside IPython."""

    def test_does_not_import_pyplot(self):
        """lmnotes.display builds figures without pyplot (no backend is selected)."""
        code = "import sys, lmnotes.display; print('matplotlib.pyplot' in sys.modules)"
        root = pathlib.Path(__file__).resolve().parents[1]
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
        )
        assert result.stdout.strip() == "False"


class TestNotebookDisplay:
    """In a real IPython kernel: what a cell whose last expression is a figure outputs."""

    CELLS = [
        (
            "import torch\n"
            "from matplotlib.figure import Figure\n"
            "from lmnotes.display import plot_mask\n"
            "fig = plot_mask(torch.ones(2, 2, dtype=torch.bool).tril())\n"
            "plain = Figure(figsize=(1, 1))\n"
            "_ = plain.add_subplot()",
            None,
        ),
        # Importing registers nothing, and no backend is loaded (the pages' case).
        ("fig", {"text/html", "text/plain"}),
        ("plain", {"text/plain"}),
        ("%load_ext lmnotes.display", None),
        ("fig", {"text/html", "text/plain"}),
        ("plain", {"image/png", "text/plain"}),
        # The inline backend (pyplot's first figure loads it too) gives every figure a PNG;
        # loaded after the extension (an import-time registration loses to it).
        ("%matplotlib inline", None),
        ("fig", {"text/html", "text/plain"}),
        ("plain", {"image/png", "text/plain"}),
        # Without the extension, that backend gives a described figure a PNG as well.
        ("%unload_ext lmnotes.display", None),
        ("fig", {"image/png", "text/html", "text/plain"}),
    ]

    def test_a_described_figure_shows_only_its_svg(self):
        """Without registration and no backend, a DescribedFigure outputs its SVG (text/html)
        and no image; after %load_ext lmnotes.display, still none once %matplotlib inline has
        given figures a PNG; a plain figure gets a PNG; %unload_ext undoes it."""
        nbclient = pytest.importorskip("nbclient")
        nbformat = pytest.importorskip("nbformat")
        pytest.importorskip("ipykernel")
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(source) for source, _ in self.CELLS]
        )
        nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
        svg = notebook.cells[1].outputs[0]["data"]["text/html"]
        assert svg.startswith("<svg") and 'role="img"' in svg
        outputs = [  # streams left out (the warnings of an import)
            [(out["output_type"], set(out["data"])) for out in cell.outputs if "data" in out]
            for cell in notebook.cells
        ]
        expected = [[] if mimes is None else [("execute_result", mimes)] for _, mimes in self.CELLS]
        assert outputs == expected


class TestFigureSvg:
    def _svgs(self):
        causal = torch.ones(4, 4, dtype=torch.bool).tril()
        return (
            plot_mask(causal, title="causal mask", xlabels=list("abcd"), ylabels=list("abcd")),
            plot_masks([causal, torch.tensor([[1, 1, 0]] * 4)], titles=["self", "cross"]),
        )

    def test_real_text_role_and_alt_text(self):
        """The SVG keeps its words as <text>, is role=img and carries the figure's alt text."""
        fig, _ = self._svgs()
        svg = figure_svg(fig)
        assert isinstance(fig, DescribedFigure)
        assert ">causal mask</text>" in svg and ">key position</text>" in svg
        assert 'role="img"' in svg and f'aria-label="{fig.alt_text}"' in svg
        assert "10 of 16 pairs may attend" in fig.alt_text and "lower triangle" in fig.alt_text

    @pytest.mark.parametrize(
        ("rows", "said"), [(0, None), (1, "1 row has no key at all"), (2, "2 rows have no key")]
    )
    def test_alt_text_counts_rows_that_attend_to_nothing(self, rows, said):
        """The alt text says how many rows attend to no key, in the singular for one."""
        mask = torch.ones(3, 3, dtype=torch.bool)
        mask[:rows] = False
        text = plot_mask(mask).alt_text
        if said is None:
            assert "no key" not in text
        else:
            assert said in text and "1 rows" not in text

    def test_tokens_are_marked_as_code(self):
        """Tick labels that are tokens sit in <g class="lmnotes-code"> (never translated)."""
        svg = figure_svg(self._svgs()[0])
        assert svg.count('<g class="lmnotes-code">') == 8

    def test_ids_unique_across_figures(self):
        """Two figures on one page share no element id."""
        ids = [re.findall(r'\bid="([^"]+)"', figure_svg(fig)) for fig in self._svgs()]
        assert ids[0] and ids[1] and not set(ids[0]) & set(ids[1])
        assert all(len(set(i)) == len(i) for i in ids)

    def test_colours_follow_the_theme(self):
        """No black, white or palette colour is hard-coded: currentColor and CSS variables
        instead."""
        svg = figure_svg(self._svgs()[1])
        for colour in ("#000000", "#ffffff", "#0072b2", "#e6e6e6"):
            assert f": {colour}" not in svg, colour
        assert "var(--lmnotes-fig-blue, #0072b2)" in svg and "currentColor" in svg
        assert "data:image/png" not in svg  # no raster inside

    def test_legible_width(self):
        """The root sets --lmnotes-fig-legible: the width (CSS px) at which the smallest text of
        the figure is LEGIBLE_PX (12) px; a figure with smaller text asks for more width."""
        widths = []
        for fig in self._svgs():
            svg = figure_svg(fig)
            width = float(re.search(r'style="--lmnotes-fig-legible: ([\d.]+)px"', svg).group(1))
            view = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
            sizes = [float(s) for s in re.findall(r"<text [^>]*font-size: ([\d.]+)px", svg)]
            assert abs(min(sizes) * width / view - LEGIBLE_PX) < 0.05
            widths.append((min(sizes), width))
        small = plot_mask(torch.ones(3, 3, dtype=torch.bool), title="t")
        for text in small.findobj(lambda artist: hasattr(artist, "set_fontsize")):
            if hasattr(text, "get_text") and text.get_text():
                text.set_fontsize(5)
        width = float(re.search(r"--lmnotes-fig-legible: ([\d.]+)px", figure_svg(small)).group(1))
        assert width > max(w for _, w in widths)

    def test_masked_cells_have_a_pattern(self):
        """Masked cells are told by a hatch pattern, not by colour alone (in the legend too)."""
        fig = self._svgs()[0]
        assert fig.axes[0].patch.get_hatch() == "xx"
        assert [h.get_hatch() for h in fig.legends[0].legend_handles] == [None, "xx"]
        assert "<pattern" in figure_svg(fig)

    def test_mlm_outcomes_each_have_their_own_hatch(self, bert_uncased):
        """Every MLM outcome but unchosen has a distinct hatch; the alt text counts each outcome."""
        ids = torch.randint(1000, 30000, (4, 20), generator=torch.Generator().manual_seed(0))
        inputs, labels = mask_tokens(
            ids, bert_uncased, mlm_probability=0.5, generator=torch.Generator().manual_seed(1)
        )
        fig = plot_mlm_masks(inputs, labels, mask_token_id=bert_uncased.mask_token_id)
        hatches = [h.get_hatch() for h in fig.legends[0].legend_handles]
        assert hatches[0] is None and len(set(hatches[1:])) == 3 and None not in hatches[1:]
        assert "4 sequences of 20 positions" in fig.alt_text
