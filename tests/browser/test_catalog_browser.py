"""The panel in real JupyterLab, in Debian's Chromium, offering a model that only the account's
live catalog knows (the emulator started with ``--models DIR``), with controls from its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import Servers
from test_panel_browser import expect, panel_errors, shot, show_panel

from catalog_support import NEW_MODEL, write_model_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def emulator_args(folder: Path) -> list[str]:
    return ["--models", str(write_model_dir(folder / "models"))]


def test_the_panel_offers_a_live_catalog_model_and_generates_with_it(page: Any, servers: Servers) -> None:
    panel = show_panel(page, servers, "catalog.ipynb", [])
    choice = panel.locator(".jig-model")
    expect(choice.locator(f"option[value='{NEW_MODEL}']")).to_have_count(1)
    choice.select_option(NEW_MODEL)
    expect(panel.locator("[data-param='steps'][data-kind='slider']")).to_be_visible()
    expect(panel.locator("[data-param='palette']")).to_be_visible()
    expect(panel.locator("[data-param='quality']")).to_have_count(0)
    panel.locator(".jig-prompt").fill("a pixel-art lighthouse")
    panel.locator(".jig-generate").click()
    expect(panel.locator(".jig-card")).to_have_count(1)
    expect(panel.locator(".jig-job").first).to_have_attribute("data-state", "done")
    shot(page, "lab-catalog-model")
    assert panel_errors(page) == []
