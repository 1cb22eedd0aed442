"""A comparison from the control panel in real JupyterLab, in Debian's Chromium, on the emulator:
tick "compare" beside the model and the quality, pick two of each, Generate, and the four images
arrive as one labelled matrix with their times and costs; "copy as code" gives the cell."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_support import axe_violations, contrast_failures, describe
from browser_support import Servers
from test_panel_browser import expect, panel_errors, run_cell, shot, show_panel

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GPT, GPT2 = "openai/gpt-image-1.5", "openai/gpt-image-2"


def test_two_models_by_two_qualities_arrive_as_one_labelled_matrix(page: Any, servers: Servers) -> None:
    panel = show_panel(page, servers, "compare.ipynb", ["len(panel.images), len(panel._comparisons)"])
    panel.locator(".jig-prompt").fill("a lighthouse at dusk")

    # The model: "compare" turns its list into a checkbox per model, the form's model ticked.
    panel.locator(".jig-row .jig-compare").click()
    models = panel.locator(".jig-row .jig-compare-choices")
    expect(models.locator(f"input[data-value='{GPT}']")).to_be_checked()
    expect(panel.locator(".jig-reason")).to_have_text(
        "Tick two or more values of model to compare (or untick its compare)."
    )
    models.locator(f"input[data-value='{GPT2}']").click()
    expect(models.locator(f"input[data-value='{GPT2}']")).to_be_checked()

    # The quality: the same beside its toggles, starting from the form's "low".
    quality = panel.locator("[data-param='quality']")
    quality.locator(".jig-compare").click()
    expect(quality.locator("input[data-value='low']")).to_be_checked()
    quality.locator("input[data-value='high']").click()
    expect(quality.locator("input[data-value='high']")).to_be_checked()
    expect(panel.locator(".jig-reason")).to_contain_text("Compares 2 model x 2 quality: 4 images")

    panel.locator(".jig-generate").click()
    matrix = panel.locator(".jig-matrix")
    expect(matrix).to_have_count(1)
    thumbs = matrix.locator(".jig-matrix-cell img.jig-thumb")
    expect(thumbs).to_have_count(4)
    for index in range(4):
        expect(thumbs.nth(index)).to_have_js_property("complete", True)
        assert thumbs.nth(index).evaluate("img => img.naturalWidth") > 0
    expect(panel.locator(".jig-card")).to_have_count(0)  # the images are in the matrix, once
    expect(matrix.locator("tbody th")).to_have_text([GPT, GPT2])
    expect(matrix.locator("thead th")).to_have_text(["quality=low", "quality=high"])
    for index in range(4):
        expect(matrix.locator(".jig-matrix-cell").nth(index)).to_have_attribute("data-state", "done")
    labels = [cell.get_attribute("data-labels") for cell in matrix.locator(".jig-matrix-cell").all()]
    assert labels == [f"{m} · quality={q}" for m in (GPT, GPT2) for q in ("low", "high")]
    captions = matrix.locator(".jig-matrix-caption").all_inner_texts()
    assert all(re.fullmatch(r"\d+\.\d s · (~\$\d\.\d{4}|cost unknown)", text) for text in captions), captions
    expect(matrix.locator(".jig-matrix-footer")).to_contain_text("4 images · 4 generated")
    shot(page, "lab-compare")
    # The compare choices and the matrix are for everyone: labelled, named cells, AA contrast.
    found = axe_violations(page)
    assert found == [], describe(found)
    assert contrast_failures(page) == []

    # Copy as code: the equivalent cell, every compared value in it.
    matrix.locator("[data-action='code-comparison']").click()
    code = panel.locator(".jig-code-dialog pre")
    expect(code.last).to_contain_text(f"%%imagegen -m {GPT},{GPT2} -q low,high\na lighthouse at dusk")
    expect(panel.locator(".jig-code-notes")).to_contain_text("size is left out")
    shot(page, "lab-compare-code")
    panel.locator(".jig-overlay .jig-close").click()

    # A cell's settings reused: the form takes that one combination, compared no more.
    matrix.locator(".jig-matrix-cell").nth(3).locator("[data-action='reuse']").click()
    expect(panel.locator(".jig-model")).to_have_value(GPT2)
    expect(quality.locator(".jig-toggle.jig-on")).to_have_text("high")
    expect(panel.locator(".jig-compare:checked")).to_have_count(0)

    cell = run_cell(page, 1)
    expect(cell.locator(".jp-OutputArea-output")).to_contain_text("(4, 1)")
    assert panel_errors(page) == []
