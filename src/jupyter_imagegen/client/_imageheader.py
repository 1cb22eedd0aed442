"""The size a PNG or JPEG declares, read from its header without Pillow.

Every image a model sends is checked before it is used (:func:`._imagebytes.verify_image`). For
the two formats models answer in, the size is a few reads of fixed fields; Pillow's ``open``
builds an image object through its plugin registry, which in the flow of real requests (its code
gone cold between images) cost several times the rest of a JPEG's check. Other formats still go
through Pillow. Each reader refuses what Pillow's open refuses for a broken header.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["jpeg_size", "png_size"]

_PNG_IHDR = struct.Struct(">I4sIIBB")  # length, "IHDR", width, height, bit depth, colour type
# ... then compression, filter, interlace (1 byte each) and the CRC: 8 + 4 + 4 + 13 + 4 = 33 bytes.
# Colour type -> the bit depths the PNG specification allows with it.
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def png_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` from the IHDR chunk, which must come first; ValueError if damaged."""
    if len(data) < 33:
        raise ValueError("the PNG data is damaged or incomplete (it stops inside its header)")
    length, kind, width, height, depth, colour = _PNG_IHDR.unpack_from(data, 8)
    if kind != b"IHDR" or length != 13:
        raise ValueError("the PNG data is damaged (it does not start with its IHDR header chunk)")
    if zlib.crc32(data[12:29]) != int.from_bytes(data[29:33], "big"):
        # Checked here, before the size is believed: a flipped bit must not pass for a huge image.
        raise ValueError("the PNG data is damaged or incomplete (its b'IHDR' chunk fails its CRC check)")
    if depth not in _PNG_DEPTHS.get(colour, ()):
        raise ValueError(f"the PNG data is damaged (bit depth {depth} with colour type {colour})")
    if not width or not height:
        raise ValueError(f"the PNG declares a size of {width}x{height}")
    return width, height


# Start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8 and CC are not.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}  # restart markers and TEM: no length
_START_OF_SCAN = 0xDA
_U16 = struct.Struct(">H")
_JPEG_FRAME = struct.Struct(">HBHH")  # length, precision, height, width


def jpeg_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` from the frame header, walking the segments up to the image data
    (which must follow a frame header); ValueError if damaged."""
    position, end, size = 2, len(data), None
    while position + 4 <= end:
        if data[position] != 0xFF:
            raise ValueError("the JPEG data is damaged (a header segment does not start with a marker)")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        (length,) = _U16.unpack_from(data, position + 2)
        if length < 2 or position + 2 + length > end:
            raise ValueError("the JPEG data is damaged or incomplete (a header segment runs past the end)")
        if marker in _JPEG_FRAMES:
            if length < _JPEG_FRAME.size:
                raise ValueError("the JPEG data is damaged (its frame header is too short)")
            _, _, height, width = _JPEG_FRAME.unpack_from(data, position + 2)
            size = width, height
        elif marker == _START_OF_SCAN:
            if size is None:
                raise ValueError("the JPEG data is damaged (its image data comes before any frame header)")
            if not size[0] or not size[1]:
                raise ValueError(f"the JPEG declares a size of {size[0]}x{size[1]}")
            return size
        position += 2 + length
    raise ValueError("the JPEG data is damaged or incomplete (it stops inside its header)")
