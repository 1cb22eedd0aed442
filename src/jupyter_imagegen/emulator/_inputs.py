"""Checking a model request as Cloudflare would, and working out what image it asks for.

The emulator validates with the same schema checker as the client (``schema_problems``), so a
parameter the client lets through but the schema forbids is caught in tests, not in production.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ..client import ModelSpec, schema_problems
from ._render import ImageFormat, image_format

__all__ = ["Job", "ServiceError", "check_request"]

FLUX_SCHNELL = "@cf/black-forest-labs/flux-1-schnell"
# Rendering stops at this many pixels on the long side (4K would take seconds to draw and
# encode); larger requests are scaled down keeping their aspect ratio.
MAX_SIDE = 2048
# Some schemas allow a width or height of 0; the emulator draws at least this much instead.
MIN_SIDE = 16
# Gemini's published sizes at 1K; 2K and 4K double and quadruple them.
_ASPECT_SIZES = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
_IMAGE_SIZE_SCALE = {"1K": 1, "2K": 2, "4K": 4}
# What base64-json models encode (ours: flux-1-schnell answers JPEG; lucid-origin PNG).
_BASE64_FORMATS = {FLUX_SCHNELL: "jpeg"}
_DATA_URI = re.compile(r"^data:image/(png|jpeg|webp);base64,(.*)$", re.DOTALL)
_INPUT_FORMATS = ("PNG", "JPEG", "WEBP")
_MAX_INPUT_PIXELS = 64_000_000


class ServiceError(Exception):
    """An answer Cloudflare would give instead of an image: HTTP status, error code, message."""

    def __init__(self, status: int, code: int, message: str, *, result: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.result = result


@dataclass
class Job:
    """A valid request: the image it asks for and the key its samples are numbered under."""

    spec: ModelSpec
    inputs: dict[str, Any]
    prompt: str
    size: tuple[int, int]
    fmt: ImageFormat
    request_key: str
    edit_source: Image.Image | None = field(default=None, repr=False)
    edit_count: int = 0


def request_key(model: str, inputs: dict[str, Any]) -> str:
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{model}\n{canonical}".encode()).hexdigest()


def _invalid(message: str) -> ServiceError:
    return ServiceError(400, 5004, message)


def _image_bytes(where: str, value: Any) -> bytes:
    if isinstance(value, bytes):  # a multipart file part
        return value
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        return _url_image(where, value["url"])
    if isinstance(value, str) and value.startswith("https://"):
        return _url_image(where, value)
    if isinstance(value, list):  # SDXL-style img2img: the file's bytes as 0-255 integers
        if not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v == int(v) and 0 <= v <= 255
            for v in value
        ):
            raise _invalid(f"Invalid data: {where} must hold integers from 0 to 255")
        return bytes(int(v) for v in value)
    if not isinstance(value, str):
        raise _invalid(f"Invalid data: {where} must be a base64 string or a data:image/... URI")
    match = _DATA_URI.match(value)
    if match is None and value.startswith("data:"):
        raise _invalid(f"Invalid data: {where} is a data URI but not data:image/(png|jpeg|webp);base64,...")
    text = match.group(2) if match else value
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(f"Invalid data: {where} is not valid base64") from None


def _open_image(where: str, data: bytes, *, load: bool) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=_INPUT_FORMATS)
        if image.width * image.height > _MAX_INPUT_PIXELS:
            raise ValueError("too many pixels")
        if load:
            image.load()
        else:
            image.verify()
    except Exception as exc:  # Pillow raises many exception types for bad files
        raise _invalid(f"Invalid data: {where} is not a PNG, JPEG or WebP image ({exc})") from None
    return image


def _url_image(where: str, url: str) -> bytes:
    """A stand-in for an image the service would download: the emulator never leaves loopback,
    so an https URL is drawn as a plain picture, and only its form is checked."""
    if not url.startswith("https://") or len(url) > 2048:
        raise _invalid(f"Invalid data: {where} must be an https:// URL")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def _input_images(spec: ModelSpec, inputs: dict[str, Any]) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    found_input = spec.image_input
    names = found_input.names if found_input is not None else ()
    for name in dict.fromkeys((*names, "images", "image", "image_input", "image_b64")):
        value = inputs.get(name)
        if value is None:
            continue
        byte_array = spec.properties.get(name, {}).get("type") == "array" and name == "image"
        many = isinstance(value, list) and not byte_array
        if many:
            found.extend((f"{name}[{i}]", item) for i, item in enumerate(value))
        else:
            found.append((name, value))
    return found


def _requested_size(spec: ModelSpec, inputs: dict[str, Any]) -> tuple[int, int]:
    props = spec.properties
    if spec.id == FLUX_SCHNELL:
        return 1024, 1024
    if "size" in props:
        text = str(inputs.get("size", "1024x1024"))
        found = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
        return (int(found.group(1)), int(found.group(2))) if found else (1024, 1024)  # "auto"
    if "aspect_ratio" in props:
        width, height = _ASPECT_SIZES.get(str(inputs.get("aspect_ratio", "1:1")), (1024, 1024))
        scale = _IMAGE_SIZE_SCALE.get(str(inputs.get("image_size", "1K")), 1)
        return width * scale, height * scale

    def side(name: str) -> int:
        value = inputs.get(name, props.get(name, {}).get("default", 1024))
        return int(value) if isinstance(value, (int, float)) else 1024

    return side("width"), side("height")


def _bounded(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    longest = max(width, height)
    if longest > MAX_SIDE:
        width, height = round(width * MAX_SIDE / longest), round(height * MAX_SIDE / longest)
    return max(MIN_SIDE, width), max(MIN_SIDE, height)


def _output_format(spec: ModelSpec, inputs: dict[str, Any]) -> ImageFormat:
    if spec.output_kind == "binary":
        return image_format(spec.binary_content_type or "image/png")
    if spec.output_kind == "base64-json":
        return image_format(_BASE64_FORMATS.get(spec.id, "png"))
    if spec.binary_content_type == "image/svg+xml":  # the vector models answer a URL to an SVG
        return image_format("svg")
    requested = inputs.get("output_format") if "output_format" in spec.properties else None
    return image_format(str(requested or "png"))


def check_request(spec: ModelSpec, inputs: Any) -> Job:
    """The job a request describes; ServiceError with Cloudflare's status and code when invalid."""
    if not isinstance(inputs, dict):
        raise ServiceError(400, 3003, "Incomplete request: the model input must be a JSON object")
    if spec.prompt_field == "prompt" and inputs.get("prompt") is None:  # in the live service's words
        raise ServiceError(
            400, 5006, "AiError: Bad input: Error: required properties at '/' are 'prompt'", result={}
        )
    checked = {k: "<file>" if isinstance(v, bytes) else v for k, v in inputs.items()}
    problems = schema_problems(spec.input_schema, checked)
    if problems:
        # The live service's words and shape for a schema failure (docs/cloudflare.md §4).
        listed = "; ".join(str(p) for p in problems)
        raise ServiceError(400, 5006, f"AiError: Bad input: {listed}", result={})
    edit_source: Image.Image | None = None
    images = _input_images(spec, inputs)
    for index, (where, value) in enumerate(images):
        opened = _open_image(where, _image_bytes(where, value), load=index == 0)
        if index == 0:
            edit_source = opened
    return Job(
        spec=spec,
        inputs=inputs,
        prompt=str(inputs.get(spec.prompt_field or "prompt") or ""),
        size=_bounded(_requested_size(spec, inputs)),
        fmt=_output_format(spec, inputs),
        request_key=request_key(spec.id, inputs),
        edit_source=edit_source,
        edit_count=len(images),
    )
