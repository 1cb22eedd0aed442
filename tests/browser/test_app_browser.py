"""``imagegen app``: the panel alone as a web page, served by the real Voilà server, on the
bundled emulator because no credentials are set, opened in Debian's Chromium. A user types a
prompt, generates and sees the image; the page, its widget state and every websocket frame are
free of the API token; the page is usable 400 px wide."""

from __future__ import annotations

import inspect
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_panel_browser as ui
from axe_support import axe_violations, contrast_failures, describe
from browser_support import ARTIFACTS, stop_process, wait_for_start

from jupyter_imagegen.emulator import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# `imagegen app` starts its emulator with the default token; the kernel holds it, the page must not.
EMULATOR_TOKEN = inspect.signature(Emulator).parameters["token"].default


APP_TOKEN = "app-login-token-for-the-browser-test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def app(chromium: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    """``imagegen app`` with no credentials and private Jupyter folders; stopped by SIGTERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "IMAGEGEN_", "JUPYTER"))}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(tmp_path / name.lower())
    env |= {"JUPYTER_PLATFORM_DIRS": "1", "IMAGEGEN_CACHE_DIR": str(tmp_path / "cache")}
    env["JUPYTER_TOKEN"] = APP_TOKEN  # the page needs Jupyter's login token, as the printed URL carries
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    port = free_port()
    log = tmp_path / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_imagegen",
                "app",
                f"--port={port}",
                "--no-browser",
                f"--theme={request.param}",
            ],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/?token={APP_TOKEN}"
    try:
        wait_for_start("imagegen app", lambda: _answers(port), process, log)
        yield url, log
    finally:
        stop_process(process, grace=30)


def _answers(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        return True


@pytest.mark.parametrize("app", ["light", "dark"], indirect=True)
def test_the_app_generates_without_the_token_reaching_the_page(
    page: Any, app: tuple[str, Path], request: pytest.FixtureRequest
) -> None:
    url, log = app
    theme = request.node.callspec.params["app"]
    output = log.read_text()
    assert "OFFLINE MODE: images come from the local Cloudflare EMULATOR" in output
    assert "CLOUDFLARE_ACCOUNT_ID / CLOUDFLARE_API_TOKEN are not set" in output

    frames: list[str | bytes] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    asked: list[str] = []
    page.on("request", lambda sent: asked.append(sent.url))
    page.goto(url)
    panel = page.locator(".jig-panel")
    ui.expect(panel).to_be_visible()
    assert page.locator("body").get_attribute("data-jp-theme-light") == str(theme == "light").lower()
    ui.expect(page.get_by_role("note")).to_contain_text("OFFLINE MODE")
    assert page.locator(".jp-InputArea").count() == 0  # the panel alone, no code

    panel.locator(".jig-prompt").fill("a lighthouse for the workshop")
    panel.locator(".jig-generate").click()
    ui.expect(panel.locator(".jig-card")).to_have_count(1)
    thumb = panel.locator(".jig-thumb").first
    ui.expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") > 0
    assert thumb.get_attribute("alt") == "a lighthouse for the workshop"
    found = axe_violations(page)
    assert found == [], describe(found)
    assert contrast_failures(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"app-{theme}.png"), full_page=True)

    # 400 px wide: nothing scrolls sideways, Generate and the image are on screen.
    page.set_viewport_size({"width": 400, "height": 900})
    page.wait_for_timeout(300)  # a layout pass
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 400
    assert panel.evaluate("p => p.scrollWidth <= p.clientWidth + 1")
    for part in (panel.locator(".jig-generate"), panel.locator(".jig-prompt"), thumb):
        box = part.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 400, box
    page.screenshot(path=str(ARTIFACTS / f"app-{theme}-400px.png"), full_page=True)

    # The token: not in the page, not in the widget state or anything else the kernel sent.
    assert frames, "the page never talked to its kernel"
    assert EMULATOR_TOKEN not in page.content()
    for frame in frames:
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        assert EMULATOR_TOKEN not in text
    assert any("a lighthouse for the workshop" in str(frame) for frame in frames)  # the frames are read
    assert ui.panel_errors(page) == []
    # Everything the page needs comes from the app itself: it works offline (no CDN fonts).
    outside = [u for u in asked if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))]
    assert asked and outside == []
