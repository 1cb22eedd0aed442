"""A multi-image cell shows its grid as the images arrive, in one output updated in place, in a
real InteractiveShell against the emulator: one request hangs while the others finish, and the
finished images are on screen before the cell ends."""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from PIL import Image

from jupyter_imagegen.emulator import Emulator
from magic_support import IMAGE_TYPES, ipython_shell


@pytest.fixture
def shell(emulator_env: Emulator) -> Iterator[InteractiveShell]:
    with ipython_shell() as ipython:
        yield ipython


def image_frames(outputs: list[Any]) -> list[Any]:
    return [o for o in outputs if any(k in o.data for k in IMAGE_TYPES)]


def test_finished_images_show_while_another_request_still_runs(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    emulator.inject("hang", seconds=120)  # the first request waits until the emulator stops
    outcome: dict[str, Any] = {}
    with capture_output() as captured:
        cell = threading.Thread(
            target=lambda: outcome.update(result=shell.run_cell("%%imagegen -s 256x256 -n 4\na fox\n"))
        )
        cell.start()
        give_up = time.monotonic() + 60  # a guard against a hang of the test, not a timing check
        while time.monotonic() < give_up:
            frames = image_frames(list(captured.outputs))
            if frames and frames[-1].metadata["jupyter_imagegen"]["images"].count(None) == 1:
                break
            time.sleep(0.05)
        during = list(captured.outputs)
        running = cell.is_alive()
        emulator.stop()  # ends the hang: the last request fails, and the cell ends
        cell.join(60)
    assert not cell.is_alive()
    shown = image_frames(during)
    assert running and shown, "no image was shown while a request was still running"
    live = shown[-1]
    info = live.metadata["jupyter_imagegen"]
    assert info["running"] is True
    assert sum(i is not None for i in info["images"]) == 3
    assert sum(c.endswith("· …") for c in info["captions"]) == 1  # the one still coming
    (mime,) = [k for k in live.data if k in IMAGE_TYPES]  # one image type per output
    assert Image.open(io.BytesIO(base64.b64decode(live.data[mime]))).width > 0

    # Every frame, the final one included, is the same output updated in place.
    frames = image_frames(list(captured.outputs))
    ids = {(f.transient or {}).get("display_id") for f in frames}
    assert len(ids) == 1 and None not in ids
    assert [f.update for f in frames] == [False] + [True] * (len(frames) - 1)
    final = frames[-1].metadata["jupyter_imagegen"]
    assert "running" not in final and sum(c.endswith("failed") for c in final["captions"]) == 1
    assert isinstance(outcome["result"].error_in_exec, UsageError)  # "1 of 4 images failed: ..."
