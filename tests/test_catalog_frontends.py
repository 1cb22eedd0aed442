"""Today's shapes from the magic, the command and batch (a representative model of each front
end's concern), checked on the wire: content type, field names and counts (docs/cloudflare.md §8)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from jupyter_imagegen import batch
from jupyter_imagegen.cli import main
from jupyter_imagegen.emulator import Emulator
from magic_support import ipython_shell, run

URL = "https://example.com/style.png"

# (options for the magic and the command, images expected back, check of the one request sent)
CASES: dict[str, tuple[str, int, Any]] = {
    "multipart FLUX.2 with two input images": (
        "-m @cf/black-forest-labs/flux-2-klein-4b --param width=256 --param height=256 -i {png} -i {png}",
        1,
        lambda r: (
            r.headers["content-type"].startswith("multipart/form-data")
            and [k for k, v in r.form.items() if isinstance(v, bytes)] == ["input_image_0", "input_image_1"]
        ),
    ),
    "three images from one Qwen request": (
        "-m alibaba/qwen-image-3.0-pro --param size=256x256 --param n=3",
        3,
        lambda r: r.json["input"]["n"] == 3 and r.json["input"]["size"] == "256x256",
    ),
    "Krea style references as URL objects": (
        f"-m krea/krea-2-large --param resolution=1K --param aspect_ratio=1:1 -i {URL}",
        1,
        lambda r: r.json["input"]["image_style_references"] == [{"url": URL}],
    ),
    "Stable Diffusion with an image and a mask": (
        "-m @cf/bytedance/stable-diffusion-xl-lightning --param width=256 --param height=256 -i {png} --mask {png}",
        1,
        lambda r: isinstance(r.json["image_b64"], str) and isinstance(r.json["mask"], list),
    ),
}


def png_file(folder: Path) -> Path:
    path = folder / "in.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def model_calls(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if "/ai/run" in r.path]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_magic_sends_each_shape_and_shows_every_image(
    emulator_env: Emulator, tmp_path: Path, case: str
) -> None:
    options, count, check = CASES[case]
    options = options.format(png=png_file(tmp_path))
    with ipython_shell() as shell:
        ran = run(shell, f"%imagegen {options} -o got a fox in snow")
        assert ran.error is None, ran.error
        got = shell.user_ns["got"]
    (sent,) = model_calls(emulator_env)
    assert check(sent)
    assert len(ran.images) == count
    assert len(got if isinstance(got, list) else [got]) == count
    if count == 1 and got.seed is not None:  # shown, so --param seed=N can make it again
        assert f"seed {got.seed}" in ran.status


def test_a_grid_of_several_image_answers_counts_the_images_each_cell_holds(emulator_env: Emulator) -> None:
    with ipython_shell() as shell:
        ran = run(
            shell,
            "%imagegen -m alibaba/qwen-image-3.0-pro --param size=256x256 --param n=3 -n 2 -o got a fox",
        )
        assert ran.error is None, ran.error
        got = shell.user_ns["got"]
    assert len(model_calls(emulator_env)) == 2 and len(got) == 6  # every image is in the result
    (grid,) = ran.images  # one grid, a cell per request, each showing its answer's first image
    captions = grid.metadata["jupyter_imagegen"]["captions"]
    assert [c.split(" · ")[0] for c in captions] == ["#1", "#2"]
    assert all(c.endswith(" s · +2 more") for c in captions), captions


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_command_sends_each_shape_and_writes_every_image(
    emulator_env: Emulator,
    tmp_path: Path,
    case: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options, count, check = CASES[case]
    monkeypatch.chdir(tmp_path)
    words = options.format(png=png_file(tmp_path)).split()
    assert main(["generate", "a fox in snow", *words]) == 0
    (sent,) = model_calls(emulator_env)
    assert check(sent)
    written = [line for line in capsys.readouterr().out.splitlines() if "(" in line]
    assert len(written) == count and all(Path(line.split()[0]).is_file() for line in written)


def test_a_promptless_model_from_the_magic_and_the_command(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = png_file(tmp_path)
    with ipython_shell() as shell:
        ran = run(shell, f"%imagegen -m bria/remove-background -i {source}")
        assert ran.error is None and len(ran.images) == 1
    assert main(["generate", "-m", "bria/remove-background", "-i", str(source), "-o", "cut.png"]) == 0
    assert (tmp_path / "cut.png").is_file()
    # The command found the magic's image in the shared cache: one request, holding only the image.
    assert [set(r.json["input"]) for r in model_calls(emulator_env)] == [{"image"}]


def test_a_missing_required_parameter_is_one_line_from_the_command(
    emulator_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "a fox", "-m", "klingai/kling-v3-image", "--param", "aspect_ratio=1:1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "resolution: is required (choose one of: 1k, 2k)" in err
    assert model_calls(emulator_env) == []


def test_a_batch_writes_every_image_of_a_several_image_answer(emulator_env: Emulator, tmp_path: Path) -> None:
    result = batch(
        ["a fox", "an owl"],
        tmp_path / "out",
        model="bytedance/seedream-4.5",
        max_images=2,  # the model's own count; a batch's n would mean variations
        progress=False,
        rpm=60_000,
    )
    assert result.ok
    files = sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix == ".png")
    assert len(files) == 4
    sent = model_calls(emulator_env)
    assert len(sent) == 2 and all(r.json["input"]["max_images"] == 2 for r in sent)
