"""The panel in real JupyterLab, in Debian's Chromium, with today's shapes: a multipart FLUX.2
model (its width, height, guidance and seed controls from the shipped form) and a model that
answers three images to one request (three images in the gallery)."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import Servers
from test_panel_browser import expect, open_notebook, panel_errors, run_cell, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMPORT = "from jupyter_imagegen import ImageGenPanel\n"


def panel_for(page: Any, servers: Servers, name: str, construct: str) -> Any:
    servers.write_notebook(name, [IMPORT + construct])
    open_notebook(page, servers, name)
    run_cell(page, 0)
    panel = page.locator(".jig-panel")
    panel.wait_for()
    return panel


def test_a_multipart_flux2_model_shows_its_controls_and_generates(page: Any, servers: Servers) -> None:
    panel = panel_for(
        page,
        servers,
        "flux2.ipynb",
        "ImageGenPanel(model='@cf/black-forest-labs/flux-2-klein-4b', params={'width': 256, 'height': 256})",
    )
    for name in ("width", "height"):
        expect(panel.locator(f"[data-param='{name}'][data-kind='slider']")).to_be_visible()
    for name in ("guidance", "seed"):
        expect(panel.locator(f"[data-param='{name}']")).to_be_visible()
    expect(panel.locator("[data-param='steps']")).to_have_count(0)  # fixed at 4 on klein
    panel.locator(".jig-prompt").fill("a red fox in fresh snow")
    panel.locator(".jig-generate").click()
    expect(panel.locator(".jig-card")).to_have_count(1)
    expect(panel.locator(".jig-job").first).to_have_attribute("data-state", "done")
    shot(page, "lab-flux2-multipart")
    assert panel_errors(page) == []


def test_three_images_of_one_answer_fill_three_gallery_cards(page: Any, servers: Servers) -> None:
    panel = panel_for(
        page,
        servers,
        "qwen.ipynb",
        "ImageGenPanel(model='alibaba/qwen-image-3.0-pro', params={'size': '256x256', 'n': 3})",
    )
    expect(panel.locator("[data-param='size']")).to_be_visible()
    panel.locator(".jig-prompt").fill("three foxes")
    panel.locator(".jig-generate").click()
    expect(panel.locator(".jig-card")).to_have_count(3)
    expect(panel.locator(".jig-job")).to_have_count(1)
    expect(panel.locator(".jig-job").first).to_have_attribute("data-state", "done")
    shot(page, "lab-three-image-answer")
    assert panel_errors(page) == []
