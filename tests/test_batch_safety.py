"""A batch never destroys finished work: a rerun with other parameters into the same folder is
refused before anything is sent, and a manifest line never says "done" for an image not on disk."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from jupyter_imagegen import ValidationError, batch
from jupyter_imagegen.cli import main
from jupyter_imagegen.emulator import Emulator

FAST = {"rpm": 60_000, "progress": False, "size": "256x256"}
LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"
PROMPTS = ["a fox", "a heron"]


def snapshot(folder: Path) -> dict[str, bytes]:
    """The folder's images; the manifest and the usage ledger beside the test's cache change."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.name != "manifest.jsonl" and not p.name.startswith("cache-usage-emulator.json")
    }


@pytest.mark.parametrize(
    ("changed", "forget_manifest"),
    [
        ({"size": "512x512"}, False),
        ({"model": LIGHTNING}, False),
        ({"size": "512x512"}, True),  # no manifest: the files' own provenance tells
    ],
    ids=["other-size", "other-model", "manifest-deleted"],
)
@pytest.mark.filterwarnings("ignore:'size' is not a parameter of @cf")  # the other model's size: said once
def test_a_rerun_with_other_parameters_never_overwrites_earlier_images(
    emulator_env: Emulator, tmp_path: Path, changed: dict[str, str], forget_manifest: bool
) -> None:
    first = batch(PROMPTS, tmp_path, **FAST)
    assert first.ok and len(first.files) == 2
    if forget_manifest:
        (tmp_path / "manifest.jsonl").unlink()
    before = snapshot(tmp_path)
    sent = len(emulator_env.requests)
    with pytest.raises(ValidationError, match=r"already holds images of an earlier batch .*nothing was sent"):
        batch(PROMPTS, tmp_path, **{**FAST, **changed})
    assert snapshot(tmp_path) == before  # no image replaced, none deleted
    assert len(emulator_env.requests) == sent
    with pytest.raises(ValidationError, match="already holds images"):
        batch(PROMPTS, tmp_path, resume=False, **{**FAST, **changed})
    assert snapshot(tmp_path) == before
    # The same batch again is still a no-op, and another folder takes the new parameters.
    if not forget_manifest:
        assert batch(PROMPTS, tmp_path, **FAST).skipped == 2
    assert batch(PROMPTS, tmp_path.parent / f"{tmp_path.name}-second", **{**FAST, **changed}).ok
    assert snapshot(tmp_path) == before


def test_imagegen_batch_into_a_used_folder_with_other_parameters_is_one_line(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    base = ["batch", str(prompts), "--out", str(out), "--quiet", "--rpm", "60000"]
    assert main([*base, "--size", "256x256"]) == 0
    before = snapshot(out)
    capsys.readouterr()
    assert main([*base, "--size", "512x512"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "already holds images of an earlier batch" in err
    assert err.count("\n") == 1 and snapshot(out) == before


def test_no_done_line_for_an_image_that_could_not_be_written(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jupyter_imagegen.client._files as files

    def disk_full(path: str, payload: bytes, **_: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device", path)

    with monkeypatch.context() as patch, pytest.raises(OSError) as info:
        patch.setattr(files, "_write_temp", disk_full)  # image files only; the manifest still writes
        batch(PROMPTS, tmp_path, **FAST)
    assert info.value.errno == errno.ENOSPC
    manifest = (tmp_path / "manifest.jsonl").read_text(encoding="utf-8")
    done = [line for line in manifest.splitlines() if json.loads(line)["status"] == "done"]
    assert done == [] and not [p for p in tmp_path.iterdir() if p.suffix == ".png"]
    again = batch(PROMPTS, tmp_path, **FAST)  # the space is back: the rerun finishes the job
    assert again.ok and again.generated == 2 and all(os.path.exists(f) for f in again.files)
