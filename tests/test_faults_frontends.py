"""The fault matrix through the front ends: the ``%%imagegen`` magic in a real InteractiveShell and
the control panel driven as its browser side drives it. Each fault ends in an image or in the
core's own one-line message (a UsageError in the cell, a failed job in the panel); a cell or a
panel run of several images keeps every success; nothing is left running once they are closed."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from fault_support import CASES, Case, assert_readable_text, client_sockets, settle, snapshot
from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_state import HISTORY
from magic_support import ipython_shell, run
from panel_support import FrontEnd
from panel_support import run as run_async

pytestmark = pytest.mark.timeout(60)
# The front ends take the default model (a URL model) from the environment; the other output
# kinds are the core's business and covered in test_faults.py.
# Their answers are capped at the default 50 MB: the oversize fault sends its default 60 MiB.
URL_CASES = [
    dataclasses.replace(c, options={}, match="over the 50 MB limit .*not read") if c.kind == "oversize" else c
    for c in CASES
    if c.model == "url"
]
SETTINGS = {"IMAGEGEN_MAX_RETRIES": "1", "IMAGEGEN_TIMEOUT": "1"}  # read timeout 1 s: hangs end


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def env(server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    server.reset()
    for name, value in {**server.env, **SETTINGS}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("jupyter_imagegen.client._retry.BASE_DELAY", 0.02)
    return server


@pytest.fixture(scope="module")
def shell() -> Iterator[InteractiveShell]:
    with ipython_shell() as ipython:
        yield ipython


@pytest.fixture(autouse=True)
def _fresh_history() -> Iterator[None]:
    HISTORY.clear()
    yield
    HISTORY.clear()


def _prompt(case: Case, tag: str) -> str:
    return f"a lighthouse, {tag} {case.id}"  # distinct per test: never a cache hit


# -- the magic --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", URL_CASES, ids=lambda c: c.id)
def test_magic_one_image(case: Case, env: Emulator, shell: InteractiveShell) -> None:
    env.inject(case.kind, **case.options)
    ran = run(shell, f"%%imagegen -s 256x256 -o picture\n{_prompt(case, 'one')}\n")
    if case.retried:
        assert ran.error is None and len(ran.images) == 1, ran.error
        assert ran.status.startswith("openai/gpt-image-1.5 · 256x256")
        return
    assert isinstance(ran.error, UsageError) and ran.images == []
    assert_readable_text(str(ran.error), case)
    assert ran.status == "no image · 1 failed" and "Traceback" not in ran.stdout + ran.stderr


@pytest.mark.parametrize("case", [c for c in URL_CASES if c.retried], ids=lambda c: c.id)
def test_magic_fault_beyond_max_retries(case: Case, env: Emulator, shell: InteractiveShell) -> None:
    env.inject(case.kind, times=10, **case.options)
    ran = run(shell, f"%%imagegen -s 256x256\n{_prompt(case, 'persisting')}\n")
    assert isinstance(ran.error, UsageError) and str(ran.error).endswith("(Gave up after 2 attempts.)")
    assert_readable_text(str(ran.error), case)


@pytest.mark.parametrize("case", [c for c in URL_CASES if not c.retried], ids=lambda c: c.id)
def test_magic_several_images_keep_every_success(case: Case, env: Emulator, shell: InteractiveShell) -> None:
    shell.user_ns.pop("pictures", None)
    env.inject(case.kind, **case.options)
    ran = run(shell, f"%%imagegen -s 256x256 -n 3 -o pictures\n{_prompt(case, 'three')}\n")
    assert isinstance(ran.error, UsageError) and str(ran.error).startswith("1 of 3 images failed: ")
    assert re.search(case.match, str(ran.error))
    assert len(ran.images) == 1  # one grid picture of the two that were made
    assert len(ran.info()["images"]) == 3 and ran.info()["images"].count(None) == 1
    assert len(shell.user_ns["pictures"]) == 2
    assert "2 of 3 images" in ran.status and "1 failed" in ran.status


@contextmanager
def own_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An emulator of the test's own, so sockets to it can only be the test's."""
    with Emulator() as emulator:
        for name, value in emulator.env.items():
            monkeypatch.setenv(name, value)
        yield emulator


def test_magic_leaves_nothing_behind_once_unloaded(env: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot()
    with own_emulator(monkeypatch) as own, ipython_shell() as ipython:
        for kind, options in [
            ("reset", {}),
            ("hang", {"seconds": 30}),
            ("moderation", {}),
            ("truncated", {}),
        ]:
            own.inject(kind, times=3, **options)
            run(ipython, f"%%imagegen -s 256x256 -n 2\nleaks {kind}\n")
            own.reset()
    assert client_sockets(own.port) == 0
    threads, fds = settle(before)
    assert threads == [] and fds <= 0, (threads, fds)


# -- the panel --------------------------------------------------------------------------------


async def _panel_run(prompt: str, variations: int) -> tuple[ImageGenPanel, FrontEnd]:
    panel = ImageGenPanel()
    front = FrontEnd(panel)
    front.generate(prompt, params={"size": "256x256"}, variations=variations)
    await panel.wait()
    return panel, front


async def _close(panel: ImageGenPanel) -> None:
    panel.close()
    await asyncio.sleep(0.05)  # the client closes on the loop, which in a kernel runs on


@pytest.mark.parametrize("case", URL_CASES, ids=lambda c: c.id)
def test_panel_one_image(case: Case, env: Emulator) -> None:
    env.inject(case.kind, **case.options)

    async def scenario() -> None:
        panel, _ = await _panel_run(_prompt(case, "panel"), 1)
        (job,) = panel.jobs
        if case.retried:
            assert job["state"] == "done" and len(panel.gallery) == 1
        else:
            assert job["state"] == "failed" and panel.gallery == []
            assert_readable_text(job["message"], case)
            assert panel.error == ""  # a failed request is the job's, not a panel malfunction
        await _close(panel)

    sockets = client_sockets(env.port)  # the module's shell keeps its own connections
    run_async(scenario())
    assert client_sockets(env.port) <= sockets


@pytest.mark.parametrize("case", [c for c in URL_CASES if not c.retried], ids=lambda c: c.id)
def test_panel_several_images_keep_every_success(case: Case, env: Emulator) -> None:
    env.inject(case.kind, **case.options)

    async def scenario() -> None:
        panel, _ = await _panel_run(_prompt(case, "panel three"), 3)
        states = sorted(job["state"] for job in panel.jobs)
        assert states == ["done", "done", "failed"]
        (failed,) = [job for job in panel.jobs if job["state"] == "failed"]
        assert re.search(case.match, failed["message"])
        assert len(panel.gallery) == 2 and len(panel.images) == 2
        await _close(panel)

    sockets = client_sockets(env.port)  # the module's shell keeps its own connections
    run_async(scenario())
    assert client_sockets(env.port) <= sockets


def test_panel_leaves_nothing_behind_once_closed(env: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot()

    async def scenario() -> None:
        panel, _ = await _panel_run("leaks from the panel", 4)
        assert sorted(job["state"] for job in panel.jobs).count("failed") >= 2
        await _close(panel)

    with own_emulator(monkeypatch) as own:
        own.inject("hang", times=2, seconds=30)
        own.inject("reset", times=3)
        run_async(scenario())
        assert client_sockets(own.port) == 0
    threads, fds = settle(before)
    assert threads == [] and fds <= 0, (threads, fds)
