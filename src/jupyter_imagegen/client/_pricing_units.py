"""Estimating a request's cost from catalog prices stated per unit: per image, per input image,
per 512x512 tile (output or input, with or without steps), per step, per megapixel (first,
further, input). Every unit the catalog uses today is read here; an unknown unit makes the
estimate unknown, with the unit named, rather than a guess.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._request import ImageRequest

__all__ = ["estimate_units"]

_MEGAPIXEL = 1024 * 1024  # "first MP (1024x1024)": the catalog's megapixel
# Alternative statements of a price the file also gives per image: not added on top of it.
_RESTATED = ("default (per second)", "output_size_")


def _side(request: ImageRequest, name: str) -> int | None:
    value = request.params.get(name, request.spec.properties.get(name, {}).get("default"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _output_size(request: ImageRequest) -> tuple[int, int] | None:
    width, height = _side(request, "width"), _side(request, "height")
    if width is not None and height is not None:
        return width, height
    size = str(request.params.get("size", ""))
    found = size.lower().partition("x")
    if found[0].isdigit() and found[2].isdigit():
        return int(found[0]), int(found[2])
    return None


def _input_sizes(request: ImageRequest) -> list[tuple[int, int]] | None:
    """Each input image's size, or None when one is a URL (its size is unknown here)."""
    from PIL import Image

    sizes = []
    for source in request.images:
        if not isinstance(source, bytes):
            return None
        with Image.open(io.BytesIO(source)) as image:  # reads the header only
            sizes.append(image.size)
    return sizes


def _steps(request: ImageRequest) -> int | None:
    for name in ("num_steps", "steps"):
        value = _side(request, name)
        if value is not None:
            return value
    return None


def _tiles(width: int, height: int) -> int:
    return math.ceil(width / 512) * math.ceil(height / 512)


def _megapixels(width: int, height: int) -> int:
    return max(1, math.ceil(width * height / _MEGAPIXEL))


def _one_unit(request: ImageRequest, unit: str, price: float) -> tuple[float | None, str]:
    """USD for one priced unit, or None with the reason it cannot be counted."""
    name = unit.lower()
    images = request.expected_images
    if name.startswith(_RESTATED):
        return 0.0, ""
    if name in ("per image", "per output image"):
        return price * images, ""
    if name == "per input image":
        return price * len(request.images), ""
    inputs = "input" in name
    steps = 1
    if "step" in name:
        found = _steps(request)
        if found is None:
            return (0.0, "") if not price else (None, "number of steps unknown (set steps)")
        steps = found
        if "tile" not in name:
            return price * steps, ""
    if inputs:
        sizes = _input_sizes(request)
        if sizes is None:
            return None, "the size of an input image given as a URL is unknown"
        per = _tiles if "tile" in name else _megapixels
        return price * steps * sum(per(w, h) for w, h in sizes), ""
    size = _output_size(request)
    if size is None:
        return None, "image size unknown (set width and height)"
    if "tile" in name:
        return price * steps * _tiles(*size) * images, ""
    if "mp" in name.split() or "megapixel" in name:
        extra = _megapixels(*size) - 1
        if "first" in name:
            return price * images, ""
        if "subsequent" in name or "additional" in name:
            return price * extra * images, ""
    return None, f"unknown price unit {unit!r}"


def estimate_units(request: ImageRequest, units: dict[str, Any]) -> tuple[float | None, str]:
    """``(usd, basis)`` from ``{unit: price}``; usd None with the reason when it is unknown."""
    total = 0.0
    for unit, price in units.items():
        if not isinstance(price, (int, float)) or isinstance(price, bool):
            return None, f"{request.model}: unreadable catalog price {unit!r}"
        usd, why = _one_unit(request, unit, float(price))
        if usd is None:
            return None, f"{request.model}: {why}"
        total += usd
    named = ", ".join(u for u in units if not u.lower().startswith(_RESTATED))
    return total, f"catalog price ({named})"
