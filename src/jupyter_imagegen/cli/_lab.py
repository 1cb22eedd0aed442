"""``imagegen lab``: JupyterLab on a notebook, on the bundled emulator when no credentials are set.

The launcher owns the server's port and token so it can print the one URL that opens the notebook
(Jupyter's own log only names ``/lab``), once the server answers.

Without a notebook argument it opens a working copy of the shipped quickstart in the user's own
folder (``~/imagegen-notebooks`` unless ``--workdir`` says otherwise): JupyterLab autosaves
outputs into the notebook it opens, and a clone of the repository must stay as it was.
"""

from __future__ import annotations

import importlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from .._exceptions import ConfigurationError
from ._foreground import bind_error, check_port_free, emulator_unless_credentials, run_in_foreground

__all__ = [
    "SHIPPED_NOTEBOOKS",
    "default_workdir",
    "notebook_url",
    "run_lab",
    "wait_until_answering",
    "working_copy",
]

DEFAULT_PORT = 8888
# The examples a clone ships; the first is the one that opens.
SHIPPED_NOTEBOOKS = ("quickstart.ipynb", "classroom.ipynb")
SHIPPED_FOLDER = Path("notebooks")
# JupyterLab's first start (building its workspace, loading extensions) can be slow on a small machine.
STARTUP_SECONDS = 180.0


def notebook_url(port: int, notebook: Path, token: str) -> str:
    """The URL that opens ``notebook`` in JupyterLab; Jupyter serves a file argument's folder."""
    page = f"lab/tree/{quote(notebook.name)}" if notebook.is_file() else "lab"
    return f"http://127.0.0.1:{port}/{page}?token={quote(token)}"


def _pick_port() -> int:
    """8888 as Jupyter users expect, else the next free port (another server may hold 8888)."""
    for port in range(DEFAULT_PORT, DEFAULT_PORT + 50):
        if bind_error(port) is None:
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


def default_workdir() -> Path:
    """Where working copies of the shipped notebooks go: a folder of the user's, outside any clone."""
    return Path.home() / "imagegen-notebooks"


def working_copy(workdir: Path) -> tuple[Path, list[str]]:
    """Copy the shipped notebooks into ``workdir``, never over a copy that is already there (it
    is the user's work now); the quickstart's path and the names that were copied this time."""
    source = SHIPPED_FOLDER / SHIPPED_NOTEBOOKS[0]
    if not source.is_file():
        raise ConfigurationError(
            f"{source} not found: run imagegen lab from the repository's folder, "
            "or name a notebook or folder (imagegen lab my.ipynb)."
        )
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        copied = []
        for name in SHIPPED_NOTEBOOKS:
            shipped, copy = SHIPPED_FOLDER / name, workdir / name
            if shipped.is_file() and not copy.exists() and not copy.is_symlink():
                shutil.copyfile(shipped, copy)
                copied.append(name)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the working copy in {workdir}: {exc.strerror or exc}; "
            "choose another folder with --workdir DIR."
        ) from None
    return workdir / SHIPPED_NOTEBOOKS[0], copied


def wait_until_answering(server: subprocess.Popen[bytes], port: int, path: str = "/api") -> bool:
    """True once the server answers on ``port`` (any status); False if it exits or never answers."""
    import httpx

    deadline = time.monotonic() + STARTUP_SECONDS
    while server.poll() is None and time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
            return True
        except httpx.TransportError:
            time.sleep(0.3)
    return False


def run_lab(
    notebook: str | None = None,
    port: int | None = None,
    open_browser: bool = True,
    workdir: str | None = None,
) -> int:
    """Run JupyterLab in the foreground until Ctrl-C or SIGTERM; the process exit status.

    ``notebook`` None opens a working copy of the shipped quickstart in ``workdir``; a named
    notebook or folder opens as it is (it is the user's own).
    """
    _check_installed()
    if port:
        check_port_free(port)
    if notebook is None:
        folder = Path(workdir).expanduser() if workdir else default_workdir()
        path, copied = working_copy(folder)
        kept = "copied the shipped notebooks there" if copied else "your copy there is kept as it is"
        print(
            f"Working folder: {folder} ({kept}; the repository's notebooks/ folder is never written).",
            flush=True,
        )
    else:
        path = Path(notebook)
        if not path.exists():
            raise ConfigurationError(
                f"{notebook} not found: run imagegen lab from the repository's folder, "
                "or name a notebook or folder (imagegen lab my.ipynb)."
            )
    notebook = str(path)
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
        if wait_until_answering(lab, port):
            print(f"\nJupyterLab is running. Open the notebook at:\n    {notebook_url(port, path, token)}\n")
            print("Press Ctrl-C to stop.", flush=True)

    return run_in_foreground(lab, emulator, started)
