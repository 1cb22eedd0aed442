"""One cache entry on disk: its key (the request and the service that answered it) and its file
format, a small JSON header (the image's provenance and the sha256 of its bytes) then the original
image bytes. An entry is used only when it is whole, matches its key, and its bytes are an image of
the recorded type and dimensions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import struct
from typing import TYPE_CHECKING, Any

from ..client import GeneratedImage, sniff_mime

if TYPE_CHECKING:
    from ..client import ImageRequest

__all__ = ["decode_entry", "encode_entry", "entry_key", "service_of"]

_MAGIC = b"JIGCACHE1\n"
# The GeneratedImage fields an entry stores; ``data`` travels after the header, and ``cached`` and
# the cost (nothing: a hit is free) are decided on read.
_ON_READ = ("data", "cached", "estimated_cost_usd", "others")
_FIELDS = tuple(f.name for f in dataclasses.fields(GeneratedImage) if f.name not in _ON_READ)


def service_of(client: Any) -> str:
    """Which service a client talks to, as the cache tells services apart: base URL and account."""
    settings = client.settings
    return f"{str(settings.base_url).rstrip('/')} {settings.account_id or ''}"


def entry_key(request: ImageRequest, service: str) -> str:
    if not service:
        return request.cache_key
    return hashlib.sha256(f"{request.cache_key}\n{service}".encode()).hexdigest()


def encode_entry(image: GeneratedImage, key: str) -> bytes:
    header = {name: getattr(image, name) for name in _FIELDS}
    header["input_images"] = list(image.input_images)
    header["key"] = key
    header["sha256"] = hashlib.sha256(image.data).hexdigest()
    header["size"] = len(image.data)
    text = json.dumps(header, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    return _MAGIC + struct.pack(">I", len(text)) + text + image.data


def decode_entry(raw: bytes, key: str) -> GeneratedImage | None:
    """The image in an entry file, or None when the file is not a whole, matching entry."""
    start = len(_MAGIC) + 4
    if not raw.startswith(_MAGIC) or len(raw) < start:
        return None
    (length,) = struct.unpack(">I", raw[len(_MAGIC) : start])
    try:
        header: dict[str, Any] = json.loads(raw[start : start + length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    data = raw[start + length :]
    if (
        not isinstance(header, dict)
        or header.get("key") != key
        or header.get("size") != len(data)
        or header.get("sha256") != hashlib.sha256(data).hexdigest()
    ):
        return None
    try:
        fields = {name: header[name] for name in _FIELDS}
        fields["input_images"] = tuple(fields["input_images"])
        image = GeneratedImage(data=data, cached=True, estimated_cost_usd=0.0, **fields)
    except (KeyError, TypeError):
        return None
    return image if _is_recorded_image(image) else None


def _is_recorded_image(image: GeneratedImage) -> bool:
    """Whether the bytes are an image of the type and dimensions the entry records. The checksum
    proves the bytes are the ones written, not that what was written is the image it claims."""
    if sniff_mime(image.data) != image.mime_type:
        return False
    if not (image.width and image.height):
        return True
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image.data)) as im:  # reads the header only
            return bool(im.size == (image.width, image.height))
    except Exception:  # Pillow raises many types for damaged data
        return False
