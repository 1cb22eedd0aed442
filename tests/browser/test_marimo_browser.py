"""The example marimo notebook under ``marimo run``, in Debian's Chromium, on the emulator: the
offline banner, the panel (generate, cancel, enlarge, download, use as input), another cell
running while a request is in flight, and the Python API's image shown as an image.

One emulator process and one ``marimo run`` server per module, both on 127.0.0.1, with
temporary home, config and cache folders; both are always stopped."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    API_TOKEN,
    ARTIFACTS,
    LOCAL,
    STARTUP_TIMEOUT,
    control_emulator,
    stop_process,
    wait_for_start,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Loopback only, no browser of its own, no package installs, no version-skew reloads mid-test.
SERVE = ["--no-sandbox", "--no-skew-protection", "--host", "127.0.0.1", "--port"]
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "marimo_quickstart.py"


@dataclass
class MarimoApp:
    url: str
    emulator_url: str
    emulator_token: str

    def emulator(self, action: str, payload: dict[str, Any]) -> None:
        control_emulator(self.emulator_url, self.emulator_token, action, payload)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(mode: str, notebook: Path, base: Path) -> Iterator[MarimoApp]:
    """An emulator process and ``marimo <mode>`` on ``notebook``, both stopped at the end."""
    home = base / "home"
    home.mkdir()
    emulator_log, marimo_log = base / "emulator.log", base / "marimo.log"
    logs = contextlib.ExitStack()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "jupyter_imagegen.emulator", "--port", "0", "--token", API_TOKEN],
        stdout=logs.enter_context(emulator_log.open("wb")),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server: subprocess.Popen[bytes] | None = None
    try:

        def emulator_url() -> str | None:
            found = re.search(r"API base URL: (http://\S+)", emulator_log.read_text())
            return found.group(1) if found else None

        api = wait_for_start("the emulator", emulator_url, emulator, emulator_log)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "IMAGEGEN_"))}
        env |= {k: v.strip("'") for k, v in re.findall(r"export (\w+)=(\S+)", emulator_log.read_text())}
        env |= {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_STATE_HOME": str(home / "state"),
            "IMAGEGEN_CACHE_DIR": str(home / "imagegen-cache"),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        port = _free_port()
        options = SERVE + [str(port)] + (["--skip-update-check"] if mode == "edit" else [])
        server = subprocess.Popen(
            [sys.executable, "-m", "marimo", mode, str(notebook), "--headless", "--no-token", *options],
            env=env,
            cwd=base,
            stdout=logs.enter_context(marimo_log.open("wb")),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"

        def answering() -> bool:
            with LOCAL.open(f"{url}/health", timeout=5) as answer:
                return bool(answer.status == 200)

        wait_for_start(f"marimo {mode}", answering, server, marimo_log)
        yield MarimoApp(url, api.rsplit("/client/v4", 1)[0], env["CLOUDFLARE_API_TOKEN"])
    finally:
        if server is not None:
            stop_process(server)
        stop_process(emulator)
        logs.close()


@pytest.fixture(scope="module")
def marimo_app(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarimoApp]:
    pytest.importorskip("marimo")
    with serve("run", NOTEBOOK, tmp_path_factory.mktemp("marimo-run")) as app:
        yield app


@pytest.fixture(scope="module")
def marimo_editor(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarimoApp]:
    """``marimo edit`` on a copy: the editor may save the file."""
    pytest.importorskip("marimo")
    base = tmp_path_factory.mktemp("marimo-edit")
    copy = base / NOTEBOOK.name
    shutil.copyfile(NOTEBOOK, copy)
    with serve("edit", copy, base) as app:
        yield app


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=max(60_000, int(STARTUP_TIMEOUT * 1000)))
    return playwright_expect(locator)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_panel_in_marimo_run(page: Any, marimo_app: MarimoApp, tmp_path: Path) -> None:
    from jupyter_imagegen.client._files import read_provenance

    page.goto(marimo_app.url)
    panel = page.locator(".jig-panel")
    expect(panel).to_be_visible()
    expect(page.get_by_text("OFFLINE MODE")).to_be_visible()  # the emulator is on this machine
    # The Python API's image shows as an image: the cell's output is the embedded preview.
    fox = page.locator("img[src^='data:image/jpeg']").first
    expect(fox).to_have_js_property("complete", True)
    assert fox.evaluate("img => img.naturalWidth") == 1024
    generate = panel.locator(".jig-generate")
    expect(panel.locator(".jig-spend")).to_contain_text("on the emulator, not billed")

    # A request in flight: another cell runs and finishes meanwhile, then Cancel stops it.
    marimo_app.emulator("latency", {"seconds": 60})
    try:
        panel.locator(".jig-prompt").fill("a very patient owl")
        generate.click()
        job = panel.locator(".jig-job").first
        expect(job).to_have_attribute("data-state", "running")
        page.get_by_role("button", name="Show the gallery's newest images").click()
        expect(page.get_by_text("Images in the gallery: 0")).to_be_visible()
        assert job.get_attribute("data-state") == "running"  # the cell ran while it was in flight
        shot(page, "marimo-concurrent-cell")
        panel.locator(".jig-cancel").click()
        expect(job).to_have_attribute("data-state", "cancelled")
    finally:
        marimo_app.emulator("latency", {"seconds": 0})

    # Generate: the image arrives in the gallery.
    panel.locator(".jig-prompt").fill("a lighthouse at dusk")
    generate.click()
    expect(panel.locator(".jig-card")).to_have_count(1)
    thumb = panel.locator(".jig-card .jig-thumb").first
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") > 0
    shot(page, "marimo-generated")

    # Enlarge: the original replaces the thumbnail.
    thumb.click()
    expect(panel.locator(".jig-large")).to_have_attribute("data-original", "true")
    panel.locator(".jig-overlay .jig-close").click()
    expect(panel.locator(".jig-overlay")).to_be_hidden()

    # Download the original, provenance embedded.
    card = panel.locator(".jig-card").first
    with page.expect_download() as download:
        card.locator("[data-action='download']").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "a-lighthouse-at-dusk.png"
    assert read_provenance(saved)["prompt"] == "a lighthouse at dusk"

    # Use as input: the image becomes the input of an edit, which is generated.
    card.locator("[data-action='use-input']").click()
    expect(panel.locator(".jig-input img")).to_have_count(1)
    panel.locator(".jig-prompt").fill("the lighthouse, repainted")
    generate.click()
    expect(panel.locator(".jig-card")).to_have_count(2)
    expect(panel.locator(".jig-card .jig-card-prompt").first).to_have_text("the lighthouse, repainted")

    # The other cell reads the panel's gallery from Python.
    page.get_by_role("button", name="Show the gallery's newest images").click()
    expect(page.get_by_text("Images in the gallery: 2")).to_be_visible()
    shot(page, "marimo-final")
    errors = [error for error in page.page_errors if "blob:" in error or "anywidget" in error]
    assert errors == []


def test_the_panel_in_marimo_edit(page: Any, marimo_editor: MarimoApp) -> None:
    page.goto(marimo_editor.url)
    # The editor opens with the cells not yet run: run them all, as a user does. A click before
    # the kernel is connected does nothing, so it is repeated until the panel shows.
    panel = page.locator(".jig-panel")
    page.locator(".cm-editor").first.wait_for()
    for _ in range(30):
        page.get_by_test_id("run-button").last.click()
        try:
            expect(panel).to_be_visible(timeout=4_000)
            break
        except AssertionError:
            continue
    expect(panel).to_be_visible()
    expect(page.get_by_text("OFFLINE MODE", exact=False).first).to_be_visible()
    panel.locator(".jig-prompt").fill("a lighthouse in the editor")
    panel.locator(".jig-generate").click()
    expect(panel.locator(".jig-card")).to_have_count(1)
    expect(panel.locator(".jig-card .jig-thumb").first).to_have_js_property("complete", True)
    page.get_by_role("button", name="Show the gallery's newest images").click()
    expect(page.get_by_text("Images in the gallery: 1")).to_be_visible()
    shot(page, "marimo-edit-generated")
    errors = [error for error in page.page_errors if "blob:" in error or "anywidget" in error]
    assert errors == []
