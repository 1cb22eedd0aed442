"""How an image shows in a notebook: one compact image MIME type, never two.

A bare PIL image embeds both PNG and JPEG, doubling the notebook; a 1024x1024 PNG from a model is
1-2 MB. By default (``auto``) opaque images are embedded as a high-quality JPEG kept under
``PREVIEW_BUDGET`` bytes and images with transparency as PNG; ``png`` embeds the lossless original.
The full-size original always stays in ``GeneratedImage.data`` (and the cache, and saved files).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
from typing import Any, Literal, Protocol

__all__ = [
    "DISPLAY_FORMATS",
    "PREVIEW_BUDGET",
    "PreviewStore",
    "cached_preview",
    "encode_preview",
    "has_transparency",
    "image_bundle",
    "image_info",
    "output_bundle",
    "preview_bytes",
]

DisplayFormat = Literal["auto", "png", "jpeg", "webp"]
DISPLAY_FORMATS: tuple[str, ...] = ("auto", "png", "jpeg", "webp")
# Bytes of the encoded preview. A notebook stores it as base64 (4/3 larger) in JSON, so this keeps
# one image's output under about 250 KB of .ipynb.
PREVIEW_BUDGET = 185_000
_QUALITIES = (85, 75, 65, 55)  # first that fits the budget; each try is a full encode


class ShownImage(Protocol):
    """What a preview needs of an image (a :class:`~._result.GeneratedImage`, which shows itself
    through this module)."""

    @property
    def data(self) -> bytes: ...

    @property
    def mime_type(self) -> str: ...

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    @property
    def elapsed(self) -> float: ...

    @property
    def cached(self) -> bool: ...

    @property
    def provenance(self) -> dict[str, Any]: ...


class PreviewStore(Protocol):
    """Where previews made before are kept (the runtime's image cache)."""

    def get_preview(self, digest: str, fmt: str) -> tuple[str, bytes] | None: ...

    def put_preview(self, digest: str, fmt: str, mime: str, data: bytes) -> None: ...


def has_transparency(image: Any) -> bool:
    """True when a PIL image has a pixel that is not fully opaque: it then embeds as PNG."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        extrema = image.convert("RGBA").getchannel("A").getextrema()
        return bool(extrema[0] < 255)
    return False


def preview_bytes(img: ShownImage, fmt: str = "auto") -> tuple[str, bytes]:
    """``(mime, bytes)`` of the image as it should be embedded in a notebook."""
    if fmt not in DISPLAY_FORMATS:
        raise ValueError(f"display format must be one of {', '.join(DISPLAY_FORMATS)}, got {fmt!r}")
    if img.mime_type == "image/svg+xml":  # vector: shown as sent, never rasterised
        return img.mime_type, img.data
    if fmt == "png" and img.mime_type == "image/png":
        return img.mime_type, img.data
    if fmt == "auto" and img.mime_type == "image/jpeg" and len(img.data) <= PREVIEW_BUDGET:
        return img.mime_type, img.data
    from PIL import Image

    with Image.open(io.BytesIO(img.data)) as source:
        source.load()
        return encode_preview(source, fmt)


def encode_preview(source: Any, fmt: str = "auto") -> tuple[str, bytes]:
    """``(mime, bytes)`` of a loaded PIL image encoded for a notebook, as :func:`preview_bytes`
    says (a composed grid is encoded here directly, once)."""
    from PIL import Image

    if fmt == "auto":
        fmt = "png" if has_transparency(source) else "jpeg"
    if fmt == "png":
        buffer = io.BytesIO()
        source.save(buffer, format="PNG", optimize=False)
        return "image/png", buffer.getvalue()
    rgb = source.convert("RGB") if fmt == "jpeg" and source.mode != "RGB" else source
    pil_format = "JPEG" if fmt == "jpeg" else "WEBP"
    for quality in _QUALITIES:  # the best quality that fits the budget
        buffer = io.BytesIO()
        rgb.save(buffer, format=pil_format, quality=quality)
        if buffer.tell() <= PREVIEW_BUDGET:
            break
    while buffer.tell() > PREVIEW_BUDGET and min(rgb.size) > 64:
        # Large or noisy images miss the budget even at the lowest quality: shrink the preview
        # (the original keeps every pixel) rather than bloat the notebook.
        scale = 0.95 * (PREVIEW_BUDGET / buffer.tell()) ** 0.5
        rgb = rgb.resize(
            (max(1, int(rgb.width * scale)), max(1, int(rgb.height * scale))), Image.Resampling.LANCZOS
        )
        buffer = io.BytesIO()
        rgb.save(buffer, format=pil_format, quality=_QUALITIES[-1])
    return f"image/{fmt}", buffer.getvalue()


def image_info(img: ShownImage) -> dict[str, Any]:
    """What an image's output records about it: its provenance, time, cache state and size."""
    return dict(img.provenance, elapsed=img.elapsed, cached=img.cached, width=img.width, height=img.height)


def output_bundle(
    mime: str, data: bytes, text: str, info: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The one shape of an image output: ``(data, metadata)`` with a single image MIME type, its
    text form, and what it shows under ``jupyter_imagegen`` in the metadata."""
    # SVG is a text MIME type in notebooks: stored as its text, not base64.
    value = (
        data.decode("utf-8", "replace") if mime == "image/svg+xml" else base64.b64encode(data).decode("ascii")
    )
    return {mime: value, "text/plain": text}, {"jupyter_imagegen": info}


def cached_preview(img: ShownImage, fmt: str, cache: PreviewStore | None) -> tuple[str, bytes]:
    """:func:`preview_bytes`, from the cache when it was made before (Restart & Run All neither
    decodes nor re-encodes)."""
    digest = hashlib.sha256(img.data).hexdigest()
    stored = cache.get_preview(digest, fmt) if cache is not None else None
    if stored is not None:
        return stored
    mime, data = preview_bytes(img, fmt)
    if cache is not None:
        with contextlib.suppress(OSError):  # only a speed-up: a read-only cache still displays
            cache.put_preview(digest, fmt, mime, data)
    return mime, data


def image_bundle(
    img: ShownImage, fmt: str = "auto", cache: PreviewStore | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(data, metadata)`` pair of one image, for ``_repr_mimebundle_`` and the magic."""
    mime, data = cached_preview(img, fmt, cache)
    return output_bundle(mime, data, repr(img), image_info(img))
