"""Image bytes in and out: sniffing formats, checking that bytes are a safe image, and turning
whatever the user holds (a path, bytes, a PIL image, a numpy array, a GeneratedImage) into the
base64 strings a model's edit field takes.

Pillow is imported inside functions so that ``import jupyter_imagegen`` stays cheap.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import struct
import zlib
from typing import TYPE_CHECKING, Any

from .._exceptions import ValidationError
from ._imageheader import jpeg_size, png_size
from ._svg import SVG_MIME, is_svg, svg_size

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["MAX_INPUT_IMAGE_BYTES", "MAX_PIXELS", "encode_input_image", "sniff_mime", "verify_image"]

# OpenAI accepts edit images up to 50 MB; Cloudflare's request limit is lower in practice.
MAX_INPUT_IMAGE_BYTES = 20 * 1024 * 1024
# Larger than any model's output (4K is 16.8 Mpx) yet far below a decompression bomb.
MAX_PIXELS = 64_000_000

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_mime(data: bytes) -> str | None:
    """The image MIME type that ``data`` starts with, or None when it is no image we know."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if is_svg(data):
        return SVG_MIME
    return None


def verify_image(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[str, int, int]:
    """``(mime, width, height)`` of ``data``, or ValueError when it is not a safe, whole image."""
    mime = sniff_mime(data)
    if mime is None:
        raise ValueError("the bytes are not a PNG, JPEG, WebP or GIF image (nor an SVG)")
    if mime == SVG_MIME:
        width, height = svg_size(data)
    elif mime == "image/png":
        width, height = png_size(data)  # its header's CRC checked: a damaged size is damage
        _check_pixels(width, height, max_pixels)
        _check_png_chunks(data)
    elif mime == "image/jpeg":
        width, height = jpeg_size(data)
        _check_pixels(width, height, max_pixels)
        # Decoding every image would cost ~10 ms of CPU per megapixel; a JPEG cut short lacks
        # its end marker, which is what a truncated transfer leaves.
        _check_end_marker(data, mime)
    else:
        width, height = _pillow_check(data, mime, max_pixels)
    return mime, width, height


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ValueError(_too_many_pixels(f"{width}x{height} = {width * height:,}", max_pixels))


def _pillow_check(data: bytes, mime: str, max_pixels: int) -> tuple[int, int]:
    """GIF and WebP, which models rarely send, through Pillow's own checks."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            _check_pixels(width, height, max_pixels)
            if mime == "image/gif":
                # Pillow's verify() does not read a GIF's data, so a file cut short would pass it.
                _check_end_marker(data, mime)
            else:
                im.verify()
    except ValueError:
        raise
    except Image.DecompressionBombError as exc:  # over Pillow's own limit, checked before ours
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        raise ValueError(
            _too_many_pixels(f"{int(declared[1]):,}" if declared else "too many", max_pixels)
        ) from None
    except UnidentifiedImageError:  # its message shows a BytesIO repr, not a reason
        raise ValueError("the image data is damaged: no decoder can read it") from None
    except Exception as exc:  # Pillow raises many types for broken files
        raise ValueError(f"the image data is damaged or incomplete ({exc})") from None
    return width, height


_END_MARKERS = {"image/jpeg": b"\xff\xd9", "image/gif": b"\x3b"}


def _check_end_marker(data: bytes, mime: str) -> None:
    # Encoders may pad after the marker, so look near the end rather than at the last byte.
    if _END_MARKERS[mime] not in data[-64:]:
        kind = mime.split("/")[1].upper()
        raise ValueError(f"the {kind} data is damaged or incomplete (it stops before its end marker)")


def _check_png_chunks(data: bytes) -> None:
    """What Pillow's PNG verify() checks (every chunk whole, named and matching its CRC, up to
    IEND), walked over the bytes in place: Pillow copies each chunk out of a file object first,
    which cost as much again as the CRCs themselves."""
    view, end, pos = memoryview(data), len(data), 8
    while True:
        if pos + 12 > end:
            raise ValueError("the PNG data is damaged or incomplete (it stops before its IEND chunk)")
        length, kind = _PNG_CHUNK.unpack_from(data, pos)
        stop = pos + 8 + length
        if stop + 4 > end:
            raise ValueError(f"the PNG data is damaged or incomplete (its {kind!r} chunk is cut short)")
        if not kind.isalpha():
            raise ValueError(f"the PNG data is damaged or incomplete (a chunk is named {kind!r})")
        if zlib.crc32(view[pos + 4 : stop]) != int.from_bytes(view[stop : stop + 4], "big"):
            raise ValueError(
                f"the PNG data is damaged or incomplete (its {kind!r} chunk fails its CRC check)"
            )
        if kind == b"IEND":
            return
        pos = stop + 4


_PNG_CHUNK = struct.Struct(">I4s")


def _too_many_pixels(declared: str, max_pixels: int) -> str:
    return (
        f"the image declares {declared} pixels, over the {max_pixels:,} pixel limit (a decompression bomb?)"
    )


def decode_base64_image(text: str) -> bytes:
    """Bytes from raw base64 or a ``data:image/...;base64,`` URI; ValueError when neither."""
    payload = text
    if text.startswith("data:"):
        header, _, payload = text.partition(",")
        if not header.endswith(";base64"):
            raise ValueError("the data URI is not base64-encoded")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        pass  # perhaps wrapped in lines: the same check once the whitespace is gone
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the string is neither an https URL nor valid base64 image data") from None


def _from_pil(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _from_array(array: Any) -> bytes:
    from PIL import Image

    if array.dtype.kind == "f":
        array = (array.clip(0.0, 1.0) * 255).round().astype("uint8")
    elif array.dtype.name != "uint8":
        raise ValidationError(
            f"An image array must be uint8 (0-255) or float (0-1), got dtype {array.dtype}."
        )
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ValidationError(f"An image array must be HxW, HxWx3 or HxWx4, got shape {tuple(array.shape)}.")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return _from_pil(Image.fromarray(array))


def image_source_bytes(source: Any) -> bytes:
    """The encoded image bytes behind any supported source, checked to be an image."""
    if hasattr(source, "data") and hasattr(source, "mime_type"):  # a GeneratedImage
        data = bytes(source.data)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise ValidationError(f"No image file at {path!r}: check the path (relative to {os.getcwd()}).")
        if os.path.getsize(path) > MAX_INPUT_IMAGE_BYTES:
            raise ValidationError(_too_large(os.path.getsize(path), path))
        with open(path, "rb") as handle:
            data = handle.read()
    elif type(source).__module__.startswith("PIL.") and hasattr(source, "save"):
        data = _from_pil(source)
    elif hasattr(source, "__array_interface__") and hasattr(source, "dtype"):
        data = _from_array(source)
    else:
        raise ValidationError(
            f"Cannot use a {type(source).__name__} as an input image: pass a file path, bytes, "
            "a PIL image, a numpy array or a GeneratedImage."
        )
    if len(data) > MAX_INPUT_IMAGE_BYTES:
        raise ValidationError(_too_large(len(data), "the input image"))
    try:
        mime, _, _ = verify_image(data)
    except ValueError as exc:
        raise ValidationError(f"The input image cannot be used: {exc}.") from None
    if mime == SVG_MIME:
        raise ValidationError("The input image is an SVG; models take PNG, JPEG or WebP: convert it first.")
    if mime == "image/gif":  # models take PNG, JPEG and WebP
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            data = _from_pil(im.convert("RGBA"))
    return data


def encode_input_image(source: Any) -> str:
    """A supported image source as the base64 string a model's edit field takes."""
    return base64.b64encode(image_source_bytes(source)).decode("ascii")


def _too_large(size: int, what: str) -> str:
    limit = MAX_INPUT_IMAGE_BYTES // (1024 * 1024)
    return f"{what} is {size / 1e6:.1f} MB; input images are limited to {limit} MB: resize it first."
