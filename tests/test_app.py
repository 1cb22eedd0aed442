"""``imagegen app``'s notebook, run by a real kernel as Voilà runs it: the panel and, on the
emulator, the offline banner; the token in neither. (The served app is tested in the browser.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_imagegen.cli import main
from jupyter_imagegen.cli._app import _notebook, offline_banner_html
from jupyter_imagegen.emulator import Emulator


def test_the_app_notebook_shows_the_banner_and_the_panel_without_the_token(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    notebook = nbformat.read(_notebook(tmp_path), as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert "OFFLINE MODE" in outputs[0]["data"]["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in outputs[1]["data"]
    assert emulator_env.token not in json.dumps(outputs)
    assert os.environ["CLOUDFLARE_API_TOKEN"] == emulator_env.token  # the kernel had it


def test_no_banner_on_cloudflare(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "https://api.cloudflare.com/client/v4")
    assert offline_banner_html() == ""
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "http://127.0.0.1:8787/client/v4")
    assert "OFFLINE MODE" in offline_banner_html()


def test_app_rejects_an_unknown_theme(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["app", "--theme", "blue"])
    assert exited.value.code == 2
    assert "invalid choice: 'blue'" in capsys.readouterr().err
