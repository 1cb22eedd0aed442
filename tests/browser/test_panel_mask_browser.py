"""The panel's mask in real JupyterLab, in Debian's Chromium, on the emulator: choosing the
inpainting model shows a labelled "Mask" chooser, an input image and a mask go in through the
page's file inputs (axe-core finds nothing serious), Generate makes a gallery card, and the
emulator received the mask; a model that takes no mask hides the chooser again."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from axe_support import axe_violations, describe
from browser_support import LOCAL, Servers
from PIL import Image
from test_panel_browser import expect, open_notebook, panel_errors, run_cell, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INPAINTING = "@cf/runwayml/stable-diffusion-v1-5-inpainting"


def emulator_requests(servers: Servers) -> list[dict[str, Any]]:
    """What the emulator (another process) received: each API request's path and input names."""
    request = urllib.request.Request(
        f"{servers.emulator_url}/__emulator__/requests",
        headers={"authorization": f"Bearer {servers.emulator_token}"},
    )
    with LOCAL.open(request, timeout=10) as answer:
        found: list[dict[str, Any]] = json.load(answer)["requests"]
    return found


def test_an_inpainting_mask_goes_from_the_page_to_the_service(
    page: Any, servers: Servers, tmp_path: Path
) -> None:
    servers.write_notebook(
        "mask.ipynb",
        ["from jupyter_imagegen import ImageGenPanel\nImageGenPanel(params={'size': '256x256'})"],
    )
    open_notebook(page, servers, "mask.ipynb")
    run_cell(page, 0)
    panel = page.locator(".jig-panel")
    panel.wait_for()
    mask_box = panel.locator(".jig-mask")
    expect(mask_box).to_be_hidden()  # the default model takes no mask

    panel.locator(".jig-model").select_option(INPAINTING)
    expect(mask_box).to_be_visible()
    chooser = panel.get_by_label("Mask", exact=True)  # labelled, a native (keyboard-usable) file input
    expect(chooser).to_be_enabled()
    expect(chooser).to_have_accessible_description("marks what to repaint in the input image")

    photo, mask = tmp_path / "photo.png", tmp_path / "door-mask.png"
    Image.new("RGB", (64, 64), "orange").save(photo)
    Image.new("L", (64, 64), 255).save(mask)
    panel.locator(".jig-file").set_input_files(str(photo))
    expect(panel.locator(".jig-inputs-list:not(.jig-mask-list) .jig-input img")).to_have_count(1)
    chooser.set_input_files(str(mask))
    expect(mask_box.locator(".jig-input img")).to_have_attribute("title", "door-mask.png")
    expect(mask_box.get_by_role("button", name="Remove the mask door-mask.png")).to_be_visible()

    panel.locator(".jig-prompt").fill("a red door")
    panel.locator(".jig-generate").click()
    expect(panel.locator(".jig-card")).to_have_count(1)
    expect(panel.locator(".jig-job").first).to_have_attribute("data-state", "done")
    shot(page, "lab-inpainting-mask")
    found = axe_violations(page)  # the chooser, its note and the preview with its remove button
    assert found == [], f"axe-core, with a mask set:\n{describe(found)}"
    (sent,) = [r for r in emulator_requests(servers) if INPAINTING in r["path"]]
    assert sent["status"] == 200 and {"prompt", "image_b64", "mask"} <= set(sent["inputs"])

    # A model without a mask hides the chooser and drops the mask; the first model brings it back.
    panel.locator(".jig-model").select_option("openai/gpt-image-1.5")
    expect(mask_box).to_be_hidden()
    panel.locator(".jig-model").select_option(INPAINTING)
    expect(mask_box.locator(".jig-input img")).to_have_attribute("title", "door-mask.png")
    mask_box.get_by_role("button", name="Remove the mask door-mask.png").click()
    expect(mask_box.locator(".jig-input")).to_have_count(0)
    assert panel_errors(page) == []
