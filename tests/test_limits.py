"""One limit, one check: the panel's browser code gets its variations limit from the kernel, and
the magic, the panel and the command refuse the same counts with the same words."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.cli import main
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._session import CellOutcome, failure_message
from jupyter_imagegen.runtime._runtime import get_runtime
from magic_support import ipython_shell, run


@pytest.fixture
def shell(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    monkeypatch.chdir(tmp_path)
    with ipython_shell() as ipython:
        yield ipython


def test_the_panel_sends_its_variations_limit_and_follows_max_images(shell: InteractiveShell) -> None:
    panel = ImageGenPanel("a fox", params={"size": "256x256"})
    assert panel.limits == {"max_variations": 8, "max_images": 64}  # the note names both
    panel.close()
    run(shell, "%config ImageGenMagics.max_images = 3")
    panel = ImageGenPanel("a fox", params={"size": "256x256"}, variations=4)
    assert panel.limits == {"max_variations": 3, "max_images": 3}
    assert panel.validity == {"valid": False, "reason": "Variations must be 1 to 3, got 4."}
    panel.close()


def test_the_magic_and_the_command_refuse_the_same_counts_in_the_same_words(
    shell: InteractiveShell, emulator_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    for count in ("0", "65"):
        ran = run(shell, f"%imagegen -n {count} a fox")
        assert main(["generate", "a fox", "-n", count]) == 2
        assert capsys.readouterr().err.strip() == f"error: {ran.error}"
        assert str(ran.error) == f"-n must be 1 to {get_runtime().max_images}, got {count}."
    assert [r for r in emulator_env.requests if "/ai/run" in r.path] == []


def test_an_unexpected_error_in_a_cell_is_reported_not_raised() -> None:
    outcome = CellOutcome([RuntimeError("boom"), None], interrupted=False, elapsed=0.0)
    message = failure_message(outcome, 2)
    assert message is not None and "unexpected RuntimeError: boom" in message


def test_closing_a_panel_closes_the_runtime_client_of_its_loop(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel("a fox", params={"size": "256x256"})
        panel.generate()
        await panel.wait()
        loop = asyncio.get_running_loop()
        client = get_runtime().async_client(loop)
        panel.close()
        await asyncio.sleep(0.05)
        assert client._http.is_closed  # the next use makes a new one
        assert get_runtime().async_client(loop) is not client
        get_runtime().release(loop)
        await asyncio.sleep(0.05)

    asyncio.run(scenario())


def test_panel_option_takes_param_values_too(shell: InteractiveShell) -> None:
    from ipywidgets.widgets.widget import _instances

    ran = run(shell, "%imagegen --panel -m @cf/black-forest-labs/flux-1-schnell -p steps=3 a fox")
    assert ran.error is None
    latest = [w for w in _instances.values() if isinstance(w, ImageGenPanel)][-1]
    assert latest.params == {"steps": 3} and latest.model == "@cf/black-forest-labs/flux-1-schnell"
    latest.close()
