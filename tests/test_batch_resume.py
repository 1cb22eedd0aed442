"""Interrupting a batch at any moment leaves the manifest and the files consistent, and the rerun
finishes the job without paying twice: SIGKILL and Ctrl-C of the real command, and the crash
windows (image saved but not recorded, torn manifest line, stray temp file) made by hand."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_imagegen import batch
from jupyter_imagegen.emulator import Emulator

ITEMS = 12
CONCURRENCY = 3
FAST = {"rpm": 60_000, "progress": False, "size": "256x256"}


def prompts(count: int) -> list[str]:
    return [f"a fox number {i}" for i in range(count)]


def lines(folder: Path) -> list[dict[str, object]]:
    """Every manifest line; each must be whole JSON (a torn line would fail here)."""
    text = (folder / "manifest.jsonl").read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def images(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".png")


def assert_consistent(folder: Path, *, after_kill: bool = False) -> None:
    """Every line that says done names a whole file of the recorded size. A kill may leave a temp
    file from a write it cut short (never under a real name); a finished run leaves none."""
    for line in lines(folder):
        if line["status"] == "done":
            assert (folder / str(line["file"])).stat().st_size == line["bytes"], line
    if not after_kill:
        assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]


def command(csv: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "jupyter_imagegen", "batch", str(csv), "--out", str(out),
        "--concurrency", str(CONCURRENCY), "--rpm", "60000", "--size", "256x256", "--quiet",
    ]  # fmt: skip


def start_and_stop(
    tmp_path: Path, emulator: Emulator, stop: signal.Signals
) -> tuple[Path, Path, dict[str, str]]:
    """Start the real command, wait for some items to be recorded, then send ``stop``."""
    csv, out = tmp_path / "prompts.csv", tmp_path / "out"
    csv.write_text("prompt\n" + "\n".join(prompts(ITEMS)) + "\n", encoding="utf-8")
    env = {**os.environ, **emulator.env}
    proc = subprocess.Popen(command(csv, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (out / "manifest.jsonl").exists() or len(lines(out)) < 4:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(stop)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == (-signal.SIGKILL if stop == signal.SIGKILL else 130), err
    if stop == signal.SIGINT:
        assert b"run the same batch again to continue" in err
    return csv, out, env


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_interrupted_command_resumes_without_paying_twice(tmp_path: Path, stop: signal.Signals) -> None:
    with Emulator(latency=0.3) as emulator:
        csv, out, env = start_and_stop(tmp_path, emulator, stop)
        assert_consistent(out, after_kill=True)
        recorded = len(lines(out))
        assert 4 <= recorded < ITEMS
        sent_before = len(emulator.requests)
        # Whatever was in flight when the process stopped (at most the concurrency) is lost.
        assert recorded <= sent_before <= len(images(out)) + CONCURRENCY

        rerun = subprocess.run(command(csv, out), env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        total_sent = len(emulator.requests)
    assert ITEMS <= total_sent <= ITEMS + CONCURRENCY
    assert_consistent(out)
    final = lines(out)
    assert sorted(int(line["index"]) for line in final) == list(range(ITEMS))  # one line per item
    assert all(line["status"] == "done" for line in final)
    assert images(out) == sorted(f"{i:05d}-a-fox-number-{i}.png" for i in range(ITEMS))
    assert f"{ITEMS} of {ITEMS} images done" in rerun.stdout


def drop_line(folder: Path, index: int) -> None:
    kept = [line for line in lines(folder) if line["index"] != index]
    (folder / "manifest.jsonl").write_text("".join(json.dumps(line) + "\n" for line in kept))


def test_an_image_saved_but_not_recorded_is_adopted_not_bought_again(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    first = batch(prompts(3), tmp_path, **FAST)
    drop_line(tmp_path, 1)  # as if killed between the file's rename and its manifest line
    again = batch(prompts(3), tmp_path, **FAST)
    assert (again.adopted, again.generated, again.requests) == (1, 0, 0)
    assert again.entries[1].adopted and again.entries[1].file == os.path.basename(first.files[1])
    assert again.entries[1].log_id == first.entries[1].log_id  # from the file's provenance
    assert len(emulator_env.requests) == 3 and "1 recovered from an interrupted run" in again.summary()


def test_an_unrecorded_file_that_is_not_this_item_is_kept_beside_the_new_one(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    batch(prompts(3), tmp_path, **FAST)
    drop_line(tmp_path, 2)
    (tmp_path / "00002-a-fox-number-2.png").write_bytes(b"not an image at all")
    (tmp_path / "00001-a-fox-number-1.jpg").write_bytes(b"an old copy in another format")
    drop_line(tmp_path, 1)
    again = batch(prompts(3), tmp_path, **FAST)
    assert (again.adopted, again.generated) == (1, 1)  # #1's png adopted, #2 made again
    assert again.entries[2].file == "00002-a-fox-number-2-2.png"  # the batch did not write the other
    assert (tmp_path / "00002-a-fox-number-2.png").read_bytes() == b"not an image at all"
    assert (tmp_path / "00001-a-fox-number-1.jpg").exists()  # not the batch's: never deleted
    assert_consistent(tmp_path)


def test_a_torn_last_line_is_cut_off_and_a_stray_temp_file_removed(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    batch(prompts(3), tmp_path, **FAST)
    with open(tmp_path / "manifest.jsonl", "ab") as handle:
        handle.write(b'{"index": 1, "key": "a3f')  # a write cut short by a crash
    (tmp_path / ".tmp-k1ll3d.part").write_bytes(b"half an image")
    again = batch(prompts(3), tmp_path, **FAST)
    assert again.ok and again.requests == 0 and again.skipped == 3
    assert_consistent(tmp_path)
    assert len(lines(tmp_path)) == 3


def test_another_format_the_batch_did_not_write_is_kept(emulator_env: Emulator, tmp_path: Path) -> None:
    stale = tmp_path / "00000-a-fox-number-0.jpg"
    tmp_path.mkdir(exist_ok=True)
    stale.write_bytes(b"\xff\xd8 an unreadable jpeg")
    result = batch(prompts(1), tmp_path, **FAST)
    assert result.generated == 1 and stale.exists()
    assert images(tmp_path) == ["00000-a-fox-number-0.png"]


def test_an_items_file_name_is_made_once_a_run(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Planning, saving and cleaning up each ask for an item's file name: it is made once.
    from jupyter_imagegen.batches import _inputs

    named: list[str] = []
    real = _inputs.safe_filename

    def counted(text: str, **kwargs: Any) -> str:
        named.append(text)
        return real(text, **kwargs)

    monkeypatch.setattr(_inputs, "safe_filename", counted)
    result = batch(prompts(4), tmp_path, **FAST)
    assert result.ok and [os.path.basename(f) for f in result.files] == images(tmp_path)
    assert sorted(named) == sorted(prompts(4))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names an fsynced file through /proc")
def test_every_line_follows_its_image_to_the_disk_and_lines_share_their_fsyncs(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power cut may lose the last lines (their images are adopted next run), never leave a line
    whose image had not reached the disk: each image is fsynced and in place before its line is
    written. The manifest's own fsyncs are shared: one a second and one at close, not one a line."""
    from jupyter_imagegen.batches._manifest import Manifest

    events: list[tuple[str, str]] = []
    real_fsync, real_replace, real_link, real_append = os.fsync, os.replace, os.link, Manifest.append

    def fsync(fd: int) -> None:
        events.append(("fsync", os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))))
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        events.append((f"rename {os.path.basename(src)}", os.path.basename(dst)))

    def link(src: Any, dst: Any) -> None:  # a new name is linked into place, never replaced
        real_link(src, dst)
        events.append((f"rename {os.path.basename(src)}", os.path.basename(dst)))

    def append(self: Manifest, entry: Any) -> None:
        events.append(("line", str(entry.file)))
        real_append(self, entry)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "link", link)
    monkeypatch.setattr(Manifest, "append", append)
    result = batch(prompts(ITEMS), tmp_path, **FAST)
    assert result.generated == ITEMS and len(lines(tmp_path)) == ITEMS
    for n, (kind, name) in enumerate(events):
        if kind != "line":
            continue
        renames = [
            (k, i) for i, (k, target) in enumerate(events[:n]) if k.startswith("rename") and target == name
        ]
        assert renames, f"the line for {name} came before its image was in place"
        temp, at = renames[-1][0].removeprefix("rename "), renames[-1][1]
        assert ("fsync", temp) in events[:at], f"{name} was renamed into place before it was fsynced"
    manifest_syncs = [name for kind, name in events if kind == "fsync" and name == "manifest.jsonl"]
    assert 1 <= len(manifest_syncs) < ITEMS  # shared, and at least the one at close
