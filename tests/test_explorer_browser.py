"""The batch explorer in chromium: the page that uses ``window.lmnotesExplorer``.

The computation (docs/_static/explorer-compute.js) is compared with transformers' collators
and tokenizers in Node.js, in the fast loop (tests/test_explorer_compute.py, on the random
configurations of tests/explorer_cases.py). Here, in the built page: chromium draws the
same MLM batches as Node, the page's data is what the tokenizers say, and the interface
(explorer.js) shows what the library gives, with the keyboard only, in both languages, with
no axe-core violation.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import torch
from conftest import ROOT
from explorer_cases import library_padded, load_tokenizers, node_or_skip, padded_configs, view
from transformers import DataCollatorForLanguageModeling, DataCollatorWithFlattening

pytestmark = [pytest.mark.site, pytest.mark.browser]

PAGE = "notes/batch-explorer.html"
COMPUTE = ROOT / "docs" / "_static" / "explorer-compute.js"


def _open(context, url: str):
    """Open *url*; return the page and its errors: script errors, console errors, failed requests.

    A missing favicon.ico is left to the site-wide accessibility work (issue 14).
    """
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(url, wait_until="networkidle")
    return page, errors


@pytest.fixture(scope="module")
def tokenizers() -> dict:
    """CodeGen with pad = EOS and with a distinct <|pad|>; bert-base-cased for MLM."""
    return load_tokenizers()


@pytest.fixture(scope="module")
def page(browser_context, server):  # noqa: F811
    page, errors = _open(browser_context, f"{server}/en/{PAGE}")
    page.wait_for_function("window.lmnotesExplorer && document.querySelector('.lmx-row')")
    yield page
    assert errors == []
    page.close()


def _scored(labels: list[list[int]]) -> list[list[int]]:
    """The positions whose logits transformers' causal LM loss scores, per row: those whose
    logits get a gradient from ``ForCausalLMLoss`` (which shifts the labels within a row)."""
    from transformers.loss.loss_utils import ForCausalLMLoss

    width = len(labels[0])
    logits = torch.zeros(len(labels), width, 7, requires_grad=True)
    target = torch.tensor(labels).clamp(max=6).masked_fill(torch.tensor(labels) == -100, -100)
    loss = ForCausalLMLoss(logits, target, vocab_size=7)
    if not target[:, 1:].ne(-100).any():  # nothing scored: the mean over no target is nan
        assert loss.isnan()
        return [[] for _ in labels]
    loss.backward()
    scored = logits.grad.abs().sum(-1) > 0
    return [row.nonzero().flatten().tolist() for row in scored]


class TestComputeInChromium:
    def test_draws_use_only_integer_arithmetic_and_agree_with_node(self, page, tokenizers) -> None:
        """The generator never calls Math.random, and Node.js gives the same batches as chromium
        (explorer-compute.js loaded by require, as tests/js/explorer-compute.test.mjs loads it)."""
        assert "Math.random" not in COMPUTE.read_text("utf-8")
        node = node_or_skip()
        pairs = padded_configs(random.Random(497), "mlm", tokenizers, 20)
        configs = [config for config, _ in pairs]
        program = (
            f"const explorer = require({json.dumps(str(COMPUTE))});"
            "const configs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
            "process.stdout.write(JSON.stringify(configs.map(c => explorer.compute(c))));"
        )
        out = subprocess.run(
            [node, "-e", program],
            input=json.dumps(configs),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        in_chromium = page.evaluate("cs => cs.map(c => window.lmnotesExplorer.compute(c))", configs)
        assert json.loads(out) == in_chromium


class TestPageData:
    def test_page_data_is_what_the_tokenizers_say(self, page, tokenizers) -> None:
        """The data embedded in the page gives the tokenizer views the library's tokenizers have."""
        data = page.evaluate(
            "JSON.parse(document.querySelector('script.lmnotes-explorer-data').textContent)"
        )
        assert data["families"]["mlm"]["configs"]["pad"] == view(tokenizers["mlm"])
        assert data["families"]["clm"]["configs"]["eos"] == view(tokenizers["eos"])
        assert data["families"]["clm"]["configs"]["pad"] == view(tokenizers["pad"])

    def test_the_computation_loads_before_the_interface(self, page) -> None:
        """The page loads explorer-compute.js, then explorer.js (which reads
        window.lmnotesExplorer), from the same folder; both are served."""
        sources = page.eval_on_selector_all(
            "script[src*='explorer']", "scripts => scripts.map(s => s.src)"
        )
        assert [source.rsplit("/", 1)[1] for source in sources] == [
            "explorer-compute.js",
            "explorer.js",
        ]
        assert len({source.rsplit("/", 1)[0] for source in sources}) == 1
        assert (
            page.evaluate("Object.keys(window.lmnotesExplorer).sort().join()")
            == "SEED_MAX,SEED_MIN,compute,decode,seedValue,visible"
        )


def _tab_to(page, selector: str, *, limit: int = 80, key: str = "Tab") -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
    raise AssertionError(f"{selector} not reached with {key}")


def _visible(text: str) -> str:
    """Whitespace as the site's token tables show it: a space as ␣, newline and tab escaped."""
    return text.replace(" ", "\u2423").replace("\n", "\\n").replace("\t", "\\t")


def _keys(page) -> list[str]:
    """The notices shown, by key (``data-notice``)."""
    return page.eval_on_selector_all(".lmx-notices li", "lis => lis.map(li => li.dataset.notice)")


def _row_ids(page, row: int, field: str) -> list[int]:
    """The values of one field (``input_ids``, ``attention_mask``, ``labels``) of a shown row."""
    cells = (
        page.locator(".lmx-row")
        .nth(row)
        .locator(f"table.lmx-fields tr:has(th:text-is('{field}')) td")
    )
    return [int(text) for text in cells.all_inner_texts()]


def _notices(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(
        ".lmx-notices li",
        "lis => lis.map(li => [li.textContent, li.querySelector('a')?.getAttribute('href')])",
    )


class TestInterface:
    @pytest.fixture()
    def fresh(self, browser_context, server):  # noqa: F811
        def open_page(lang: str = "en"):
            page, errors = _open(browser_context, f"{server}/{lang}/{PAGE}")
            page.wait_for_selector(".lmx-row")
            return page, errors

        return open_page

    def test_keyboard_only(self, fresh, site: Path) -> None:
        """With the keyboard alone: pick collators, shorten an example, pad left, choose a
        distinct pad; the batch, the notices and their links follow, and every linked anchor
        exists."""
        page, errors = fresh()

        def rows() -> int:
            return page.locator(".lmx-row").count()

        # Default: CLM, the notes' two lines + EOS, pad = EOS: both EOS labels hidden.
        notices = _notices(page)
        assert any(
            "2 real EOS" in text and href == "clm.html#clm-pad-eos" for text, href in notices
        )
        _tab_to(page, 'input[data-field="collator"]')
        page.keyboard.press("ArrowDown")  # padding-free
        assert page.locator('input[value="flattening"]').is_checked() and rows() == 1
        assert any(href == "packing.html#packing-batch" for _, href in _notices(page))
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowUp")  # MLM
        assert page.locator('input[value="mlm"]').is_checked() and rows() == 2
        assert page.locator(".lmx-masking").evaluate("f => !f.disabled")
        page.keyboard.press("ArrowDown")  # back to CLM
        assert page.locator('input[value="clm"]').is_checked()
        # Drop two tokens of example 2: lengths differ, row 2 gets padding.
        _tab_to(page, 'button[data-action="drop"][data-index="1"]')
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        assert (
            page.locator('input[data-field="ids"][data-index="1"]').input_value()
            == "11748 299 32152"
        )
        assert page.locator(".lmx-row").nth(1).locator("td.lmx-pad").count() > 0
        # Left padding: the pad query rows of row 2 attend to nothing.
        _tab_to(page, 'input[data-field="side"]')
        page.keyboard.press("ArrowDown")
        assert page.locator('input[data-field="side"][value="left"]').is_checked()
        hrefs = [href for _, href in _notices(page) if href]
        assert "padding-mask.html#padding-mask-empty-rows" in hrefs
        assert "padding-mask.html#padding-mask-position-ids" in hrefs
        # A distinct pad: the EOS labels come back.
        _tab_to(page, 'input[data-field="pad"]')
        page.keyboard.press("ArrowDown")
        assert page.locator('input[data-field="pad"][value="pad"]').is_checked()
        assert not any(href == "clm.html#clm-pad-eos" for _, href in _notices(page))
        assert page.locator(".lmx-row").first.locator("td.lmx-ignored").count() == 0
        # Type ids: an invalid id is flagged, a valid edit rebuilds the batch.
        _tab_to(page, 'input[data-field="ids"][data-index="0"]', key="Shift+Tab", limit=40)
        page.keyboard.press("End")
        page.keyboard.type(" x")
        assert (
            page.locator('input[data-field="ids"][data-index="0"]').get_attribute("aria-invalid")
            == "true"
        )
        assert page.locator(".lmx-status.lmx-error").count() == 1
        page.keyboard.press("Backspace")
        page.keyboard.press("Backspace")
        assert page.locator(".lmx-row").count() == 2
        # Every notice link of the page's collators points to an existing anchor.
        for href in hrefs + [
            "clm.html#clm-pad-eos",
            "packing.html#packing-batch",
            "mlm.html#mlm-80-10-10",
        ]:
            name, anchor = href.split("#")
            assert f'id="{anchor}"' in (site / "en" / "notes" / name).read_text("utf-8"), href
        page.close()
        assert errors == []

    def test_emptied_examples_get_what_the_collator_does(self, fresh, tokenizers) -> None:
        """Emptying an example with "−1": the buttons that would do nothing are disabled (focus
        moves to Reset), and each collator's notice says what transformers does with it, checked
        against the library on the page's own ids: padding only (CLM, MLM; and its query rows
        attend to nothing), EOS alone then padding (CLM with EOS appended), left out
        (padding-free)."""
        page, errors = fresh()
        drop = 'button[data-action="drop"][data-index="1"]'
        repeat = 'button[data-action="repeat"][data-index="1"]'
        first = [
            int(i)
            for i in page.locator('input[data-field="ids"][data-index="0"]').input_value().split()
        ]
        _tab_to(page, drop)
        for _ in range(
            len(page.locator('input[data-field="ids"][data-index="1"]').input_value().split())
        ):
            assert not page.locator(drop).is_disabled()
            page.keyboard.press("Enter")
        assert page.locator(drop).is_disabled() and page.locator(repeat).is_disabled()
        assert page.evaluate("document.activeElement.dataset.action") == "reset"
        # CLM, EOS appended: the row is EOS alone; the shift never scores a first token.
        assert "emptyEosNotice" in _keys(page)
        eos = tokenizers["eos"]
        expected = library_padded(
            {
                "examples": [first + [eos.eos_token_id], [eos.eos_token_id]],
                "padding_side": "right",
                "pad_to_multiple_of": None,
            },
            eos,
            mlm=False,
        )
        assert _row_ids(page, 1, "labels") == expected["labels"][1]
        # Without EOS: a row of padding only, which attends to nothing.
        page.locator('input[data-field="appendEos"]').focus()
        page.keyboard.press("Space")
        keys = _keys(page)
        assert "emptyNotice" in keys and "allPadNotice" in keys and "emptyEosNotice" not in keys
        expected = library_padded(
            {"examples": [first, []], "padding_side": "right", "pad_to_multiple_of": None},
            eos,
            mlm=False,
        )
        assert expected["attention_mask"][1] == [0] * len(first)
        assert set(expected["labels"][1]) == {-100}
        assert _row_ids(page, 1, "attention_mask") == expected["attention_mask"][1]
        assert _row_ids(page, 1, "labels") == expected["labels"][1]
        assert page.locator(".lmx-row h4").nth(1).inner_text() == "Row 2: an empty example"
        # Padding-free: the library leaves it out; the packed row counts one example.
        page.locator('input[data-field="collator"][value="flattening"]').focus()
        page.keyboard.press("Space")
        flat = DataCollatorWithFlattening()([{"input_ids": first}, {"input_ids": []}])
        keys = _keys(page)
        assert "emptyPackedNotice" in keys and "packedNoticeOne" in keys
        notice = page.locator('.lmx-notices li[data-notice="packedNoticeOne"]').inner_text()
        assert f"{flat['input_ids'].shape[1]} tokens of 1 example" in notice
        assert _row_ids(page, 0, "input_ids") == flat["input_ids"][0].tolist()
        # MLM: an emptied example is a row of padding only, which attends to nothing.
        page.locator('input[data-field="collator"][value="mlm"]').focus()
        page.keyboard.press("Space")
        ids = page.locator('input[data-field="ids"][data-index="1"]')
        ids.focus()
        page.keyboard.press("Control+a")
        page.keyboard.press("Delete")
        keys = _keys(page)
        assert "emptyNotice" in keys and "allPadNotice" in keys
        bert = tokenizers["mlm"]
        mlm_first = [
            int(i)
            for i in page.locator('input[data-field="ids"][data-index="0"]').input_value().split()
        ]
        expected = library_padded(
            {"examples": [mlm_first, []], "padding_side": "right", "pad_to_multiple_of": None},
            bert,
            mlm=True,
        )
        assert _row_ids(page, 1, "attention_mask") == expected["attention_mask"][1]
        assert _row_ids(page, 1, "labels") == expected["labels"][1] == [-100] * len(mlm_first)
        page.close()
        assert errors == []

    def test_headings_decode_the_ids_as_they_are(self, fresh, tokenizers) -> None:
        """A row's heading is tokenizer.decode of its ids as they are now (after an edit too),
        whitespace shown as ␣ as in the token tables; an edited example gets a notice; Reset is
        disabled while the example holds its original ids."""
        page, errors = fresh()
        codegen = tokenizers["eos"]
        page.locator('input[data-field="on"][data-index="2"]').focus()
        page.keyboard.press("Space")  # "    return x"
        ids = [
            int(i)
            for i in page.locator('input[data-field="ids"][data-index="2"]').input_value().split()
        ]
        heading = page.locator(".lmx-row h4 code").nth(2)
        assert heading.inner_text() == _visible(codegen.decode(ids + [codegen.eos_token_id]))
        assert heading.inner_text().startswith("\u2423" * 4)
        reset = page.locator('button[data-action="reset"][data-index="2"]')
        assert reset.is_disabled()  # nothing to reset yet
        page.locator('button[data-action="drop"][data-index="2"]').focus()
        page.keyboard.press("Enter")
        assert heading.inner_text() == _visible(codegen.decode(ids[:-1] + [codegen.eos_token_id]))
        assert "editedNotice" in _keys(page)
        assert not reset.is_disabled()
        reset.focus()
        page.keyboard.press("Enter")
        assert "editedNotice" not in _keys(page)
        # Reset has nothing left to do: disabled, and the focus goes to the example's ids.
        assert reset.is_disabled()
        assert page.evaluate("document.activeElement.dataset.field") == "ids"
        assert heading.inner_text() == _visible(codegen.decode(ids + [codegen.eos_token_id]))
        page.close()
        assert errors == []

    def test_batches_that_train_nothing_say_so(self, fresh, tokenizers) -> None:
        """Every example emptied: the collator's rows of length 0, told by a notice (no table);
        a padding-free batch of one token: no label is left after the shift, as the library's
        labels show; one more token and the notice goes."""
        page, errors = fresh()
        eos = tokenizers["eos"]
        page.locator('input[data-field="appendEos"]').uncheck()
        for i in (0, 1):
            page.locator(f'input[data-field="ids"][data-index="{i}"]').fill("")
        expected = library_padded(
            {"examples": [[], []], "padding_side": "right", "pad_to_multiple_of": None},
            eos,
            mlm=False,
        )
        assert expected["input_ids"] == [[], []]
        assert _keys(page) == ["emptyBatchNotice"]
        assert "returns 2 rows of length 0" in page.locator(".lmx-notices li").inner_text()
        assert page.locator(".lmx-row").count() == 0
        # Padding-free, one example of one token: its only label is -100, nothing to train.
        page.locator('button[data-action="reset"][data-index="0"]').click()
        page.locator('input[data-field="on"][data-index="1"]').uncheck()
        page.locator('input[data-field="collator"][value="flattening"]').check()
        ids = page.locator('input[data-field="ids"][data-index="0"]')
        first = int(ids.input_value().split()[0])
        ids.fill(str(first))
        flat = DataCollatorWithFlattening()([{"input_ids": [first]}])
        assert flat["labels"].tolist() == [[-100]]
        assert "noTargetNotice" in _keys(page)
        page.locator('button[data-action="repeat"][data-index="0"]').click()
        flat = DataCollatorWithFlattening()([{"input_ids": [first, first]}])
        assert flat["labels"].tolist() == [[-100, first]]
        assert "noTargetNotice" not in _keys(page)
        # Causal, pad = EOS, each example its EOS alone: every label is -100.
        page.locator('input[data-field="collator"][value="clm"]').check()
        page.locator('input[data-field="appendEos"]').check()
        page.locator('input[data-field="on"][data-index="1"]').check()
        for i in (0, 1):
            page.locator(f'input[data-field="ids"][data-index="{i}"]').fill("")
        expected = library_padded(
            {
                "examples": [[eos.eos_token_id], [eos.eos_token_id]],
                "padding_side": "right",
                "pad_to_multiple_of": None,
            },
            eos,
            mlm=False,
        )
        assert expected["labels"] == [[-100], [-100]]
        assert "noTargetNotice" in _keys(page)
        assert _row_ids(page, 0, "labels") == expected["labels"][0]
        page.close()
        assert errors == []

    def test_left_padding_targets_are_the_losss(self, fresh, tokenizers) -> None:
        """Left padding in training: the first real token of a shorter row keeps its label, and
        transformers' causal LM loss scores it at the padding position before it (a notice says
        so, with the count of such rows); an emptied example's EOS is such a target too."""
        page, errors = fresh()
        pad = tokenizers["pad"]
        page.locator('input[data-field="pad"][value="pad"]').check()
        page.locator('input[data-field="side"][value="left"]').check()
        page.locator('input[data-field="on"][data-index="1"]').uncheck()
        page.locator('input[data-field="on"][data-index="2"]').check()  # "    return x"
        lengths = [
            len(page.locator(f'input[data-field="ids"][data-index="{i}"]').input_value().split())
            for i in (0, 2)
        ]
        labels = [_row_ids(page, r, "labels") for r in (0, 1)]
        masks = [_row_ids(page, r, "attention_mask") for r in (0, 1)]
        scored = _scored(labels)
        # Rows whose position before their first real token (a pad) is scored by the loss.
        from_pad = [
            r for r in (0, 1) if masks[r].index(1) > 0 and masks[r].index(1) - 1 in scored[r]
        ]
        assert lengths[0] != lengths[1] and len(from_pad) == 1
        assert "padTargetNotice" in _keys(page)
        notice = page.locator('.lmx-notices li[data-notice="padTargetNotice"]').inner_text()
        assert notice.startswith("Left padding: in 1 row the first real token")
        # Emptied, with EOS appended: that EOS is scored at the pad before it.
        page.locator('input[data-field="ids"][data-index="2"]').fill("")
        labels = [_row_ids(page, r, "labels") for r in (0, 1)]
        width = len(labels[1])
        assert labels[1][-1] == pad.eos_token_id and width - 2 in _scored(labels)[1]
        assert "emptyEosTargetNotice" in _keys(page) and "emptyEosNotice" not in _keys(page)
        # Right padding: the EOS comes first in its row, never scored.
        page.locator('input[data-field="side"][value="right"]').check()
        labels = [_row_ids(page, r, "labels") for r in (0, 1)]
        assert _scored(labels)[1] == []
        assert "emptyEosNotice" in _keys(page) and "padTargetNotice" not in _keys(page)
        page.close()
        assert errors == []

    def test_skip_link_reaches_the_explorer(self, fresh) -> None:
        """From the top of the page, the second Tab stop is a link to the explorer; following it
        puts the focus on the first control."""
        page, errors = fresh()
        page.locator("body").focus()
        presses = 0
        while not page.evaluate("document.activeElement.matches('a.lmx-skip')"):
            page.keyboard.press("Tab")
            presses += 1
            assert presses <= 2, "the skip link should be the second Tab stop at most"
        assert page.evaluate("document.activeElement.textContent") == "Skip to the batch explorer"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.matches('input[data-field=\"collator\"]')")
        page.close()
        assert errors == []

    def test_seed_is_checked_in_the_form(self, fresh) -> None:
        """A negative seed is taken (with a notice of the seed it draws as); a seed that is not
        an integer is refused, naming the seed; Next seed is disabled then."""
        page, errors = fresh()
        page.locator('input[data-field="collator"][value="mlm"]').check()
        seed = page.locator('input[data-field="seed"]')
        seed.fill("-1")
        assert "seedNotice" in _keys(page)
        notice = page.locator('.lmx-notices li[data-notice="seedNotice"]').inner_text()
        assert "18,446,744,073,709,551,615" in notice
        seed.fill("1.5")
        assert "the seed must be an integer" in page.locator(".lmx-status.lmx-error").inner_text()
        assert seed.get_attribute("aria-invalid") == "true"
        assert page.locator('button[data-action="next-seed"]').is_disabled()
        seed.fill("7")
        page.locator('button[data-action="next-seed"]').click()
        assert seed.input_value() == "8" and page.locator(".lmx-status.lmx-error").count() == 0
        page.close()
        assert errors == []

    def test_probabilities_are_checked_in_the_form(self, fresh, tokenizers) -> None:
        """A probability the collator refuses (ValueError in its __post_init__) is refused in the
        form too, naming the argument, in the page's language; the field is marked invalid."""
        bert = tokenizers["mlm"]
        for bad in (
            {"mlm_probability": 1.5},
            {"mask_replace_prob": 0.8, "random_replace_prob": 0.3},
        ):
            with pytest.raises(ValueError):
                DataCollatorForLanguageModeling(bert, **bad)
        for lang, words in (("en", "must not exceed 1"), ("fr", "ne doit pas d\u00e9passer 1")):
            page, errors = fresh(lang)
            page.locator('input[data-field="collator"][value="mlm"]').check()
            status = page.locator(".lmx-status")
            field = page.locator('input[data-field="mlm_probability"]')
            field.fill("1.5")
            assert "mlm_probability" in status.inner_text()
            assert field.get_attribute("aria-invalid") == "true"
            field.fill("0.15")
            assert field.get_attribute("aria-invalid") == "false"
            page.locator('input[data-field="random_replace_prob"]').fill("0.3")
            text = status.inner_text()
            assert "mask_replace_prob + random_replace_prob" in text and words in text
            page.locator('input[data-field="random_replace_prob"]').fill("0.1")
            assert page.locator(".lmx-status.lmx-error").count() == 0
            page.close()
            assert errors == []

    def test_every_preset_link_of_the_site_loads(self, browser_context, server, site) -> None:
        """Each {explorer} link of a note page, in both languages, opens the explorer with its
        configuration in the form (collator, padding side, pad, examples), with no notice
        about the address and no error."""
        links = []
        for lang in ("en", "fr"):
            for html in sorted((site / lang / "notes").glob("*.html")):
                for href in re.findall(
                    r'href="(batch-explorer\.html#config=[^"]+)"', html.read_text("utf-8")
                ):
                    links.append((lang, href.replace("&quot;", '"')))
        assert len(links) >= 8, links  # three exercises and the explorer page, both languages
        for lang, href in links:
            config = json.loads(unquote(href.split("#config=", 1)[1]))
            page, errors = _open(browser_context, f"{server}/{lang}/notes/{href}")
            page.wait_for_selector(".lmx-row")
            assert "presetNotice" not in _keys(page), href
            checked = page.eval_on_selector_all(
                "input:checked", "xs => xs.map(x => [x.dataset.field, x.value])"
            )
            assert ["collator", config["collator"]] in checked, (href, checked)
            if "padding_side" in config:
                assert ["side", config["padding_side"]] in checked, (href, checked)
            if "pad" in config:
                assert ["pad", config["pad"]] in checked, (href, checked)
            on = [
                int(x.get_attribute("data-index"))
                for x in page.locator('input[data-field="on"]:checked').all()
            ]
            assert on == config["examples"], (href, on)
            assert len(page.locator(".lmx-row").all()) == (
                1 if config["collator"] == "flattening" else len(config["examples"])
            )
            page.close()
            assert errors == [], (href, errors)

    @pytest.mark.parametrize(
        ("fragment", "key", "value"),
        [
            ('{"padding_side":"middle"}', "padding_side", '"middle"'),
            ('{"collator":"clm","examples":[0,9]}', "examples", "[0,9]"),
            ('{"mlm_probability":1.5}', "mlm_probability", "1.5"),
            ('{"colator":"mlm"}', "colator", '"mlm"'),
            ("not json", "#config", "not json"),
        ],
    )
    def test_a_preset_it_cannot_take_loads_nothing(
        self, browser_context, server, fragment, key, value
    ) -> None:
        """A bad #config= names the key and the value in a notice; the form keeps every default
        (nothing half-applied); the first change in the form clears the notice."""
        url = f"{server}/en/{PAGE}#config={quote(fragment)}"
        page, errors = _open(browser_context, url)
        page.wait_for_selector(".lmx-row")
        notice = page.locator('.lmx-notices li[data-notice="presetNotice"]')
        assert notice.count() == 1
        assert f"{key} cannot be {value}" in notice.inner_text()
        assert page.locator('input[data-field="collator"][value="clm"]').is_checked()
        assert page.locator('input[data-field="side"][value="right"]').is_checked()
        page.locator('input[data-field="side"][value="left"]').check()
        assert page.locator('.lmx-notices li[data-notice="presetNotice"]').count() == 0
        page.close()
        assert errors == []

    def test_french_interface(self, fresh) -> None:
        """On the French site the interface is French: legends, notices, headings."""
        page, errors = fresh("fr")
        text = page.locator(".lmx-explorer").inner_text()
        assert "Assembleur de données" in text and "Le lot" in text and "Remplissage" in text
        assert re.search(r"\d+ (jeton EOS réel|jetons EOS réels) sans étiquette", text)
        for english in ("Examples", "The batch", "Padding side", "Read more", "Row 1"):
            assert english not in text
        skip = page.locator("a.lmx-skip").text_content()
        assert skip and "explorer" not in skip.lower().split()
        assert "«\u00a0def\u2423hello_world():<|endoftext|>\u00a0»" in text
        prose = page.eval_on_selector_all(
            ".lmx-explorer :is(legend, label, li, h3, h4, p, caption)",
            "nodes => nodes.map(n => { const c = n.cloneNode(true);"
            " c.querySelectorAll('code, .lmx-tokens').forEach(x => x.remove());"
            " return c.textContent; })",
        )
        assert len(prose) > 20
        assert [
            m for p in prose for m in re.findall(r"\S{0,12}(?<![\u00a0\u202f])[:;!?](?=\s|$)", p)
        ] == []
        page.close()
        assert errors == []

    @pytest.mark.parametrize("lang", ["en", "fr"])
    def test_no_sideways_scroll_on_a_phone(self, fresh, lang) -> None:
        """At 375 px wide the page does not scroll sideways; wide tables scroll in their own box."""
        page, _ = fresh(lang)
        page.set_viewport_size({"width": 375, "height": 800})
        for collator in ("clm", "flattening", "mlm"):
            page.locator(f'input[data-field="collator"][value="{collator}"]').focus()
            page.keyboard.press("Space")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (collator, overflow)
        page.close()

    def test_mlm_outcomes_and_labels_are_not_told_by_colour_alone(self, fresh) -> None:
        """MLM rows name each draw (mask / random / unchanged) in text; -100 and trained labels
        differ in style."""
        page, _ = fresh()
        _tab_to(page, 'input[data-field="collator"]')
        page.keyboard.press("ArrowUp")
        _tab_to(page, 'input[data-field="mlm_probability"]')
        page.keyboard.press("Control+a")
        page.keyboard.type("1")
        drawn = page.locator("td.lmx-drawn").all_inner_texts()
        assert drawn and set(drawn) <= {"mask", "random", "unchanged"}
        styles = page.evaluate("""() => [".lmx-ignored", ".lmx-trained"].map(s => {
            const st = getComputedStyle(document.querySelector("td" + s));
            return [st.fontStyle, st.fontWeight, st.borderTopStyle, st.outlineStyle]; })""")
        assert styles[0] != styles[1]
        page.close()


class TestAxe:
    @pytest.mark.parametrize("lang", ["en", "fr"])
    @pytest.mark.parametrize("theme", ["light", "dark"])
    def test_explorer_has_no_axe_violation(
        self, browser_context, server, axe_source, lang, theme
    ) -> None:  # noqa: F811
        """axe-core finds no violation of any impact in the explorer, for each collator."""
        page, _ = _open(browser_context, f"{server}/{lang}/index.html")
        page.evaluate(f"localStorage.setItem('theme', '{theme}')")
        page.goto(f"{server}/{lang}/{PAGE}", wait_until="networkidle")
        page.add_script_tag(content=axe_source)
        for collator in ("clm", "flattening", "mlm"):
            page.locator(f'input[data-field="collator"][value="{collator}"]').check()
            violations = page.evaluate("""async () =>
                (await axe.run(document.querySelector('.lmnotes-explorer')))
                .violations.map(v => v.id + ': ' + v.nodes.length)""")
            assert violations == [], (collator, violations)
        page.close()
