"""Where and in which form a model takes input images, read from its input schema.

The catalog's models take input images in many forms (docs/cloudflare.md, "Input images"): a list
of data URIs (``images``), one base64 string (``image_b64``, ``input_image``), the file's bytes as
0-255 integers (``image``), objects with a URL (``{url, strength}``, ``{url, type}``), URI
strings, or multipart file parts ``input_image_0..N``. :func:`image_input_of` finds the form in
the schema, so a model first seen in the live catalog gets the right one without a release, and
:func:`encode_images` writes the user's images (bytes, or ``https://`` URLs) in it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any, Literal

from .._exceptions import ValidationError
from ._imagebytes import sniff_mime

__all__ = ["ImageInput", "encode_images", "image_input_of", "is_url_source", "mask_input_of"]

Form = Literal["data-uri", "base64", "byte-array", "file-parts", "url-object", "url"]

# Looked for in this order: the first one a schema has carries the images. ``image_b64`` comes
# before ``image`` (the Stable Diffusion models take both; base64 is the compact one) and
# ``images`` before ``image`` (xAI takes one object or a list of them).
_CANDIDATES = (
    "images",
    "image_input",
    "input_images",
    "input_image",
    "image_b64",
    "image",
    "image_style_references",
)
_FILE_PART = re.compile(r"(.+_)0")
_UNBOUNDED = 16  # a list without maxItems: the most any documented model takes


@dataclass(frozen=True)
class ImageInput:
    """A model's input-image field: its name, the form of each image, how many it takes, and
    whether it takes URLs (``url_only``: nothing else)."""

    field: str
    form: Form
    many: bool
    max: int
    accepts_urls: bool
    url_only: bool

    @property
    def names(self) -> tuple[str, ...]:
        """Every schema property the images may fill (the file parts are one per image)."""
        if self.form == "file-parts":
            return tuple(f"{self.field}{i}" for i in range(self.max))
        return (self.field,)


def _variants(rule: dict[str, Any]) -> list[dict[str, Any]]:
    found = [rule]
    for key in ("anyOf", "oneOf"):
        found += [r for r in rule.get(key, []) if isinstance(r, dict)]
    return found


def _types(rule: dict[str, Any]) -> set[str]:
    kind = rule.get("type")
    return (
        {kind}
        if isinstance(kind, str)
        else {k for k in kind if isinstance(k, str)}
        if isinstance(kind, list)
        else set()
    )


def _said(rule: dict[str, Any]) -> str:
    return f"{rule.get('format', '')} {rule.get('description', '')}".lower()


def _item_form(item: dict[str, Any], many: bool) -> tuple[Form, bool, bool]:
    """``(form, accepts_urls, url_only)`` of one image under ``item``'s rule."""
    props = item.get("properties")
    if item.get("type") == "object" and isinstance(props, dict) and "url" in props:
        return "url-object", True, True
    if item.get("type") in ("integer", "number"):
        return "byte-array", False, False
    said = _said(item)
    urls = "url" in said or item.get("format") == "uri"
    if "data:" in said or "data uri" in said or many:
        return "data-uri", urls, False
    if item.get("format") == "uri":
        return "data-uri", True, False  # a data: URI is a URI; local images travel as one
    return "base64", urls, False


def _classify(name: str, rule: dict[str, Any]) -> ImageInput | None:
    arrays = [r for r in _variants(rule) if "array" in _types(r)]
    if arrays:
        array = arrays[0]
        item = array.get("items") if isinstance(array.get("items"), dict) else {}
        assert isinstance(item, dict)
        if item.get("type") in ("integer", "number"):  # one image's bytes, not a list of images
            return ImageInput(name, "byte-array", False, 1, False, False)
        form, urls, url_only = _item_form({**item, "description": _said(item) + _said(rule)}, True)
        return ImageInput(name, form, True, int(array.get("maxItems", _UNBOUNDED)), urls, url_only)
    strings = [r for r in _variants(rule) if _types(r) & {"string", "object"}]
    if not strings and rule.get("type") is not None:
        return None
    chosen = dict(strings[0] if strings else rule)
    if "object" not in _types(chosen):
        chosen["type"] = "string"
    form, urls, url_only = _item_form(chosen, False)
    return ImageInput(name, form, False, 1, urls, url_only)


def image_input_of(properties: dict[str, dict[str, Any]]) -> ImageInput | None:
    """The field a model's schema takes input images in, or None for a text-only model."""
    for name, rule in properties.items():
        found = _FILE_PART.fullmatch(name)
        if found and rule.get("format") == "binary":
            prefix = found.group(1)
            count = 0
            while f"{prefix}{count}" in properties:
                count += 1
            return ImageInput(prefix, "file-parts", True, count, False, False)
    for name in _CANDIDATES:
        if isinstance(properties.get(name), dict):
            found_input = _classify(name, properties[name])
            if found_input is not None:
                return found_input
    return None


def mask_input_of(properties: dict[str, dict[str, Any]]) -> ImageInput | None:
    """How a model takes a mask (``mask``), or None when it takes none."""
    rule = properties.get("mask")
    return _classify("mask", rule) if isinstance(rule, dict) else None


def is_url_source(source: object) -> bool:
    return isinstance(source, str) and source.lower().startswith("https://")


def _data_uri(data: bytes) -> str:
    mime = sniff_mime(data) or "image/png"
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _one(form: Form, image: bytes | str) -> Any:
    if isinstance(image, str):  # an https URL the user gave
        return {"url": image} if form == "url-object" else image
    if form == "url-object":  # refused when the request was built; kept total for mypy
        raise ValidationError("This model takes images as https:// URLs only.")
    if form == "byte-array":
        return list(image)
    if form == "base64":
        return base64.b64encode(image).decode("ascii")
    return _data_uri(image)


def encode_images(spec: ImageInput, images: tuple[bytes | str, ...]) -> dict[str, Any]:
    """The JSON fields (or, for file parts, the named files) that carry ``images``."""
    if spec.form == "file-parts":
        return {f"{spec.field}{i}": image for i, image in enumerate(images)}
    if spec.many:
        return {spec.field: [_one(spec.form, image) for image in images]}
    return {spec.field: _one(spec.form, images[0])}
