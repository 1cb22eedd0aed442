"""A batch never replaces or deletes a file it did not write, or one changed since it wrote it, and
never follows a manifest line out of its folder."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from jupyter_imagegen import ImageGenWarning, batch
from jupyter_imagegen.emulator import Emulator

FAST = {"rpm": 60_000, "progress": False, "size": "256x256"}
PROMPTS = ["a fox", "a heron"]
RETOUCHED = b"\x89PNG\r\n\x1a\n retouched by hand, no provenance, another size"


def test_a_retouched_image_is_reported_as_changed_and_never_paid_for_or_replaced(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    first = batch(PROMPTS, tmp_path, **FAST)
    retouched = Path(first.files[0])
    retouched.write_bytes(RETOUCHED)
    sent = len(emulator_env.requests)
    again = batch(PROMPTS, tmp_path, **FAST)
    assert len(emulator_env.requests) == sent and again.generated == 0
    assert retouched.read_bytes() == RETOUCHED
    assert again.changed == (retouched.name,)
    assert f"changed since this batch wrote them were left as they are ({retouched.name})" in again.summary()


def test_a_fresh_run_writes_beside_a_retouched_image_never_over_it(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    first = batch(PROMPTS, tmp_path, **FAST)
    retouched = Path(first.files[0])
    retouched.write_bytes(RETOUCHED)
    again = batch(PROMPTS, tmp_path, resume=False, **FAST)
    assert retouched.read_bytes() == RETOUCHED
    assert again.entries[0].file == retouched.stem + "-2.png"
    assert again.entries[1].file == Path(first.files[1]).name  # its own unchanged image is replaced


def test_a_file_the_batch_did_not_write_keeps_its_name(emulator_env: Emulator, tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    mine = tmp_path / "00000-a-fox.png"
    mine.write_bytes(b"the user's own drawing")
    other_format = tmp_path / "00000-a-fox.jpg"
    other_format.write_bytes(b"\xff\xd8 the user's own jpeg")
    result = batch(PROMPTS[:1], tmp_path, **FAST)
    assert result.ok and result.entries[0].file == "00000-a-fox-2.png"
    assert mine.read_bytes() == b"the user's own drawing"
    assert other_format.read_bytes() == b"\xff\xd8 the user's own jpeg"
    # The next run finds its own image from the manifest and sends nothing.
    assert batch(PROMPTS[:1], tmp_path, **FAST).skipped == 1


@pytest.mark.parametrize("field", ["file", "others"])
def test_a_manifest_line_pointing_outside_the_folder_is_ignored_with_a_warning(
    emulator_env: Emulator, tmp_path: Path, field: str
) -> None:
    out = tmp_path / "out"
    first = batch(PROMPTS, out, **FAST)
    elsewhere = tmp_path / "elsewhere.png"
    elsewhere.write_bytes(b"somebody else's file")
    manifest = out / "manifest.jsonl"
    lines = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    if field == "file":
        lines[0]["file"], lines[0]["bytes"] = "../elsewhere.png", elsewhere.stat().st_size
    else:  # a further image of the answer, as a model answering several would have
        lines[0]["others"] = {"../elsewhere.png": elsewhere.stat().st_size}
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with pytest.warns(
        ImageGenWarning,
        match=r"1 line\(s\) of .*manifest.jsonl that name a file outside its folder \(.*'\.\./elsewhere\.png'",
    ):
        again = batch(PROMPTS, out, **FAST)
    assert Path(first.files[0]).exists()  # the real image is kept (adopted from its provenance)
    assert elsewhere.read_bytes() == b"somebody else's file"
    assert all(Path(path).parent == out for path in again.files)
    assert again.adopted == 1 and again.generated == 0


def test_a_clean_manifest_gives_no_warning(emulator_env: Emulator, tmp_path: Path) -> None:
    batch(PROMPTS, tmp_path, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageGenWarning)
        assert batch(PROMPTS, tmp_path, **FAST).skipped == 2


SEVERAL = {"rpm": 60_000, "progress": False, "model": "bytedance/seedream-4.5", "max_images": 2}


def test_a_several_image_answer_is_recorded_whole_and_never_written_over_a_users_file(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    mine = tmp_path / "00000-a-fox-2.png"  # the user's, at the name the fox's second image would take
    mine.write_bytes(RETOUCHED)
    result = batch(["a fox"], tmp_path, **SEVERAL)
    assert result.ok and mine.read_bytes() == RETOUCHED
    (entry,) = result.entries
    assert entry.file == "00000-a-fox.png" and list(entry.others) == ["00000-a-fox-2-2.png"]
    second = tmp_path / "00000-a-fox-2-2.png"
    assert entry.others[second.name] == second.stat().st_size and second.read_bytes() != RETOUCHED
    lines = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert lines[-1]["others"] == {second.name: second.stat().st_size}


def test_a_fresh_run_replaces_the_several_images_it_wrote_and_nothing_else(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    batch(["a fox"], tmp_path, **SEVERAL)
    before = sorted(p.name for p in tmp_path.glob("*.png"))
    again = batch(["a fox"], tmp_path, resume=False, **SEVERAL)
    assert again.generated == 1
    assert (
        sorted(p.name for p in tmp_path.glob("*.png")) == before == ["00000-a-fox-2.png", "00000-a-fox.png"]
    )
