"""``imagegen app``'s notebook, run by a real kernel as Voilà runs it: the panel and, on the
emulator, the offline banner; the token in neither. (The served app is tested in the browser.)"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
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


STARTUP = 180.0  # Voilà's first start on a small machine


def test_the_app_page_needs_the_token_printed_in_its_url(tmp_path: Path) -> None:
    """Another local user reaching the port gets nothing; the printed URL opens the page."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "IMAGEGEN_", "JUPYTER"))}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(tmp_path / name.lower())
    env |= {
        "JUPYTER_PLATFORM_DIRS": "1",
        "IMAGEGEN_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONUNBUFFERED": "1",
    }
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "jupyter_imagegen", "app", f"--port={port}", "--no-browser"]
    app = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        stdout = app.stdout
        assert stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
        url = ""
        while "?token=" not in url:
            url = lines.get(timeout=STARTUP).strip()  # queue.Empty: it never printed a URL with a token
        assert url.startswith(f"http://127.0.0.1:{port}/?token="), url
        token = url.split("?token=", 1)[1]
        assert len(token) >= 24 and token not in " ".join(command)
        with httpx.Client(timeout=60, follow_redirects=False) as http:
            refused = http.get(f"http://127.0.0.1:{port}/")
            assert refused.status_code in (302, 401, 403), refused.status_code
            assert "login" in refused.headers.get("location", "login")
            assert http.get(f"http://127.0.0.1:{port}/?token=wrong").status_code in (302, 401, 403)
            assert http.get(url).status_code == 200
    finally:
        app.terminate()
        app.wait(timeout=60)
