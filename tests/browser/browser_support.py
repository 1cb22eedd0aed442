"""What the browser tests share: where things are, and the running servers' handle."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
TOKEN = "browser-test-token"  # Jupyter's
API_TOKEN = f"cf-{secrets.token_hex(16)}"  # the image service's: must never reach a notebook
STARTUP_TIMEOUT = 120.0
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1: never via a proxy


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@dataclass
class Servers:
    """The running Jupyter server and emulator, and the folder notebooks are served from."""

    url: str
    root: Path
    emulator_url: str
    emulator_token: str

    def write_notebook(self, name: str, cells: list[str]) -> str:
        notebook = {
            "cells": [
                {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": src}
                for src in cells
            ],
            "metadata": {
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                }
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (self.root / name).write_text(json.dumps(notebook), encoding="utf-8")
        return name

    def read_notebook(self, name: str) -> str:
        return (self.root / name).read_text(encoding="utf-8")

    def page_url(self, name: str, ui: str = "lab") -> str:
        if ui == "notebook":
            return f"{self.url}/notebooks/{name}?token={TOKEN}"
        # A workspace of its own, reset: only this notebook is open, whatever ran before.
        workspace = name.rsplit(".", 1)[0]
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?token={TOKEN}&reset"

    def wait_for_kernel(self, notebook: str, timeout: float = 120.0) -> None:
        """Until the server has a started kernel for ``notebook`` (the page asked for one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with LOCAL.open(f"{self.url}/api/sessions?token={TOKEN}", timeout=10) as answer:
                sessions = json.load(answer)
            for session in sessions:
                kernel = session.get("kernel") or {}
                if session.get("path") == notebook and kernel.get("execution_state") in ("idle", "busy"):
                    return
            time.sleep(0.2)
        raise AssertionError(f"no kernel started for {notebook} within {timeout} s")

    def emulator(self, action: str, payload: dict[str, Any]) -> None:
        control_emulator(self.emulator_url, self.emulator_token, action, payload)


def control_emulator(url: str, token: str, action: str, payload: dict[str, Any]) -> None:
    """One of the emulator's ``/__emulator__/`` control endpoints (latency, faults...)."""
    request = urllib.request.Request(
        f"{url}/__emulator__/{action}",
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
        method="POST",
    )
    with LOCAL.open(request, timeout=10) as answer:
        assert answer.status == 200


def stop_process(process: subprocess.Popen[bytes], grace: float = 20) -> None:
    """SIGTERM (a server then shuts its kernels down), SIGKILL of the group if that hangs for
    ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for_start(what: str, check: Any, process: subprocess.Popen[bytes], log: Path) -> Any:
    """What ``check()`` returns once it is truthy; fails with the log if ``process`` exits first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(Exception):
            found = check()
            if found:
                return found
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within {STARTUP_TIMEOUT} s:\n{log.read_text()[-3000:]}")
