"""marimo: the example notebook runs top to bottom without credentials (on an emulator of its own,
with the offline banner), and images show as images in marimo's output. (The panel itself is
driven in Chromium under ``marimo run`` in tests/browser/test_marimo_browser.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_imagegen.emulator import Emulator

pytest.importorskip("marimo")  # only checks: marimo itself runs in child processes

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "marimo_quickstart.py"

_RUN = """
import json, runpy, sys
import marimo as mo
app = runpy.run_path(sys.argv[1])["app"]
outputs, defs = app.run()
print(json.dumps({
    "emulator": repr(defs["emulator"]),
    "offline": defs["offline"],
    "banner": [mo.as_html(o).text for o in outputs if o is not None and "OFFLINE" in mo.as_html(o).text],
    "fox": repr(defs["fox"]),
    "fox_html": mo.as_html(defs["fox"]).text[:200],
    "panel": repr(defs["panel_widget"]),
}))
"""


@pytest.mark.slow
def test_the_example_notebook_runs_without_credentials_on_its_own_emulator(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env |= {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env |= {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(NOTEBOOK)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["emulator"].startswith("<Emulator http://127.0.0.1:")
    assert found["offline"] is True
    assert len(found["banner"]) == 1 and "labelled test patterns" in found["banner"][0]
    assert found["fox"].startswith("<GeneratedImage openai/gpt-image-1.5 1024x1024")
    assert "data:image/jpeg;base64," in found["fox_html"]
    assert found["panel"].startswith("<ImageGenPanel model='openai/gpt-image-1.5'")


_SHOW = """
import json
import marimo as mo
from jupyter_imagegen import generate, generate_many
image = generate("a red fox", size="1024x1024", quality="low")
results = generate_many(["a fox", "an <owl>"], size="1024x1024", quality="low")
print(json.dumps({
    "mime": image._mime_()[0],
    "image": mo.as_html(image).text,
    "results": mo.as_html(results).text,
    "list": mo.as_html(results.images).text,
}))
"""


def test_images_and_results_show_as_images_in_marimo(emulator_env: Emulator, tmp_path: Path) -> None:
    # In a process of its own: marimo's display installs its own widget comms, for the process.
    done = subprocess.run(
        [sys.executable, "-c", _SHOW], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["mime"] == "image/jpeg"
    assert "data:image/jpeg;base64," in shown["image"]
    assert shown["results"].count("data:image/jpeg;base64,") == 2
    assert "&lt;owl&gt;" in shown["results"] and "<owl>" not in shown["results"]  # prompts are escaped
    # A plain list of images shows each as an image (marimo's own list display).
    assert shown["list"].count("data:image/jpeg;base64,") == 2
