"""The size of a received PNG or JPEG is read from its header without Pillow: the same size Pillow
reads for every kind of file it writes, and the same refusals for a broken header."""

from __future__ import annotations

import contextlib
import io
import struct
import subprocess
import sys
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from jupyter_imagegen.client._imagebytes import verify_image
from jupyter_imagegen.client._imageheader import jpeg_size, png_size


def encoded(mode: str, size: tuple[int, int], fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 30).convert(mode).save(buffer, format=fmt, **options)
    return buffer.getvalue()


_TAGS = Image.Exif()
_TAGS[0x010F] = "a camera"  # Make
_EXIF = _TAGS.tobytes()

PNGS = [
    (mode, size, options)
    for mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16")
    for size in ((1, 1), (37, 5), (640, 480))
    for options in ({}, {"interlace": 1} if mode != "I;16" else {})
]
JPEGS = [
    (mode, size, options)
    for mode in ("L", "RGB", "CMYK")
    for size in ((1, 1), (37, 5), (640, 480))
    for options in (
        {},
        {"progressive": True},
        {"quality": 30, "subsampling": 2},
        {"optimize": True, "exif": _EXIF},
        {"icc_profile": b"\x00" * 4000, "comment": b"made here"},
    )
]


@pytest.mark.parametrize(("mode", "size", "options"), PNGS)
def test_a_png_reads_the_size_pillow_reads(
    mode: str, size: tuple[int, int], options: dict[str, object]
) -> None:
    data = encoded(mode, size, "PNG", **options)
    assert png_size(data) == Image.open(io.BytesIO(data)).size == size
    assert verify_image(data) == ("image/png", *size)


@pytest.mark.parametrize(("mode", "size", "options"), JPEGS)
def test_a_jpeg_reads_the_size_pillow_reads(
    mode: str, size: tuple[int, int], options: dict[str, object]
) -> None:
    data = encoded(mode, size, "JPEG", **options)
    assert jpeg_size(data) == Image.open(io.BytesIO(data)).size == size
    assert verify_image(data) == ("image/jpeg", *size)


def _ihdr(width: int, height: int, depth: int, colour: int) -> bytes:
    body = b"IHDR" + struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_ihdr(10, 10, 8, 2)[:30], "stops inside its header"),
        (_ihdr(10, 10, 8, 2).replace(b"IHDR", b"IHDX"), "does not start with its IHDR"),
        (_ihdr(10, 10, 3, 2), "bit depth 3 with colour type 2"),
        (_ihdr(10, 10, 8, 5), "bit depth 8 with colour type 5"),
        (_ihdr(0, 10, 8, 2), "size of 0x10"),
        (_ihdr(10, 10, 8, 2)[:-1] + b"\x00", "IHDR'"),
    ],
)
def test_a_broken_png_header_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        png_size(data)


def _jpeg(*segments: bytes) -> bytes:
    return b"\xff\xd8" + b"".join(segments) + b"\x00" * 16 + b"\xff\xd9"


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


FRAME = _segment(0xC0, struct.pack(">BHHB", 8, 48, 64, 1) + b"\x01\x11\x00")
SCAN = _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")


def test_a_minimal_jpeg_header_reads_its_frame_size() -> None:
    assert jpeg_size(_jpeg(_segment(0xE0, b"JFIF\x00"), b"\xff", FRAME, b"\xff\xd0", SCAN)) == (64, 48)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_jpeg(SCAN, FRAME), "image data comes before any frame header"),
        (_jpeg(FRAME, b"\x00\x01", SCAN), "does not start with a marker"),
        (b"\xff\xd8" + FRAME[:6], "runs past the end|stops inside its header"),
        (_jpeg(_segment(0xC0, b"\x08\x00"), SCAN), "frame header is too short"),
        (_jpeg(_segment(0xC0, struct.pack(">BHHB", 8, 0, 64, 1) + b"\x01\x11\x00"), SCAN), "size of 64x0"),
        (b"\xff\xd8\xff\xe0\x00\x01", "runs past the end"),
        (b"\xff\xd8\xff\xe0\x00", "stops inside its header"),
        (b"\xff\xd8\xff\xe0\x00\x01\x00\x00", "runs past the end"),
    ],
)
def test_a_broken_jpeg_header_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        jpeg_size(data)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    head=st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"]),
    tail=st.binary(max_size=80),
)
def test_any_bytes_after_a_signature_are_an_image_or_a_value_error(head: bytes, tail: bytes) -> None:
    with contextlib.suppress(ValueError):  # any other exception fails the test
        verify_image(head + tail)


def test_checking_a_png_or_jpeg_does_not_load_pillow() -> None:
    # Pillow's open is the cost the header readers remove; it is loaded for GIF and WebP only.
    code = (
        "import io, sys\n"
        "from jupyter_imagegen.client._imagebytes import verify_image\n"
        f"verify_image({encoded('RGB', (8, 8), 'PNG')!r})\n"
        f"verify_image({encoded('RGB', (8, 8), 'JPEG')!r})\n"
        "print('PIL' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
