"""``imagegen app``: the control panel alone, as a web page served by Voilà, for people who never
write code (a workshop, a classroom).

Voilà runs a one-cell notebook in a kernel of its own and shows only its outputs: the panel and,
when images come from the local emulator, a banner saying so. The API token stays in the
kernel's environment; the page gets the widget state, which never holds it. The page itself needs
Jupyter's login token (``JUPYTER_TOKEN``, else a random one), printed in the URL that opens it, as
``imagegen lab`` does: another user of the machine cannot generate on the owner's credentials.
"""

from __future__ import annotations

import os
import pathlib
import secrets
import subprocess
import sys
import tempfile
from typing import Any
from urllib.parse import quote

from .._exceptions import ConfigurationError
from ._foreground import check_port_free, emulator_unless_credentials, run_in_foreground
from ._lab import wait_until_answering

__all__ = ["APP_CELL", "offline_banner_html", "serve_app"]

OFFLINE_TEMPLATE = "imagegen-offline"

APP_CELL = """\
from IPython.display import HTML, display
from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.cli._app import offline_banner_html

banner = offline_banner_html()
if banner:
    display(HTML(banner))
display(ImageGenPanel())
"""


def offline_banner_html() -> str:
    """A loud banner for the page when images come from the local emulator; "" otherwise."""
    from ..client import uses_local_service

    if not uses_local_service():
        return ""
    return (
        '<div role="note" style="border:3px solid #b71c1c;background:#fff3e0;color:#000;'
        'padding:8px 12px;margin:8px 0;font:600 14px/1.4 system-ui,sans-serif">'
        "OFFLINE MODE: images come from the local Cloudflare emulator. They are labelled test "
        "patterns, not model output.</div>"
    )


def _notebook(folder: pathlib.Path) -> pathlib.Path:
    import json

    cell: dict[str, Any] = {
        "id": "panel",
        "cell_type": "code",
        "metadata": {},
        "outputs": [],
        "execution_count": None,
        "source": APP_CELL,
    }
    notebook: dict[str, Any] = {
        "cells": [cell],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "title": "Image generation",
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = folder / "imagegen.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def _template_without_cdn(folder: pathlib.Path, env: dict[str, str]) -> list[str]:
    """Voilà's ``lab`` page links Font Awesome from a CDN: offline (a classroom, a train) that
    fails in the console, and the page should fetch nothing from outside. This writes a copy of
    the page without those links as a template of its own, based on ``lab``; the arguments that
    select it ([] when Voilà's page is not where it was, and Voilà's own page is served)."""
    from jupyter_core.paths import jupyter_path

    pages = [pathlib.Path(root) / "index.html.j2" for root in jupyter_path("voila", "templates", "lab")]
    page = next((p for p in pages if p.is_file()), None)
    if page is None:
        return []
    kept = [line for line in page.read_text(encoding="utf-8").splitlines(True) if "://cdn." not in line]
    template = folder / "share" / "voila" / "templates" / OFFLINE_TEMPLATE
    template.mkdir(parents=True)
    (template / "index.html.j2").write_text("".join(kept), encoding="utf-8")
    (template / "conf.json").write_text('{"base_template": "lab"}', encoding="utf-8")
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(folder / "share"), env.get("JUPYTER_PATH")]))
    return [f"--template={OFFLINE_TEMPLATE}"]


def serve_app(*, port: int, open_browser: bool, theme: str) -> int:
    """Serve the panel with Voilà until Ctrl-C; with no credentials, on an in-process emulator,
    said loudly in the terminal and on the page."""
    import importlib.util

    if importlib.util.find_spec("voila") is None:
        raise ConfigurationError("imagegen app needs Voilà: pip install 'jupyter-imagegen[app]'.")
    check_port_free(port)
    env = dict(os.environ)
    # Through the environment, never the command line (which other users can read): with
    # auto_token, Voilà's identity provider takes JUPYTER_TOKEN.
    token = env.get("JUPYTER_TOKEN") or secrets.token_urlsafe(24)
    env["JUPYTER_TOKEN"] = token
    emulator = emulator_unless_credentials(env)
    with tempfile.TemporaryDirectory(prefix="imagegen-app-") as folder:
        notebook = _notebook(pathlib.Path(folder))
        command = [sys.executable, "-m", "voila", str(notebook), f"--port={port}", f"--theme={theme}"]
        command += _template_without_cdn(pathlib.Path(folder), env)
        command += ["--Voila.ip=127.0.0.1", "--Voila.port_retries=0", "--Voila.auto_token=True"]
        command += [] if open_browser else ["--no-browser"]
        voila = subprocess.Popen(command, env=env, cwd=folder)

        def started() -> None:
            if wait_until_answering(voila, port, "/"):
                url = f"http://127.0.0.1:{port}/?token={quote(token)}"
                print(f"\nThe image generation page is running. Open it at:\n    {url}\n", flush=True)
                print("Press Ctrl-C to stop.", flush=True)

        return run_in_foreground(voila, emulator, started)
