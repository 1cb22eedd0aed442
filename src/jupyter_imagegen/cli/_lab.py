"""``imagegen lab``: JupyterLab on a notebook, on the bundled emulator when no credentials are set.

The launcher owns the server's port and token so it can print the one URL that opens the notebook
(Jupyter's own log only names ``/lab``), once the server answers.
"""

from __future__ import annotations

import importlib
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from .._exceptions import ConfigurationError
from ._foreground import emulator_unless_credentials, run_in_foreground

__all__ = ["notebook_url", "run_lab"]

DEFAULT_PORT = 8888
# JupyterLab's first start (building its workspace, loading extensions) can be slow on a small machine.
STARTUP_SECONDS = 180.0


def notebook_url(port: int, notebook: Path, token: str) -> str:
    """The URL that opens ``notebook`` in JupyterLab; Jupyter serves a file argument's folder."""
    page = f"lab/tree/{quote(notebook.name)}" if notebook.is_file() else "lab"
    return f"http://127.0.0.1:{port}/{page}?token={quote(token)}"


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _pick_port() -> int:
    """8888 as Jupyter users expect, else the next free port (another server may hold 8888)."""
    for port in range(DEFAULT_PORT, DEFAULT_PORT + 50):
        if _port_is_free(port):
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _check_installed() -> None:
    try:
        importlib.import_module("jupyterlab")
    except ImportError:
        raise ConfigurationError(
            "JupyterLab is not installed here: pip install 'jupyter-imagegen[lab]' "
            "(or pip install jupyterlab), then run imagegen lab again."
        ) from None


def _wait_until_answering(lab: subprocess.Popen[bytes], port: int) -> bool:
    """True once the server answers on ``port``; False if it exits or never answers."""
    import httpx

    deadline = time.monotonic() + STARTUP_SECONDS
    while lab.poll() is None and time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api", timeout=2)
            return True
        except httpx.TransportError:
            time.sleep(0.3)
    return False


def run_lab(notebook: str, port: int | None = None, open_browser: bool = True) -> int:
    """Run JupyterLab in the foreground until Ctrl-C or SIGTERM; the process exit status."""
    _check_installed()
    path = Path(notebook)
    if not path.exists():
        raise ConfigurationError(
            f"{notebook} not found: run imagegen lab from the repository's folder, "
            "or name a notebook or folder (imagegen lab my.ipynb)."
        )
    port = port or _pick_port()
    env = dict(os.environ)
    token = env.get("JUPYTER_TOKEN") or secrets.token_urlsafe(24)
    env["JUPYTER_TOKEN"] = token
    emulator = emulator_unless_credentials(env)
    command = [sys.executable, "-m", "jupyter", "lab", notebook, f"--port={port}"]
    # A taken port must fail loudly rather than move, or the printed URL would be wrong.
    command += ["--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0"]
    command += [] if open_browser else ["--no-browser"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines run as root
        command.append("--allow-root")
    lab = subprocess.Popen(command, env=env)

    def started() -> None:
        if _wait_until_answering(lab, port):
            print(f"\nJupyterLab is running. Open the notebook at:\n    {notebook_url(port, path, token)}\n")
            print("Press Ctrl-C to stop.", flush=True)

    return run_in_foreground(lab, emulator, started)
