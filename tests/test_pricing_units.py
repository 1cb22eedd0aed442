"""Cost estimates for every pricing unit of today's catalog (docs/cloudflare.md §8)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from jupyter_imagegen.client._pricing import estimate_cost
from jupyter_imagegen.client._request import ImageRequest


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("model", "params", "usd"),
    [
        # per input and output 512x512 tile, per step: 4 input tiles and 4 output tiles, 25 steps
        (
            "@cf/black-forest-labs/flux-2-dev",
            {"steps": 25, "images": [png(600, 600)]},
            4 * 25 * 0.00021 + 4 * 25 * 0.00041,
        ),
        # per input and output tile without steps; 1024x768 by default
        ("@cf/black-forest-labs/flux-2-klein-4b", {}, 4 * 0.000287),
        # first megapixel, each further one (1920x1080 is two), one input megapixel
        (
            "@cf/black-forest-labs/flux-2-klein-9b",
            {"width": 1920, "height": 1080, "images": [png(600, 600)]},
            0.015 + 0.002 + 0.002,
        ),
        ("black-forest-labs/flux-2-max", {"width": 2048, "height": 1024}, 0.07 + 0.03),
        # per image, times the images one request asks for
        ("alibaba/qwen-image-3.0-pro", {"size": "512x512", "n": 3}, 3 * 0.04),
        # per image and per input image
        ("xai/grok-imagine-image-quality", {"images": ["https://example.com/a.png"] * 2}, 0.05 + 2 * 0.01),
        ("recraft/recraftv4-vector", {}, 0.08),
        # per 512 by 512 tile plus per step
        ("@cf/leonardo/phoenix-1.0", {"width": 512, "height": 512, "num_steps": 10}, 0.0058 + 10 * 0.00011),
    ],
)
def test_every_pricing_unit_is_counted(model: str, params: dict[str, object], usd: float) -> None:
    images = params.pop("images", None)
    estimate = estimate_cost(ImageRequest.create("a fox", model=model, images=images, **params))
    assert estimate.usd == pytest.approx(usd)


@pytest.mark.parametrize(
    ("model", "params", "why"),
    [
        ("@cf/black-forest-labs/flux-2-dev", {}, "number of steps unknown (set steps)"),
        ("black-forest-labs/flux-2-max", {}, "image size unknown (set width and height)"),
        ("google/nano-banana-pro", {}, "priced per token"),
        ("klingai/kling-v3-image", {"resolution": "1k", "aspect_ratio": "1:1"}, "no price in the catalog"),
        ("bytedance/seedream-4.5", {}, "no price in the catalog"),
    ],
)
def test_an_estimate_without_figures_is_unknown_with_the_reason(
    model: str, params: dict[str, object], why: str
) -> None:
    estimate = estimate_cost(ImageRequest.create("a fox", model=model, **params))
    assert estimate.usd is None and why in estimate.basis


def test_an_input_image_given_as_a_url_leaves_a_per_megapixel_input_price_unknown() -> None:
    request = ImageRequest.create(
        "a fox",
        model="black-forest-labs/flux-2-max",
        width=1024,
        height=1024,
        images=["https://example.com/a.png"],
    )
    estimate = estimate_cost(request)
    assert estimate.usd is None and "given as a URL" in estimate.basis
