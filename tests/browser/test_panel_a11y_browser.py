"""The panel for everyone, in real JupyterLab and Notebook 7 in Debian's Chromium: axe-core finds
no serious or critical violation in the light and dark themes, a fast typist's prompt is sent
exactly, and everything works from the keyboard alone with the focus always visible."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import test_panel_browser as ui
from axe_support import axe_violations, contrast_failures, describe
from browser_support import ARTIFACTS, LOCAL, TOKEN, Servers

pytestmark = [pytest.mark.browser, pytest.mark.slow]

THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


@contextlib.contextmanager
def lab_theme(servers: Servers, theme: str) -> Iterator[None]:
    """JupyterLab's theme setting, as Settings > Theme saves it; back to light afterwards."""

    def put(name: str) -> None:
        request = urllib.request.Request(
            f"{servers.url}/lab/api/settings/@jupyterlab/apputils-extension:themes?token={TOKEN}",
            data=json.dumps({"raw": json.dumps({"theme": name})}).encode(),
            headers={"content-type": "application/json"},
            method="PUT",
        )
        with LOCAL.open(request, timeout=10) as answer:
            assert answer.status == 204

    put(THEMES[theme])
    try:
        yield
    finally:
        put(THEMES["light"])


def assert_accessible(page: Any, when: str) -> None:
    found = axe_violations(page)
    assert found == [], f"axe-core, {when}:\n{describe(found)}"
    low = contrast_failures(page)
    assert low == [], f"contrast below 4.5:1, {when}: {low}"


def focus_outline(page: Any) -> str:
    """The focused element's outline: 'none' would be an invisible focus."""
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return `${s.outlineStyle} ${s.outlineWidth}`; }"
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_jupyterlab(page: Any, servers: Servers, theme: str) -> None:
    with lab_theme(servers, theme):
        panel = ui.show_panel(page, servers, f"axe-{theme}.ipynb", [])
        light = page.locator("body").get_attribute("data-jp-theme-light")
        assert light == ("true" if theme == "light" else "false")
        ui.expect(panel.locator(".jig-reason")).to_have_text("")  # nothing typed is no error yet
        assert_accessible(page, f"{theme} theme, empty form")

        panel.locator(".jig-prompt").fill(f"a lighthouse in the {theme} theme")
        panel.locator(".jig-generate").click()
        ui.expect(panel.locator(".jig-card")).to_have_count(1)
        ui.expect(panel.locator(".jig-job").first).to_have_attribute("data-state", "done")
        thumb = panel.locator(".jig-thumb").first
        ui.expect(thumb).to_have_js_property("complete", True)
        assert thumb.get_attribute("alt") == f"a lighthouse in the {theme} theme"
        assert_accessible(page, f"{theme} theme, after generating")
        ui.expect(panel.locator("[role='status']")).to_have_text("1 image ready.")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"panel-{theme}.png"), clip=panel.bounding_box())

        panel.locator(".jig-thumb-button").first.click()
        ui.expect(panel.locator(".jig-large")).to_have_attribute("data-original", "true")
        assert_accessible(page, f"{theme} theme, enlarged image")
        page.keyboard.press("Escape")
        ui.expect(panel.locator(".jig-overlay")).to_be_hidden()

        # Three variations: the action's whole result is said once its last image arrives.
        panel.locator(".jig-variations").fill("3")
        panel.locator(".jig-variations").press("Tab")
        panel.locator(".jig-prompt").fill(f"three lighthouses in the {theme} theme")
        panel.locator(".jig-generate").click()
        ui.expect(panel.locator(".jig-card")).to_have_count(4)
        ui.expect(panel.locator("[role='status']")).to_have_text("3 images ready.")
    assert ui.panel_errors(page) == []


def test_axe_finds_nothing_serious_in_notebook_7(page: Any, servers: Servers) -> None:
    panel = ui.show_panel(page, servers, "axe-nb7.ipynb", [], ui="notebook")
    assert_accessible(page, "Notebook 7, empty form")
    panel.locator(".jig-prompt").fill("a lighthouse in Notebook 7")
    panel.locator(".jig-generate").click()
    ui.expect(panel.locator(".jig-card")).to_have_count(1)
    ui.expect(panel.locator(".jig-thumb").first).to_have_js_property("complete", True)
    assert_accessible(page, "Notebook 7, after generating")

    # A refused request: its reason is announced, and the failed row passes too.
    servers.emulator("faults", {"kind": "moderation", "times": 1})
    panel.locator(".jig-prompt").fill("a lighthouse the safety system refuses")
    panel.locator(".jig-generate").click()
    ui.expect(panel.locator(".jig-job").first).to_have_attribute("data-state", "failed")
    ui.expect(panel.locator("[role='status']")).to_contain_text("Failed: ")
    ui.expect(panel.locator("[role='status']")).to_contain_text("rejected by the safety system")
    assert_accessible(page, "Notebook 7, a failed request")
    ui.shot(page, "notebook7-axe")
    assert ui.panel_errors(page) == []


def test_a_fast_typist_sends_exactly_what_is_on_screen(page: Any, servers: Servers) -> None:
    panel = ui.show_panel(page, servers, "typist.ipynb", [])
    text = "a fast typist's lighthouse"
    panel.locator(".jig-prompt").focus()
    page.keyboard.type(text, delay=15)
    page.keyboard.press("Control+Enter")
    ui.expect(panel.locator(".jig-card")).to_have_count(1)
    ui.expect(panel.locator(".jig-job .jig-job-prompt").first).to_have_text(text)
    assert panel.locator(".jig-thumb").first.get_attribute("alt") == text
    assert ui.panel_errors(page) == []


def test_keyboard_only(page: Any, servers: Servers) -> None:
    """No mouse: the notebook is opened and its cell run from the keyboard too."""
    name = servers.write_notebook("keyboard.ipynb", [ui.PANEL_CELL])
    ui.open_notebook(page, servers, name)
    panel = page.locator(".jig-panel")
    for _ in range(30):  # a kernel still connecting ignores Shift+Enter; try again
        page.locator(".jp-Cell .cm-content").first.focus()
        page.keyboard.press("Shift+Enter")
        with contextlib.suppress(AssertionError):
            ui.expect(panel).to_be_visible(timeout=3_000)
            break
    prompt = panel.locator(".jig-prompt")

    prompts = ["a keyboard owl", "a keyboard fox"]
    for count, text in enumerate(prompts, start=1):
        prompt.focus()
        page.keyboard.press("Control+a")
        page.keyboard.type(text)
        assert focus_outline(page) != "none 0px"
        page.keyboard.press("Control+Enter")
        ui.expect(panel.locator(".jig-card")).to_have_count(count)
        ui.expect(panel.locator(".jig-job").first).to_have_attribute("data-state", "done")

    # Escape cancels what is running.
    servers.emulator("latency", {"seconds": 60})
    try:
        page.keyboard.press("Control+a")
        page.keyboard.type("a very slow snail")
        page.keyboard.press("Control+Enter")
        job = panel.locator(".jig-job").first
        ui.expect(job).to_have_attribute("data-state", "running")
        page.keyboard.press("Escape")
        ui.expect(job).to_have_attribute("data-state", "cancelled")
        ui.expect(panel.locator("[role='status']")).to_have_text("1 cancelled.")
    finally:
        servers.emulator("latency", {"seconds": 0})

    # Tab reaches every gallery item, each with a visible focus ring.
    reached: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        info = page.evaluate(
            "() => { const a = document.activeElement;"
            " return a.classList.contains('jig-thumb-button') ? a.closest('[data-id]').dataset.id : null; }"
        )
        if page.evaluate("() => !!document.activeElement.closest('.jig-panel')"):
            assert focus_outline(page).split()[0] != "none", page.evaluate(
                "() => document.activeElement.outerHTML"
            )
        if info and info not in reached:
            reached.append(info)
        if len(reached) == 2:
            break
    ids = panel.locator(".jig-card").evaluate_all("cards => cards.map(c => c.dataset.id)")
    assert reached == ids

    # Arrow keys move between thumbnails; Enter enlarges; arrows move between images; Escape closes.
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("() => document.activeElement.closest('[data-id]').dataset.id") == ids[0]
    page.keyboard.press("Enter")
    dialog = panel.locator("[role='dialog']")
    ui.expect(dialog.locator(".jig-caption")).to_have_text(prompts[1])  # newest first
    ui.expect(dialog.locator(".jig-close")).to_be_focused()
    page.keyboard.press("ArrowRight")
    ui.expect(dialog.locator(".jig-caption")).to_have_text(prompts[0])
    assert dialog.locator(".jig-large").get_attribute("alt") == prompts[0]
    page.keyboard.press("Escape")
    ui.expect(panel.locator(".jig-overlay")).to_be_hidden()
    # The keyboard is back on the image last shown.
    ui.expect(panel.locator(f"[data-id='{ids[1]}'] .jig-thumb-button")).to_be_focused()
    ui.shot(page, "lab-keyboard-only")
    assert ui.panel_errors(page) == []
