"""The control panel in real JupyterLab and Notebook 7, in Debian's Chromium, on the emulator:
generate and see the image, keyboard shortcut, model switch, enlarge, download, copy as code,
cancel, another cell running while images generate, and no token in the saved notebook."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import API_TOKEN, ARTIFACTS, Servers
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PANEL_CELL = (
    "from jupyter_imagegen import ImageGenPanel\n"
    "panel = ImageGenPanel(params={'size': '256x256', 'quality': 'low'})\n"
    "panel"
)


def expect(locator: Any) -> Any:
    """Playwright's ``expect``, waiting up to a minute: a slow CI machine is not a failure."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=60_000)
    return playwright_expect(locator)


def panel_errors(page: Any) -> list[str]:
    """Uncaught errors thrown by the panel's module (anywidget imports it from a blob: URL);
    Jupyter's own bundles are not under test here."""
    return [error for error in page.page_errors if "blob:" in error or "anywidget" in error]


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_notebook(page: Any, servers: Servers, name: str, ui: str = "lab") -> None:
    page.goto(servers.page_url(name, ui))
    page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.wait_for()
    servers.wait_for_kernel(name)


def run_cell(page: Any, index: int) -> Any:
    """Run one cell as a user does (click it, Shift+Enter). A notebook whose kernel is still
    connecting ignores that or asks which kernel to use (the default is right), so this repeats
    until the cell shows [*] or a number."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    queued = re.compile(r"\[(\*|\d+)\]")
    dialog = page.locator(".jp-Dialog .jp-mod-accept")
    for _ in range(30):
        if dialog.count():
            dialog.first.click()
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        try:
            expect(cell.locator(".jp-InputPrompt")).to_have_text(queued, timeout=2_000)
            return cell
        except AssertionError:
            continue
    raise AssertionError(f"cell {index} never started running")


def show_panel(page: Any, servers: Servers, name: str, cells: list[str], ui: str = "lab") -> Any:
    servers.write_notebook(name, [PANEL_CELL, *cells])
    open_notebook(page, servers, name, ui)
    run_cell(page, 0)
    panel = page.locator(".jig-panel")
    panel.wait_for()
    return panel


def test_generate_and_use_the_gallery_in_jupyterlab(page: Any, servers: Servers, tmp_path: Path) -> None:
    from jupyter_imagegen.client._files import read_provenance

    panel = show_panel(page, servers, "generate.ipynb", ["len(panel.images), panel.images[0].prompt"])
    generate = panel.locator(".jig-generate")
    # A panel that was just opened says nothing of the prompt not yet typed; Generate says why.
    expect(generate).to_be_enabled()
    expect(panel.locator(".jig-reason")).to_have_text("")
    expect(panel.locator(".jig-error")).to_be_hidden()
    generate.click()
    expect(panel.locator(".jig-reason")).to_contain_text("prompt is empty")
    expect(generate).to_be_disabled()
    expect(panel.locator(".jig-variations")).to_have_attribute("max", "8")  # the kernel's limit
    variations = panel.locator(".jig-variations")
    variations.fill("16")
    variations.press("Tab")
    expect(variations).to_have_value("8")  # lowered, and said why
    expect(panel.locator(".jig-variations-note")).to_contain_text("at most 8 variations in the panel")
    variations.fill("1")
    variations.press("Tab")
    expect(panel.locator(".jig-variations-note")).to_have_text("")

    panel.locator(".jig-prompt").fill("a lighthouse at dusk")
    expect(generate).to_be_enabled()
    generate.click()
    expect(panel.locator(".jig-card")).to_have_count(1)
    expect(panel.locator(".jig-job").first).to_have_attribute("data-state", "done")
    thumb = panel.locator(".jig-card .jig-thumb").first
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") > 0
    assert thumb.get_attribute("src").startswith("blob:")  # bytes, not a base64 string
    # The header shows today's use from the usage ledger, labelled as an estimate.
    expect(panel.locator(".jig-spend")).to_contain_text(
        "Today (UTC) on the emulator, not billed: 1 image, ~$"
    )
    expect(panel.locator(".jig-spend")).to_contain_text("estimated")
    shot(page, "lab-generated")

    # Ctrl+Enter in the prompt generates, and does not re-run the cell around the panel.
    prompt_label = page.locator(".jp-Cell").first.locator(".jp-InputPrompt")
    executed = prompt_label.inner_text()
    panel.locator(".jig-prompt").fill("a second lighthouse")
    panel.locator(".jig-prompt").press("Control+Enter")
    expect(panel.locator(".jig-card")).to_have_count(2)
    expect(panel.locator(".jig-card .jig-card-prompt").first).to_have_text("a second lighthouse")
    assert prompt_label.inner_text() == executed

    # Switching the model rebuilds the controls from its schema.
    panel.locator(".jig-model").select_option("@cf/black-forest-labs/flux-1-schnell")
    expect(panel.locator("[data-param='steps'][data-kind='slider']")).to_be_visible()
    expect(panel.locator("[data-param='quality']")).to_have_count(0)
    expect(panel.locator(".jig-inputs .jig-note")).to_contain_text("does not take input images")
    panel.locator(".jig-model").select_option("openai/gpt-image-1.5")
    quality = panel.locator("[data-param='quality'][data-kind='toggle'] .jig-toggle")
    expect(quality).to_have_count(4)
    expect(quality.and_(panel.locator(".jig-on"))).to_have_text("low")  # its setting came back

    # Enlarge: the original replaces the thumbnail.
    panel.locator(".jig-card .jig-thumb").first.click()
    expect(panel.locator(".jig-large")).to_have_attribute("data-original", "true")
    shot(page, "lab-enlarged")
    panel.locator(".jig-overlay .jig-close").click()
    expect(panel.locator(".jig-overlay")).to_be_hidden()

    # Copy as code: the equivalent cell and Python call.
    panel.locator(".jig-card").first.locator("[data-action='code']").click()
    code = panel.locator(".jig-code-dialog pre")
    expect(code.first).to_contain_text("%%imagegen --model openai/gpt-image-1.5")
    expect(code.first).to_contain_text("a second lighthouse")
    expect(code.nth(1)).to_contain_text('image = generate(\n    "a second lighthouse"')
    shot(page, "lab-code")
    panel.locator(".jig-overlay .jig-close").click()

    # Reuse settings restores the form from an older image.
    panel.locator(".jig-card").nth(1).locator("[data-action='reuse']").click()
    expect(panel.locator(".jig-prompt")).to_have_value("a lighthouse at dusk")

    # Upload an image to edit: its bytes travel as a binary buffer; the edit is generated.
    upload = tmp_path / "photo.png"
    Image.new("RGB", (64, 48), "orange").save(upload)
    panel.locator(".jig-file").set_input_files(str(upload))
    expect(panel.locator(".jig-input img")).to_have_count(1)
    expect(panel.locator(".jig-input img")).to_have_attribute("title", "photo.png")
    panel.locator(".jig-prompt").fill("the lighthouse, repainted")
    panel.locator(".jig-generate").click()
    expect(panel.locator(".jig-card")).to_have_count(3)
    panel.locator(".jig-input .jig-icon").click()
    expect(panel.locator(".jig-input")).to_have_count(0)

    # Download the original, provenance embedded.
    with page.expect_download() as download:
        panel.locator(".jig-card").first.locator("[data-action='download']").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "the-lighthouse-repainted.png"
    assert read_provenance(saved)["prompt"] == "the lighthouse, repainted"

    # Python sees the results.
    cell = run_cell(page, 1)
    expect(cell.locator(".jp-OutputArea-output")).to_contain_text("(3, 'the lighthouse, repainted')")

    # Save with the widget state: the panel's state is there, the API token is not.
    page.keyboard.press("Control+s")
    notebook = ""
    for _ in range(100):
        notebook = servers.read_notebook("generate.ipynb")
        if "jupyter_imagegen.notebook._panel.ImageGenPanel" in notebook:
            break
        page.wait_for_timeout(100)
    state = json.loads(notebook)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]
    assert any(
        model["state"].get("_anywidget_id") == "jupyter_imagegen.notebook._panel.ImageGenPanel"
        for model in state["state"].values()
    )
    assert API_TOKEN not in notebook and servers.emulator_token == API_TOKEN
    # Beside the panel, its snapshot for viewers without a kernel: saved with the newest images
    # (updated as they arrived, from outside the cell), hidden while the panel is live.
    outputs = json.loads(notebook)["cells"][0]["outputs"]
    snapshots = ["".join(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {})]
    assert len(snapshots) == 1 and snapshots[0].count("<img ") == 3
    assert "the lighthouse, repainted" in snapshots[0]
    expect(page.locator(".jig-snapshot")).to_be_hidden()

    # Reload the page: the panel asks the kernel for its lists once, and the gallery is back.
    page.reload()
    panel = page.locator(".jig-panel")
    expect(panel.locator(".jig-card")).to_have_count(3)
    expect(panel.locator(".jig-card .jig-card-prompt").first).to_have_text("the lighthouse, repainted")
    expect(panel.locator(".jig-card .jig-thumb").first).to_have_js_property("complete", True)
    expect(panel.locator(".jig-job")).to_have_count(3)
    panel.locator(".jig-card .jig-thumb").nth(2).click()
    expect(panel.locator(".jig-large")).to_have_attribute("data-original", "true")
    assert panel_errors(page) == []


def test_cancel_in_jupyterlab(page: Any, servers: Servers) -> None:
    servers.emulator("latency", {"seconds": 60})
    try:
        panel = show_panel(page, servers, "cancel.ipynb", [])
        panel.locator(".jig-prompt").fill("a very slow fox")
        panel.locator(".jig-generate").click()
        job = panel.locator(".jig-job").first
        expect(job).to_have_attribute("data-state", "running")
        expect(job.locator(".jig-job-state")).to_have_text(re.compile(r"running [1-9]\d* s"))  # live seconds
        shot(page, "lab-running")
        panel.locator(".jig-cancel").click()
        expect(job).to_have_attribute("data-state", "cancelled")
        expect(panel.locator(".jig-cancel")).to_be_disabled()
        expect(panel.locator(".jig-card")).to_have_count(0)
        # It had been sent: the header says it is counted, as the service may bill it.
        expect(panel.locator(".jig-spend")).to_contain_text(
            "1 cancelled after sending, counted (may be billed)"
        )
        shot(page, "lab-cancelled")
    finally:
        servers.emulator("latency", {"seconds": 0})
    assert panel_errors(page) == []


def test_another_cell_finishes_while_images_generate(page: Any, servers: Servers) -> None:
    servers.emulator("latency", {"seconds": 8})
    try:
        panel = show_panel(page, servers, "concurrent.ipynb", ["print('other cell finished')"])
        panel.locator(".jig-prompt").fill("a patient owl")
        panel.locator(".jig-generate").click()
        job = panel.locator(".jig-job").first
        expect(job).to_have_attribute("data-state", "running")
        other = run_cell(page, 1)
        expect(other.locator(".jp-OutputArea-output")).to_contain_text("other cell finished")
        # The cell finished while the request was still in flight.
        assert job.get_attribute("data-state") == "running"
        assert panel.locator(".jig-card").count() == 0
        shot(page, "lab-concurrent-cell")
        expect(panel.locator(".jig-card")).to_have_count(1)
        expect(job).to_have_attribute("data-state", "done")
    finally:
        servers.emulator("latency", {"seconds": 0})
    assert panel_errors(page) == []


def test_generate_in_notebook_7(page: Any, servers: Servers) -> None:
    panel = show_panel(page, servers, "nb7.ipynb", [], ui="notebook")
    panel.locator(".jig-prompt").fill("a lighthouse in Notebook 7")
    panel.locator(".jig-generate").click()
    expect(panel.locator(".jig-card")).to_have_count(1)
    expect(panel.locator(".jig-card .jig-thumb").first).to_have_js_property("complete", True)
    shot(page, "notebook7-generated")
    assert panel_errors(page) == []
