"""The panel's cost stays flat as the gallery grows: a new image sends the front end only that
image (and the changed job), a starting front end asks for the whole lists once, and the kernel
keeps thumbnails in memory while the originals wait on disk, also when the cache is off or
cleared."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_state import HISTORY
from jupyter_imagegen.runtime._cache import ImageCache
from panel_support import FrontEnd, fresh_history, run

pytestmark = pytest.mark.usefixtures(fresh_history.__name__)


async def _one_image(panel: ImageGenPanel, front: FrontEnd, prompt: str) -> int:
    """Bytes the kernel sent the front end while one new image was made."""
    before = front.bytes_received
    front.generate(prompt, params={"size": "256x256"})
    await panel.wait()
    return front.bytes_received - before


def test_a_new_image_sends_only_itself_however_long_the_history(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.send({"type": "sync"})
        small = await _one_image(panel, front, "a small gallery 00")
        for n in range(1, 13):
            await _one_image(panel, front, f"a small gallery {n:02}")
        large = await _one_image(panel, front, "a small gallery 99")
        assert len(panel.gallery) == 14
        assert large <= small * 1.1, (small, large)
        message, thumbs = front.replies("gallery")[-1]
        assert [item["prompt"] for item in message["items"]] == ["a small gallery 99"]
        assert message["drop"] == [] and message["reset"] is False and len(thumbs) == 1
        jobs = front.replies("jobs")[-1][0]
        assert len(jobs["items"]) == 1 and not jobs["reset"]  # the job that finished, no older one
        assert all("gallery" not in update and "jobs" not in update for update in front.updates)
        panel.close()

    run(scenario())


def test_a_starting_front_end_gets_the_whole_lists_once(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        first = ImageGenPanel()
        FrontEnd(first).generate("a wren", params={"size": "256x256"}, variations=3)
        await first.wait()
        reloaded = FrontEnd(ImageGenPanel())  # the page was reloaded or the notebook reopened
        assert reloaded.replies("gallery") == []  # nothing is pushed before it asks
        reloaded.send({"type": "sync"})
        [(gallery, thumbs)] = reloaded.replies("gallery")
        assert gallery["reset"] is True
        assert [item["id"] for item in gallery["items"]] == [entry.id for entry in HISTORY.entries]
        assert thumbs == [entry.thumb for entry in HISTORY.entries]
        [(jobs, _)] = reloaded.replies("jobs")
        assert jobs == {"type": "jobs", "reset": True, "items": [], "drop": []}
        again = FrontEnd(first)
        again.send({"type": "sync"})
        assert [job["state"] for job in again.replies("jobs")[0][0]["items"]] == ["done"] * 3
        first.close()
        reloaded.panel.close()

    run(scenario())


def _reachable_bytes(root: Any) -> list[bytes]:
    """Every bytes object the kernel keeps alive through ``root``."""
    seen, found, todo = {id(root)}, [], [root]
    while todo:
        for child in gc.get_referents(todo.pop()):
            if id(child) in seen or isinstance(child, type):
                continue
            seen.add(id(child))
            if isinstance(child, bytes):
                found.append(child)
            else:
                todo.append(child)
    return found


def test_the_kernel_keeps_thumbnails_and_reads_originals_from_disk(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a meadow", params={"size": "1024x1024"}, variations=2)
        await panel.wait()
        originals = [image.data for image in panel.images]
        assert all(
            len(data) > 10 * len(entry.thumb) for data, entry in zip(originals, HISTORY.entries, strict=True)
        )
        held = _reachable_bytes(HISTORY.entries)
        assert not any(len(blob) >= len(data) for blob in held for data in originals)
        front.send({"type": "original", "id": HISTORY.entries[1].id, "request": "r1", "purpose": "view"})
        [(_, [sent])] = front.replies("original")
        assert sent == originals[1]
        panel.close()

    run(scenario())


@pytest.mark.parametrize("cache", ["on", "off"])
def test_originals_outlive_the_cache_and_leave_with_the_history(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cache: str
) -> None:
    if cache == "off":
        monkeypatch.setenv("IMAGEGEN_CACHE", "0")

    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a harbour", params={"size": "256x256"})
        await panel.wait()
        data = panel.images[0].data
        ImageCache.default().clear()  # `imagegen cache clear`, pruning or a refresh in another kernel
        front.send({"type": "use_as_input", "id": panel.gallery[0]["id"]})
        assert panel.error == "" and len(panel.inputs) == 1
        assert panel.save(tmp_path / "saved") and panel.images[0].data == data
        kept = HISTORY.entries[0].original.path
        in_cache = Path(kept).is_relative_to(ImageCache.default().directory)
        assert in_cache == (cache == "on") and os.stat(kept).st_mode & 0o077 == 0
        HISTORY.clear()
        assert not os.path.exists(kept)  # the folder never holds more than the history
        panel.close()

    run(scenario())


def test_an_original_changed_on_disk_is_reported_not_shown(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a dune", params={"size": "256x256"})
        await panel.wait()
        Path(HISTORY.entries[0].original.path).write_bytes(b"something else")
        front.send({"type": "original", "id": panel.gallery[0]["id"], "request": "r1", "purpose": "view"})
        assert front.replies("original") == []
        assert "changed on disk" in panel.error
        panel.close()

    run(scenario())


def test_a_killed_kernels_originals_are_removed_by_the_next_a_live_ones_never(emulator_env: Emulator) -> None:
    import subprocess
    import sys
    import textwrap

    from jupyter_imagegen.notebook._panel_originals import _HOST

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    cache = Path(ImageCache.default().directory)
    gone = ended.stdout.strip()
    abandoned = cache / f".panel-{gone}@{_HOST}-abc123"  # its owner died: its lock is free
    elsewhere = cache / f".panel-{gone}@another.host-abc123"
    unlocked = cache / f".panel-{gone}@{_HOST}-nolock"  # no lock file: never presumed gone
    # A kernel in another container with the same host name: its process id means nothing
    # here (no such process on this side), but it holds its folder's lock.
    live = cache / f".panel-{gone}@{_HOST}-live12"
    for folder in (abandoned, elsewhere, unlocked, live):
        folder.mkdir(parents=True)
        (folder / "0123456789ab").write_bytes(b"an image")
    for folder in (abandoned, elsewhere):
        (folder / ".lock").write_bytes(b"")
    holder = textwrap.dedent(
        f"""
        import fcntl, os, sys
        fd = os.open({str(live / ".lock")!r}, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    other_container = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert other_container.stdout is not None and other_container.stdout.readline() == "locked\n"

        async def scenario() -> None:
            panel = ImageGenPanel()
            FrontEnd(panel).generate("a quay", params={"size": "256x256"})
            await panel.wait()
            own = Path(HISTORY.entries[0].original.path).parent
            assert own.parent == cache
            panel.close()

        run(scenario())
    finally:
        other_container.communicate("", timeout=30)
    assert not abandoned.exists()
    assert (live / "0123456789ab").exists()  # its owner lives: never removed
    assert (unlocked / "0123456789ab").exists()
    assert (elsewhere / "0123456789ab").exists()  # a cache shared with another machine keeps its images


def test_an_image_stays_in_memory_when_no_file_can_be_written(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import tempfile

    from jupyter_imagegen.notebook import _panel_originals

    monkeypatch.setenv("IMAGEGEN_CACHE", "0")
    not_a_folder = tmp_path / "full-disk"
    not_a_folder.write_bytes(b"")
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_folder))  # every temporary file fails
    monkeypatch.setattr(_panel_originals, "_folders", {})

    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a lagoon", params={"size": "256x256"})
        await panel.wait()
        assert front.states() == ["done"] and len(panel.gallery) == 1
        front.send({"type": "original", "id": panel.gallery[0]["id"], "request": "r1", "purpose": "view"})
        [(_, [data])] = front.replies("original")
        assert data == panel.images[0].data and data.startswith(b"\x89PNG")
        panel.close()

    run(scenario())
    assert "Keeping a gallery image in memory" in caplog.text
