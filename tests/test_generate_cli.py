"""``imagegen generate`` as a subprocess against the emulator: it shares the notebook's cache,
checks ``-n`` and its output path before any request, and reports every error on one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_imagegen.emulator import Emulator


def imagegen(emulator: Emulator, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **emulator.env,
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "IMAGEGEN_CACHE_DIR": str(cwd / "cache"),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    return subprocess.run(
        [sys.executable, "-m", "jupyter_imagegen", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def api_calls(emulator: Emulator) -> int:
    return len([r for r in emulator.requests if "/ai/run" in r.path])


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_a_repeated_generate_is_served_from_the_cache_and_refresh_pays_again(
    emulator: Emulator, tmp_path: Path
) -> None:
    first = imagegen(emulator, tmp_path, "generate", "a red fox", "-s", "256x256", "-n", "2")
    assert first.returncode == 0, first.stderr
    assert api_calls(emulator) == 2 and "cached" not in first.stdout
    again = imagegen(emulator, tmp_path, "generate", "a red fox", "-s", "256x256", "-n", "2")
    assert again.returncode == 0, again.stderr
    assert api_calls(emulator) == 2  # nothing sent: both from the cache
    assert again.stdout.count("cached") == 2
    assert len(list(tmp_path.glob("a-red-fox*"))) == 4  # new files each time, never overwritten
    fresh = imagegen(emulator, tmp_path, "generate", "a red fox", "-s", "256x256", "--refresh")
    assert fresh.returncode == 0 and "cached" not in fresh.stdout
    assert api_calls(emulator) == 3


@pytest.mark.parametrize("count", ["0", "-5", "65"])
def test_n_outside_the_range_is_one_line_and_sends_nothing(
    emulator: Emulator, tmp_path: Path, count: str
) -> None:
    done = imagegen(emulator, tmp_path, "generate", "a fox", "-n", count)
    assert "-n must be 1 to 64" in one_line_error(done)
    assert api_calls(emulator) == 0


def test_an_existing_output_file_is_refused_before_paying_unless_overwrite(
    emulator: Emulator, tmp_path: Path
) -> None:
    existing = tmp_path / "fox.png"
    existing.write_bytes(b"mine")
    done = imagegen(emulator, tmp_path, "generate", "a fox", "-s", "256x256", "-o", "fox.png")
    assert "fox.png already exists; add --overwrite" in one_line_error(done)
    assert api_calls(emulator) == 0 and existing.read_bytes() == b"mine"
    done = imagegen(emulator, tmp_path, "generate", "a fox", "-s", "256x256", "-o", "fox.png", "--overwrite")
    assert done.returncode == 0, done.stderr
    assert api_calls(emulator) == 1 and existing.read_bytes().startswith(b"\x89PNG")


def test_an_unwritable_output_folder_is_refused_before_paying(emulator: Emulator, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # Permissions do not bind root; sysfs refuses to create files for everyone.
        folder = Path("/sys")
    else:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
    done = imagegen(emulator, tmp_path, "generate", "a fox", "-o", str(folder / "fox.png"))
    assert "cannot write to" in one_line_error(done)
    missing = imagegen(emulator, tmp_path, "generate", "a fox", "-o", str(tmp_path / "nope" / "fox.png"))
    assert "does not exist" in one_line_error(missing)
    assert api_calls(emulator) == 0


def test_debug_shows_the_traceback_and_argument_errors_are_one_line(
    emulator: Emulator, tmp_path: Path
) -> None:
    plain = imagegen(emulator, tmp_path, "generate", "a fox", "-n", "many")
    assert "invalid int value" in one_line_error(plain)
    debug = imagegen(emulator, tmp_path, "--debug", "generate", "a fox", "-n", "0")
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("error: -n must be 1 to 64")
