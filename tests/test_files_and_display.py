"""Saved files carry provenance and never overwrite; notebook displays embed one small image."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from jupyter_imagegen import GeneratedImage
from jupyter_imagegen.client._display import PREVIEW_BUDGET, image_bundle, preview_bytes
from jupyter_imagegen.client._files import read_provenance, safe_filename, unique_path, write_new_file

IMAGE_MIMES = {"image/png", "image/jpeg", "image/webp", "image/gif"}


def photo_like(size: int = 1024, mode: str = "RGB", fmt: str = "PNG") -> bytes:
    noise = Image.effect_noise((size, size), 40).convert("RGB")
    gradient = Image.linear_gradient("L").resize((size, size)).convert("RGB")
    image = Image.blend(gradient, noise, 0.3).convert(mode)
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize((size, size)))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def generated(data: bytes, mime: str = "image/png", size: int = 1024) -> GeneratedImage:
    return GeneratedImage(
        data=data,
        mime_type=mime,
        prompt="a fox / ../etc",
        model="openai/gpt-image-1.5",
        params={"size": f"{size}x{size}"},
        width=size,
        height=size,
        log_id="log-7",
        created="2026-01-01T00:00:00+00:00",
    )


def test_png_save_embeds_provenance_without_touching_pixels(tmp_path: Path) -> None:
    original = photo_like(64)
    image = generated(original, size=64)
    path = image.save(tmp_path / "fox")
    assert path.endswith("fox.png")
    meta = read_provenance(path)
    assert meta is not None
    assert meta["prompt"] == "a fox / ../etc" and meta["model"] == "openai/gpt-image-1.5"
    assert meta["params"] == {"size": "64x64"} and meta["generator"].startswith("jupyter-imagegen ")
    with Image.open(path) as saved, Image.open(io.BytesIO(original)) as source:
        assert saved.info["prompt"] == "a fox / ../etc"
        assert saved.tobytes() == source.tobytes()


def test_jpeg_save_embeds_provenance_as_a_comment(tmp_path: Path) -> None:
    image = generated(photo_like(32, fmt="JPEG"), mime="image/jpeg", size=32)
    path = image.save(tmp_path / "x")
    assert path.endswith(".jpg")
    meta = read_provenance(path)
    assert meta is not None and meta["log_id"] == "log-7"


def test_save_never_overwrites(tmp_path: Path) -> None:
    image = generated(photo_like(16), size=16)
    target = tmp_path / "one.png"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="already exists"):
        image.save(target)
    assert target.read_bytes() == b"precious"
    image.save(target, overwrite=True)
    assert target.read_bytes() != b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["one.png"]  # no temp files left


def test_write_new_file_is_exclusive(tmp_path: Path) -> None:
    path = str(tmp_path / "a.bin")
    write_new_file(path, b"1")
    with pytest.raises(FileExistsError):
        write_new_file(path, b"2")
    assert Path(path).read_bytes() == b"1"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("A red fox, in snow!", "a-red-fox-in-snow"),
        ("../../etc/passwd", "etc-passwd"),
        ("CON", "con-image"),
        ("nul", "nul-image"),
        ("tab\tand\x00null", "tab-and-null"),
        ("", "image"),
        ("...", "image"),
        ("café 東京", "café-東京"),
    ],
)
def test_safe_filename(text: str, expected: str) -> None:
    assert safe_filename(text) == expected


def test_safe_filename_is_bounded_and_unique_path_counts_up(tmp_path: Path) -> None:
    assert len(safe_filename("word " * 100)) <= 60
    first = unique_path(str(tmp_path), "fox", ".png")
    Path(first).write_bytes(b"x")
    assert os.path.basename(unique_path(str(tmp_path), "fox", ".png")) == "fox-2.png"


def test_display_bundle_has_exactly_one_image_type_under_budget() -> None:
    image = generated(photo_like(1024))
    assert len(image.data) > PREVIEW_BUDGET  # the original would bloat the notebook
    data, metadata = image._repr_mimebundle_()
    mimes = [key for key in data if key in IMAGE_MIMES]
    assert mimes == ["image/jpeg"] and "text/plain" in data
    assert len(base64.b64decode(data["image/jpeg"])) <= PREVIEW_BUDGET
    assert metadata["jupyter_imagegen"]["prompt"] == "a fox / ../etc"


def test_transparent_images_stay_png_and_png_format_is_lossless() -> None:
    image = generated(photo_like(128, mode="RGBA"), size=128)
    mime, _ = preview_bytes(image)
    assert mime == "image/png"
    opaque = generated(photo_like(128), size=128)
    assert preview_bytes(opaque, "png") == ("image/png", opaque.data)
    assert preview_bytes(opaque, "webp")[0] == "image/webp"
    with pytest.raises(ValueError, match="display format must be one of"):
        image_bundle(opaque, "gif")
