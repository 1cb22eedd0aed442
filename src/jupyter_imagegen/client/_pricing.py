"""Estimating what a request costs from the model's catalog pricing.

The catalog prices gpt-image and nano-banana per token and the Leonardo models per 512x512 tile
and per step; the number of tokens an image costs is not in the catalog, so it comes from the
providers' published figures, named in each estimate's ``basis``. It is an estimate: Cloudflare's
bill is the reference. A model with no price, or a setting no published figure covers, gives
``None`` (unknown) rather than a guess.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._pricing_units import estimate_units
from ._request import ImageRequest

__all__ = ["CostEstimate", "estimate_cost", "estimate_total"]

# OpenAI's published output-image tokens of the gpt-image-1 family per quality and shape; OpenAI
# bills gpt-image-1.5 with the same counts. Sizes under 1024x1024 are counted as 1024x1024.
_GPT_IMAGE_TOKENS = {
    "low": {"square": 272, "portrait": 408, "landscape": 400},
    "medium": {"square": 1056, "portrait": 1584, "landscape": 1568},
    "high": {"square": 4160, "portrait": 6240, "landscape": 6208},
}
_TOKEN_TABLES = {"openai/gpt-image-1.5": "OpenAI's published gpt-image output-token counts"}
# Google: an output image up to 1024x1024 is 1290 tokens (gemini-2.5-flash-image).
_NANO_BANANA_TOKENS = 1290
_CHARS_PER_TOKEN = 4  # rough size of a prompt in tokens


@dataclass(frozen=True)
class CostEstimate:
    """Estimated USD for one request (None when unknown) and what the estimate rests on."""

    usd: float | None
    basis: str


def _price(pricing: Any, name: str) -> float | None:
    if isinstance(pricing, dict) and isinstance(pricing.get(name), (int, float)):
        return float(pricing[name])
    return None


def _prompt_usd(request: ImageRequest, pricing: Any) -> float:
    per_million = _price(pricing, "Input tokens (per 1M)") or 0.0
    return math.ceil(len(request.prompt) / _CHARS_PER_TOKEN) * per_million / 1e6


def _gpt_image(request: ImageRequest, pricing: Any) -> CostEstimate:
    out_price = _price(pricing, "Output image tokens (per 1M)")
    if out_price is None:
        return CostEstimate(None, f"{request.model}: no output-token price in the catalog")
    quality = str(request.params.get("quality", "auto"))
    basis = _TOKEN_TABLES[request.model]
    if quality not in _GPT_IMAGE_TOKENS:  # "auto" lets the model choose: count the dearest
        quality, basis = "high", basis + "; quality auto counted as high (an upper bound)"
    width, _, height = str(request.params.get("size", "1024x1024")).partition("x")
    w, h = (int(width), int(height)) if width.isdigit() and height.isdigit() else (1024, 1024)
    shape = "landscape" if w > h else "portrait" if h > w else "square"
    if max(w, h) < 1024:
        basis += f"; {w}x{h} counted as 1024x1024"
    usd = _GPT_IMAGE_TOKENS[quality][shape] * out_price / 1e6 + _prompt_usd(request, pricing)
    if request.images:
        basis += "; input images not counted"
    return CostEstimate(usd, basis)


def _nano_banana(request: ImageRequest, pricing: Any) -> CostEstimate:
    out_price = _price(pricing, "Output tokens (per 1M)")
    if out_price is None or request.params.get("image_size", "1K") != "1K":
        return CostEstimate(None, f"{request.model}: no published token count for this image size")
    usd = _NANO_BANANA_TOKENS * out_price / 1e6 + _prompt_usd(request, pricing)
    basis = "Google's published 1290 output tokens per image"
    return CostEstimate(usd, basis + ("; input images not counted" if request.images else ""))


def _per_unit(request: ImageRequest, pricing: Any) -> CostEstimate:
    if isinstance(pricing, list):
        units = {str(p.get("unit")): p.get("price") for p in pricing if isinstance(p, dict)}
    else:
        units = dict(pricing)
    if any("token" in unit.lower() for unit in units):
        return CostEstimate(
            None, f"{request.model}: priced per token, and there is no published token count per image"
        )
    usd, basis = estimate_units(request, units)
    return CostEstimate(usd, basis)


def estimate_cost(request: ImageRequest) -> CostEstimate:
    """What ``request`` probably costs, with the basis of the estimate."""
    pricing = request.spec.pricing
    if not pricing:
        return CostEstimate(None, f"{request.model}: no price in the catalog")
    if request.model in _TOKEN_TABLES:
        return _gpt_image(request, pricing)
    if request.model == "google/nano-banana":
        return _nano_banana(request, pricing)
    if isinstance(pricing, (list, dict)):
        return _per_unit(request, pricing)
    return CostEstimate(None, f"{request.model}: unreadable catalog pricing")


def estimate_total(requests: Iterable[ImageRequest]) -> tuple[float, int, list[str]]:
    """``(usd, unknown, bases)``: the estimated sum, how many requests had no estimate, and the
    distinct bases (known and unknown) behind it."""
    total, unknown, bases = 0.0, 0, dict[str, None]()
    for request in requests:
        estimate = estimate_cost(request)
        bases[estimate.basis] = None
        if estimate.usd is None:
            unknown += 1
        else:
            total += estimate.usd
    return total, unknown, list(bases)
