"""The check every received PNG passes before it counts as an image: every chunk whole, named,
and matching its CRC, up to and including IEND (unit tests of one function on real PNG bytes)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from jupyter_imagegen.client._imagebytes import verify_image


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def chunks(data: bytes) -> list[tuple[int, bytes, int]]:
    """(offset, name, length) of every chunk."""
    found, pos = [], 8
    while pos < len(data):
        length, name = struct.unpack_from(">I4s", data, pos)
        found.append((pos, name, length))
        pos += 12 + length
    return found


def test_a_whole_png_passes_with_its_size() -> None:
    assert verify_image(png()) == ("image/png", 64, 48)


def test_a_flipped_byte_in_any_chunk_is_refused() -> None:
    data = png()
    for pos, _name, length in chunks(data):
        for offset in {pos + 8, pos + 8 + length // 2, pos + 8 + length + 3} - {pos + 8 + length + 4}:
            damaged = bytearray(data)
            damaged[offset] ^= 0x01
            with pytest.raises(ValueError, match="damaged"):
                verify_image(bytes(damaged))


def test_a_damaged_end_chunk_is_refused() -> None:
    data = bytearray(png())
    data[-1] ^= 0x01  # the IEND chunk's CRC: the file did not arrive as it was sent
    with pytest.raises(ValueError, match=r"IEND.*CRC"):
        verify_image(bytes(data))


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, 0.99])
def test_a_png_cut_short_is_refused(keep: float) -> None:
    data = png()
    with pytest.raises(ValueError, match="damaged"):
        verify_image(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="damaged"):
        verify_image(data[:-1])


def test_a_chunk_with_no_name_is_refused() -> None:
    data = png()
    pos, _, length = chunks(data)[-2]  # the last IDAT
    body = b"\x00\x01\x02\x03" + data[pos + 8 : pos + 8 + length]
    renamed = (
        data[:pos]
        + data[pos : pos + 4]
        + body
        + struct.pack(">I", zlib.crc32(body))
        + data[pos + 12 + length :]
    )
    with pytest.raises(ValueError, match="damaged"):
        verify_image(renamed)
