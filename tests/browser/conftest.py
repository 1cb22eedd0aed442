"""Real JupyterLab (and Notebook 7) in Debian's Chromium, on the emulator.

One emulator process and one Jupyter server per test module, both on 127.0.0.1, with a token, a
temporary root folder and temporary Jupyter config/data/runtime/settings folders so nothing
leaks in or out; both are always terminated. Each test writes its own notebook. Screenshots go
to ``test-artifacts/browser/``. Without /usr/bin/chromium the tests skip, except under CI
(``CI=true``), where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    API_TOKEN,
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCAL,
    TOKEN,
    Servers,
    in_ci,
    stop_process,
    wait_for_start,
)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"Debian's Chromium is not at {CHROMIUM} (apt-get install chromium); browser tests need it"
        if in_ci():
            pytest.fail(reason + " and CI=true, so this is an error, not a skip.")
        pytest.skip(reason)
    return CHROMIUM


def _user_settings(folder: Path) -> None:
    """Save widget state in the notebook (to check the token is not in it); no news pop-ups."""
    settings = {
        "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for relative, values in settings.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


@pytest.fixture(scope="module")
def servers(
    chromium: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Servers]:
    base = tmp_path_factory.mktemp("jupyter")
    # A test module may start the emulator with more options (e.g. --models DIR).
    emulator_args: list[str] = getattr(request.module, "emulator_args", lambda folder: [])(base)
    root, home = base / "root", base / "home"
    root.mkdir()
    emulator_log, lab_log = base / "emulator.log", base / "lab.log"
    logs = contextlib.ExitStack()
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_imagegen.emulator",
            "--port",
            "0",
            "--token",
            API_TOKEN,
            *emulator_args,
        ],
        stdout=logs.enter_context(emulator_log.open("wb")),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lab: subprocess.Popen[bytes] | None = None
    try:

        def emulator_url() -> str | None:
            found = re.search(r"API base URL: (http://\S+)", emulator_log.read_text())
            return found.group(1) if found else None

        api = wait_for_start("the emulator", emulator_url, emulator, emulator_log)
        env_lines = dict(re.findall(r"export (\w+)=(\S+)", emulator_log.read_text()))
        dirs = {name: home / name.lower() for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR")}
        dirs |= {
            "JUPYTER_RUNTIME_DIR": home / "runtime",
            "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
            "IPYTHONDIR": home / "ipython",
            "IMAGEGEN_CACHE_DIR": home / "imagegen-cache",
        }
        for folder in dirs.values():
            folder.mkdir(parents=True)
        _user_settings(dirs["JUPYTERLAB_SETTINGS_DIR"])
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "IMAGEGEN_", "JUPYTER"))
        }
        env |= {name: str(path) for name, path in dirs.items()}
        env |= {name: value.strip("'") for name, value in env_lines.items()}
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"  # the kernel reaches the emulator
        lab = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                "--ServerApp.port=0",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.root_dir={root}",
                "--ServerApp.open_browser=False",
                "--ServerApp.allow_root=True",
                "--ServerApp.terminals_enabled=False",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            env=env,
            cwd=root,
            stdout=logs.enter_context(lab_log.open("wb")),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def lab_url() -> str | None:
            info = next(dirs["JUPYTER_RUNTIME_DIR"].glob("jpserver-*.json"), None)
            if info is None:
                return None
            url = f"http://127.0.0.1:{json.loads(info.read_text())['port']}"
            with LOCAL.open(f"{url}/api/status?token={TOKEN}", timeout=5) as answer:
                return url if answer.status == 200 else None

        url = wait_for_start("JupyterLab", lab_url, lab, lab_log)
        yield Servers(url, root, api.rsplit("/client/v4", 1)[0], env["CLOUDFLARE_API_TOKEN"])
    finally:
        if lab is not None:
            stop_process(lab)
        stop_process(emulator)
        logs.close()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """Module-scoped on purpose: Playwright's sync API keeps an event loop running in this
    thread while it is open, and the other test files need to start their own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page; uncaught page errors fail the test; a screenshot at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 1100}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error}\n{error.stack}"))
    page.page_errors = errors
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=True)
        context.close()
