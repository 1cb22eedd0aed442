"""What the control panel shows, apart from widget plumbing: model descriptions for the controls,
thumbnails, gallery items and the kernel's gallery history.

The history is one per kernel (:data:`HISTORY`), so a panel displayed again, or a new
``ImageGenPanel()``, shows every image made in this kernel so far. Every open panel subscribes to
it and shows an image as soon as any panel made it.
"""

from __future__ import annotations

import dataclasses
import io
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from .._exceptions import ValidationError
from ..client import (
    MAX_VARIATIONS,
    SVG_MIME,
    GatewayOptions,
    GeneratedImage,
    ImageRequest,
    get_model,
    has_transparency,
    is_svg,
    safe_filename,
    schema_problems,
)
from ._panel_originals import Original

__all__ = [
    "HISTORY",
    "MAX_VARIATIONS",
    "Entry",
    "History",
    "InputImage",
    "gateway_fields",
    "gateway_kwargs",
    "keep_params",
    "mask_upload_problem",
    "model_info",
    "takes_mask_upload",
    "thumbnail",
]

HISTORY_LIMIT = 500  # images in the kernel's gallery: a thumbnail each in memory, originals on disk
GALLERY_THUMBNAIL = 256
INPUT_THUMBNAIL = 96
_THUMBNAIL_QUALITY = 80

EMPTY_GATEWAY: dict[str, Any] = {
    "gateway_id": "",
    "skip_cache": False,
    "cache_ttl": None,
    "cache_key": "",
    "request_timeout_ms": None,
}


def model_info(model_id: str) -> dict[str, Any]:
    """What the front end needs to build a model's controls: its parameter schema and whether
    (and how many) input images it takes."""
    spec = get_model(model_id)
    mask = spec.mask_input
    return {
        "id": spec.id,
        "parameters": spec.parameters,
        "edits": spec.image_input is not None,
        "max_images": spec.max_images,
        "required": spec.required,
        "url_only": spec.image_input is not None and spec.image_input.url_only,
        # "upload": the form offers a mask file; "url": only Python can give one; None: no mask.
        "mask": None if mask is None else "url" if mask.url_only else "upload",
        "prompt": spec.prompt_field is not None or not spec.known,
        "known": spec.known,
    }


def mask_upload_problem(model_id: str) -> str | None:
    """Why the panel cannot send ``model_id`` a mask file, or None when it can."""
    mask = get_model(model_id).mask_input
    if mask is None:
        return f"{model_id} takes no mask; choose a model that does (inpainting)."
    if mask.url_only:
        return f"{model_id} takes a mask as an https:// URL only: pass it from Python (mask=url)."
    return None


def takes_mask_upload(model_id: str) -> bool:
    return mask_upload_problem(model_id) is None


def form_params(model_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The form's parameters; a required one left at the default its control shows is sent with
    that default (Kling requires ``resolution`` although its schema gives one)."""
    spec = get_model(model_id)
    rules = spec.parameters
    shown = {name: rules[name]["default"] for name in spec.required if "default" in rules[name]}
    return {**shown, **params}


def keep_params(model_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``params`` that still mean something for ``model_id``: a parameter the model
    does not have, or a value its schema rejects, goes back to the model's default."""
    spec = get_model(model_id)
    if not spec.known:
        return dict(params)
    kept = {}
    for name, value in params.items():
        problems = schema_problems(spec.input_schema, {name: value})
        if name in spec.parameters and not [p for p in problems if p.field == name]:
            kept[name] = value
    return kept


def _whole(name: str, value: Any) -> int | None:
    """A whole number from a form field (which JSON may carry as 600.0), or None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValidationError(f"{name} must be a whole number, got {value!r}.")
    return int(value)


def gateway_kwargs(gateway: Mapping[str, Any]) -> dict[str, Any]:
    """The Advanced section's fields as keyword arguments of ``Client.prepare``."""
    return {
        "gateway_id": str(gateway.get("gateway_id") or "").strip() or None,
        "skip_cache": bool(gateway.get("skip_cache")),
        "cache_ttl": _whole("Gateway cache TTL", gateway.get("cache_ttl")),
        "cache_key": str(gateway.get("cache_key") or "").strip() or None,
        "request_timeout_ms": _whole("Request timeout", gateway.get("request_timeout_ms")),
    }


def gateway_fields(options: GatewayOptions) -> dict[str, Any]:
    """The Advanced section's fields for a request's gateway options (for "reuse settings")."""
    return {
        "gateway_id": options.gateway_id or "",
        "skip_cache": options.skip_cache,
        "cache_ttl": options.cache_ttl,
        "cache_key": options.cache_key or "",
        "request_timeout_ms": options.request_timeout_ms,
    }


def thumbnail(data: bytes, size: int = GALLERY_THUMBNAIL) -> tuple[str, bytes]:
    """``(mime, bytes)`` of a small preview: JPEG, or PNG when the image has transparency; an
    SVG is its own preview (the browser scales it)."""
    if is_svg(data):
        return SVG_MIME, data
    with Image.open(io.BytesIO(data)) as source:
        source.draft("RGB", (size, size))  # JPEG decodes at a reduced scale: much faster
        picture = source.copy()
    picture.thumbnail((size, size))
    buffer = io.BytesIO()
    if has_transparency(picture):
        picture.save(buffer, format="PNG")
        return "image/png", buffer.getvalue()
    picture.convert("RGB").save(buffer, format="JPEG", quality=_THUMBNAIL_QUALITY)
    return "image/jpeg", buffer.getvalue()


@dataclass(frozen=True)
class Entry:
    """One image in the gallery, with the request that made it (for "reuse settings"). Only its
    thumbnail and metadata are in memory (``info`` is the image without its bytes); the original
    is read from disk when asked for (:mod:`._panel_originals`)."""

    id: str
    info: GeneratedImage
    request: ImageRequest
    thumb: bytes
    thumb_mime: str
    original: Original

    @classmethod
    def create(
        cls,
        entry_id: str,
        image: GeneratedImage,
        request: ImageRequest,
        thumb: tuple[str, bytes],
        original: Original,
    ) -> Entry:
        mime, data = thumb
        return cls(entry_id, dataclasses.replace(image, data=b""), request, data, mime, original)

    @property
    def image(self) -> GeneratedImage:
        """The full image, read from disk."""
        return dataclasses.replace(self.info, data=self.original.read())

    @property
    def filename(self) -> str:
        return safe_filename(self.info.prompt) + self.info.extension

    def item(self) -> dict[str, Any]:
        """The gallery item the front end shows; bytes travel as a binary buffer."""
        image = self.info
        return {
            "id": self.id,
            "prompt": image.prompt,
            "model": image.model,
            # With the seed the image was made with: "restore settings" and "copy as code" make it again.
            "params": with_seed(image.params, image.seed),
            "seed": image.seed,
            "variation": image.variation,
            "width": image.width,
            "height": image.height,
            "mime": image.mime_type,
            "created": image.created,
            "elapsed": image.elapsed,
            "cached": image.cached,
            "inputs": len(image.input_images),
            "mask": self.request.mask is not None,  # "copy as code" says how to give it again
            "gateway": gateway_fields(self.request.gateway),
            "thumb": self.thumb,
            "thumb_mime": self.thumb_mime,
        }


def with_seed(params: Mapping[str, Any], seed: int | None) -> dict[str, Any]:
    """``params`` with the seed an image was made with, when the user had not set one."""
    return dict(params) if seed is None or "seed" in params else {**params, "seed": seed}


@dataclass(frozen=True)
class InputImage:
    """An image to edit, as uploaded (or taken from the gallery), with its preview."""

    name: str
    data: bytes
    thumb: bytes
    thumb_mime: str

    @classmethod
    def create(cls, name: str, data: bytes) -> InputImage:
        mime, thumb = thumbnail(data, INPUT_THUMBNAIL)
        return cls(name, data, thumb, mime)

    def item(self) -> dict[str, Any]:
        return {"name": self.name, "thumb": self.thumb, "thumb_mime": self.thumb_mime}


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class History:
    """The images made in this kernel, newest first, shared by every panel."""

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self.limit = limit
        self.entries: list[Entry] = []
        self._listeners: list[Callable[[], None]] = []
        self._next_variation: dict[str, int] = {}

    def add(self, entry: Entry) -> None:
        self.entries.insert(0, entry)
        for dropped in self.entries[self.limit :]:
            dropped.original.discard()
        del self.entries[self.limit :]
        for listener in list(self._listeners):
            listener()

    def find(self, entry_id: str) -> Entry | None:
        return next((entry for entry in self.entries if entry.id == entry_id), None)

    def reserve_variations(self, request: ImageRequest, count: int) -> int:
        """The first of ``count`` variation numbers not yet used for these settings in this
        kernel, so each Generate gives new images while a copied cell still finds its own."""
        key = request.with_variation(0).cache_key
        start = self._next_variation.get(key, 0)
        self._next_variation[key] = start + count
        return start

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def clear(self) -> None:
        for entry in self.entries:
            entry.original.discard()
        self.entries.clear()
        self._next_variation.clear()
        for listener in list(self._listeners):
            listener()


HISTORY = History()
