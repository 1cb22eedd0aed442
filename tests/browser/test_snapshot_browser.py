"""A notebook viewed without its kernel: a panel that made 3 images, run by a real kernel
(nbclient) against the emulator, saved, converted with ``jupyter nbconvert --to html`` and opened
in Chromium with the network off, shows the 3 thumbnails and their prompts; the saved snapshot
stays within its documented bound per image."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from browser_support import ARTIFACTS
from nbclient import NotebookClient

from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_snapshot import SNAPSHOT_BYTES_PER_IMAGE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROMPTS = ["a fox in the snow", 'an owl & a <cat> "at dusk"', "a lighthouse"]
CELLS = [
    "from jupyter_imagegen import ImageGenPanel\n"
    "panel = ImageGenPanel(params={'size': '1024x1024', 'quality': 'low'})\n"
    "panel",
    f"for prompt in {PROMPTS!r}:\n    panel.prompt = prompt\n    panel.generate()\nawait panel.wait()",
]


def snapshot_outputs(notebook: nbformat.NotebookNode) -> list[dict[str, Any]]:
    return [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "jig-snapshot" in output.get("data", {}).get("text/html", "")
    ]


def execute(cells: list[str], path: Path) -> nbformat.NotebookNode:
    """Run ``cells`` in a real kernel (it inherits the emulator's settings) and save them at ``path``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    nbformat.write(notebook, path)
    return notebook


def test_a_saved_panel_shows_its_images_without_a_kernel(
    emulator_env: Emulator, tmp_path: Path, browser: Any
) -> None:
    # The panel alone, then the panel and its 3 images: the difference is what the images add.
    execute(CELLS[:1], tmp_path / "alone.ipynb")
    alone = tmp_path / "alone.ipynb"
    notebook = execute(CELLS, tmp_path / "panel.ipynb")
    saved = tmp_path / "panel.ipynb"

    (snapshot,) = snapshot_outputs(notebook)
    assert snapshot["data"]["text/html"].count("<img ") == 3
    assert snapshot["data"]["text/plain"].startswith("Image generation panel: the newest 3 of 3 images")
    assert "&lt;cat&gt; &quot;at dusk&quot;" in snapshot["data"]["text/html"]  # a prompt never becomes markup
    # What the snapshot adds to the .ipynb: within its bound for each image it shows.
    assert len(json.dumps(snapshot)) <= 3 * SNAPSHOT_BYTES_PER_IMAGE
    growth = saved.stat().st_size - alone.stat().st_size - len(json.dumps(CELLS[1]))
    assert growth <= 3 * SNAPSHOT_BYTES_PER_IMAGE

    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(saved)],
        check=True,
        capture_output=True,
    )
    page_file = tmp_path / "panel.html"
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        thumbs = page.locator(".jig-snapshot img")
        assert thumbs.count() == 3
        for index in range(3):
            assert thumbs.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
        captions = page.locator(".jig-snapshot figcaption").all_inner_texts()
        assert sorted(captions) == sorted(PROMPTS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "snapshot-nbconvert.png"), full_page=True)
    finally:
        context.close()
