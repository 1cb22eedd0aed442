"""The README's main job: `imagegen lab` opens JupyterLab on the quickstart notebook, on the
emulator with a loud banner when no credentials are set; the magic repeats the banner."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_imagegen.emulator import Emulator
from magic_support import run

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_lab_without_credentials_serves_the_quickstart_on_the_emulator(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_TOKEN="main-job-test",
    )
    log = (tmp_path / "lab.log").open("w+")
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_imagegen",
            "lab",
            f"--workdir={tmp_path / 'work'}",
            "--no-browser",
            f"--port={port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert lab.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, "JupyterLab did not start"
            time.sleep(0.5)
        # The launcher prints the URL that opens the notebook once the server answers.
        url = f"http://127.0.0.1:{port}/lab/tree/quickstart.ipynb?token=main-job-test"
        while url not in Path(log.name).read_text():
            assert lab.poll() is None and time.monotonic() < deadline, Path(log.name).read_text()
            time.sleep(0.2)
        output = Path(log.name).read_text()
        assert "OFFLINE MODE" in output and "EMULATOR" in output
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "JupyterLab" in page.text
        notebook = httpx.get(
            f"http://127.0.0.1:{port}/api/contents/quickstart.ipynb",
            params={"token": "main-job-test", "content": "0"},
            timeout=5,
        )
        assert notebook.status_code == 200 and notebook.json()["type"] == "notebook"
        assert "Working folder: " + str(tmp_path / "work") in output
        # Save through the server, as JupyterLab's autosave does after Run All: the working copy
        # changes, the repository's notebook does not.
        shipped = (ROOT / "notebooks" / "quickstart.ipynb").read_bytes()
        content = httpx.get(
            f"http://127.0.0.1:{port}/api/contents/quickstart.ipynb",
            params={"token": "main-job-test", "content": "1"},
            timeout=5,
        ).json()["content"]
        content["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
        content["cells"][0]["execution_count"] = 1
        saved = httpx.put(
            f"http://127.0.0.1:{port}/api/contents/quickstart.ipynb",
            params={"token": "main-job-test"},
            json={"type": "notebook", "format": "json", "content": content},
            timeout=10,
        )
        assert saved.status_code == 200, saved.text
        assert (ROOT / "notebooks" / "quickstart.ipynb").read_bytes() == shipped
        assert b'"ran\\n"' in (tmp_path / "work" / "quickstart.ipynb").read_bytes()
    finally:
        lab.send_signal(signal.SIGTERM)
        assert lab.wait(timeout=30) in (130, 0, -signal.SIGTERM)
        log.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/api", timeout=2)


@pytest.mark.parametrize("local", [True, False])
def test_loading_the_magic_says_when_images_come_from_the_emulator(
    local: bool, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url = emulator.base_url if local else "https://api.cloudflare.com/client/v4"
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", base_url)
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    try:
        ran = run(shell, "%load_ext jupyter_imagegen")
        assert ran.error is None
        assert ("OFFLINE MODE" in ran.stdout and base_url in ran.stdout) is local
        assert ("OFFLINE" in ran.stdout) is local
    finally:
        shell.run_line_magic("unload_ext", "jupyter_imagegen")
        InteractiveShell.clear_instance()
