"""Budgets and the meter in each front end: the magic (status line cost, --usage, a one-line
UsageError), the ``imagegen`` command (``usage``, exit code 2) and the panel (header spend, an
error line), each against the emulator and each refusing with nothing sent."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_imagegen import ImageGenPanel, usage
from jupyter_imagegen.emulator import Emulator
from magic_support import ipython_shell, run
from panel_support import FrontEnd, api_requests, fresh_history, until
from panel_support import run as run_loop

__all__ = ["fresh_history"]

GPT = "openai/gpt-image-1.5"
FLUX = "@cf/black-forest-labs/flux-1-schnell"


@pytest.fixture
def shell(emulator_env: Emulator) -> Iterator[InteractiveShell]:
    with ipython_shell() as ipython:
        yield ipython


def test_the_magic_shows_the_cells_estimated_cost_and_the_usage_table(
    shell: InteractiveShell, emulator_env: Emulator
) -> None:
    ran = run(shell, f"%imagegen -m {GPT} -q low -s 1024x1024 a red fox")
    assert ran.error is None
    assert "~$0.0087 estimated" in ran.status
    again = run(shell, f"%imagegen -m {GPT} -q low -s 1024x1024 a red fox")
    assert "cached" in again.status and "estimated" not in again.status  # a cache hit is free
    (row,) = usage().rows
    assert (row.images, row.requests, row.cache_hits) == (1, 1, 1)
    table = run(shell, "%imagegen --usage")
    assert table.error is None
    assert GPT in table.stdout and "CACHE HITS" in table.stdout and "estimates" in table.stdout
    assert len(api_requests(emulator_env)) == 1


def test_the_magic_refuses_a_cell_over_the_budget_in_one_line(
    shell: InteractiveShell, emulator_env: Emulator
) -> None:
    shell.run_line_magic("config", "ImageGenMagics.max_images_per_day = 3")
    assert run(shell, f"%imagegen -m {FLUX} a fox").error is None
    ran = run(shell, f"%imagegen -m {FLUX} -n 5 an owl")  # 5 with 2 left: refused whole
    assert isinstance(ran.error, UsageError)
    assert "1 of 3 images used today" in str(ran.error) and "max_images_per_day" in str(ran.error)
    assert "Traceback" not in ran.stderr and ran.status == "nothing sent"
    assert len(api_requests(emulator_env)) == 1
    assert run(shell, f"%imagegen -m {FLUX} -n 2 an owl").error is None  # exactly what is left
    assert len(api_requests(emulator_env)) == 3


def imagegen(emulator: Emulator, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_imagegen", *args],
        cwd=tmp_path,
        env={**os.environ, **emulator.env, **env},
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_the_command_refuses_with_exit_code_2_and_shows_usage(emulator: Emulator, tmp_path: Path) -> None:
    budget = {"IMAGEGEN_MAX_IMAGES_PER_DAY": "2"}
    done = imagegen(emulator, tmp_path, "generate", "a fox", "-m", FLUX, "-n", "3", **budget)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: Daily image budget") and "IMAGEGEN_MAX_IMAGES_PER_DAY" in line
    assert len(api_requests(emulator)) == 0 and not list(tmp_path.glob("*.png"))

    assert imagegen(emulator, tmp_path, "generate", "a fox", "-m", FLUX, "-n", "2", **budget).returncode == 0
    usage = imagegen(emulator, tmp_path, "usage", **budget)
    assert usage.returncode == 0, usage.stderr
    assert FLUX in usage.stdout and "2 images" in usage.stdout and "daily budget of 2 images" in usage.stdout


@pytest.mark.usefixtures("fresh_history")
def test_the_panel_shows_todays_spend_and_refuses_over_the_budget(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "3")

    async def scenario() -> None:
        panel = ImageGenPanel(model=GPT, params={"quality": "low", "size": "1024x1024"})
        front = FrontEnd(panel)
        assert panel.spend["images"] == 0 and panel.spend["max_images"] == 3
        front.generate("a red fox")
        await panel.wait()
        await until(lambda: panel.spend.get("images") == 1)
        assert panel.spend["usd"] == pytest.approx(0.0087, abs=1e-4)
        front.generate("an owl", variations=4)  # 4 with 2 left: none is queued
        await asyncio.sleep(0)
        assert "Daily image budget" in panel.error and "2 are left" in panel.error
        assert len(panel.jobs) == 1
        panel.close()

    run_loop(scenario())
    assert len(api_requests(emulator_env)) == 1


def test_usage_without_credentials_shows_the_emulators_ledger_labelled(
    emulator: Emulator, tmp_path: Path
) -> None:
    cache = {"IMAGEGEN_CACHE_DIR": str(tmp_path / "cache")}
    assert imagegen(emulator, tmp_path, "generate", "a fox", "-m", FLUX, "-n", "2", **cache).returncode == 0
    # A new terminal: no credentials, no emulator settings, the same cache folder.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_imagegen", "usage"],
        cwd=tmp_path,
        env={**env, **cache},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    real, emulated = done.stdout.split("\n\n")
    assert "(nothing generated yet)" in real
    assert emulated.startswith("Usage on the local emulator (test patterns, nothing was billed")
    assert FLUX in emulated and "today" in emulated and "2 images" in emulated
    assert "requests cancelled after they were sent are counted: the service may still bill them" in real
