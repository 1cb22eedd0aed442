"""Drawing the emulator's images: labelled, deterministic test patterns that encode like photos.

Each image is a smooth three-colour gradient picked from a hash of the request and its sample
number, a little grain, the prompt, and banners saying plainly that it came from the emulator.
The grain is there so that file sizes (and so download and cache behaviour) resemble real
output: a 1024x1024 PNG is about 1.7 MB.
"""

from __future__ import annotations

import hashlib
import html
import io
import random
import textwrap
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps

__all__ = ["ImageFormat", "image_format", "render_image"]

# Grain strength: uniform grey noise blended at this weight (about ±19 levels).
_GRAIN = 0.15
# How much of the first input image shows through in an edit.
_EDIT_WEIGHT = 0.55


@dataclass(frozen=True)
class ImageFormat:
    """An output encoding: Pillow's name for it, its MIME type and the URL file extension."""

    pillow: str
    mime: str
    extension: str


_FORMATS = {
    "png": ImageFormat("PNG", "image/png", "png"),
    "jpeg": ImageFormat("JPEG", "image/jpeg", "jpg"),
    "webp": ImageFormat("WEBP", "image/webp", "webp"),
    "svg": ImageFormat("SVG", "image/svg+xml", "svg"),
}
_ALIASES = {
    "jpg": "jpeg",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/webp": "webp",
    "image/svg+xml": "svg",
}


def image_format(name: str) -> ImageFormat:
    """The format for ``png``/``jpeg``/``jpg``/``webp`` or a MIME type; KeyError otherwise."""
    key = name.strip().lower()
    return _FORMATS[_ALIASES.get(key, key)]


def _palette(digest: bytes) -> list[tuple[int, int, int]]:
    # Kept between 40 and 230 per channel so the white, black-outlined text stays readable.
    return [
        (40 + digest[i] * 190 // 255, 40 + digest[i + 1] * 190 // 255, 40 + digest[i + 2] * 190 // 255)
        for i in (0, 3, 6)
    ]


def _background(digest: bytes, size: tuple[int, int]) -> Image.Image:
    first, second, third = _palette(digest)
    corners = Image.frombytes("RGB", (2, 2), bytes([*first, *second, *third, *first]))
    # Upscaling a 2x2 image bilinearly is a smooth gradient at almost no cost.
    gradient = corners.resize(size, Image.Resampling.BILINEAR)
    # Image.effect_noise draws from an unseeded C generator; a seeded Random keeps images
    # reproducible from the request alone.
    grain_bytes = random.Random(digest).randbytes(size[0] * size[1])
    grain = Image.frombytes("L", size, grain_bytes).convert("RGB")
    return Image.blend(gradient, grain, _GRAIN)


def _font(size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, int(size)))


def _fitted_font(
    draw: ImageDraw.ImageDraw, text: str, size: float, max_width: float
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    font = _font(size)
    width = draw.textlength(text, font=font)
    if width > max_width:
        font = _font(size * max_width / width)
    return font


def _banner(draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = box
    draw.rectangle(box, fill=(12, 12, 12))
    font = _fitted_font(draw, text, (bottom - top) * 0.6, (right - left) * 0.94)
    draw.text(((left + right) / 2, (top + bottom) / 2), text, fill=(255, 214, 0), font=font, anchor="mm")


def _prompt_block(draw: ImageDraw.ImageDraw, prompt: str, width: int, height: int, band: int) -> None:
    size = max(8, min(width, height) // 16)
    font = _font(size)
    chars_per_line = max(8, int(width * 0.86 / (size * 0.55)))
    max_lines = max(1, int((height - 2 * band) * 0.8 / (size * 1.25)))
    lines = textwrap.wrap(" ".join(prompt.split()), chars_per_line) or ["(empty prompt)"]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1][: chars_per_line - 1] + "…"]
    draw.multiline_text(
        (width / 2, height / 2),
        "\n".join(lines),
        fill=(255, 255, 255),
        font=font,
        anchor="mm",
        align="center",
        spacing=size // 4,
        stroke_width=max(1, size // 12),
        stroke_fill=(0, 0, 0),
    )


def _svg(model: str, prompt: str, sample: int, digest: bytes, size: tuple[int, int]) -> bytes:
    """A vector test pattern: two colours from the request's hash, the prompt and a banner."""
    width, height = size
    first, second, _ = _palette(digest)
    words = html.escape(textwrap.shorten(prompt, 80) or "(no prompt)")
    label = html.escape(f"CLOUDFLARE EMULATOR · {model} · sample {sample} · test pattern")
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">
<defs><linearGradient id="g"><stop offset="0" stop-color="rgb{first}"/><stop offset="1" stop-color="rgb{second}"/></linearGradient></defs>
<rect width="{width}" height="{height}" fill="url(#g)"/>
<text x="12" y="28" font-family="sans-serif" font-size="18" fill="white">{label}</text>
<text x="12" y="{height // 2}" font-family="sans-serif" font-size="24" fill="white">{words}</text>
</svg>
"""
    return text.encode("utf-8")


def render_image(
    *,
    model: str,
    prompt: str,
    request_key: str,
    sample: int,
    size: tuple[int, int],
    fmt: ImageFormat,
    edit_source: Image.Image | None = None,
    edit_count: int = 0,
) -> bytes:
    """The encoded image for one sample of one request; the same arguments give the same bytes."""
    digest = hashlib.sha256(f"{request_key}\n{sample}".encode()).digest()
    width, height = size
    if fmt.pillow == "SVG":
        return _svg(model, prompt, sample, digest, size)
    canvas = _background(digest, size)
    if edit_source is not None:
        fitted = ImageOps.fit(edit_source.convert("RGB"), size, Image.Resampling.BILINEAR)
        canvas = Image.blend(canvas, fitted, _EDIT_WEIGHT)
    draw = ImageDraw.Draw(canvas)
    band = max(10, height // 14)
    _banner(draw, f"CLOUDFLARE EMULATOR · {model} · sample {sample}", (0, 0, width, band))
    footer = f"test pattern, not a model output · {width}x{height}"
    if edit_count:
        footer += f" · edit of {edit_count} input image{'s' if edit_count > 1 else ''}"
    _banner(draw, footer, (0, height - band * 2 // 3, width, height))
    _prompt_block(draw, prompt, width, height, band)
    out = io.BytesIO()
    if fmt.pillow == "PNG":
        canvas.save(out, "PNG", compress_level=1)  # level 1: a few times faster, a little larger
    elif fmt.pillow == "JPEG":
        canvas.save(out, "JPEG", quality=90)
    else:
        canvas.save(out, "WEBP", quality=80, method=0)
    return out.getvalue()
