"""Spend estimates from the catalog's prices: the published figures they rest on, said so, and
"unknown" rather than a guess where no figure exists."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_imagegen.batches._result import BatchResult
from jupyter_imagegen.client._pricing import estimate_cost, estimate_total
from jupyter_imagegen.client._request import ImageRequest


def request(model: str, prompt: str = "a cat", **params: Any) -> ImageRequest:
    return ImageRequest.create(prompt, model=model, **params)


@pytest.mark.parametrize(
    ("quality", "size", "tokens"),
    [("low", "1024x1024", 272), ("medium", "1024x1792", 1584), ("high", "1792x1024", 6208)],
)
def test_gpt_image_uses_openais_published_output_tokens(quality: str, size: str, tokens: int) -> None:
    estimate = estimate_cost(request("openai/gpt-image-1.5", quality=quality, size=size))
    prompt = 2 * 5 / 1e6  # "a cat": 2 tokens at $5 per 1M input tokens
    assert estimate.usd == pytest.approx(tokens * 32 / 1e6 + prompt)
    assert "OpenAI's published gpt-image output-token counts" in estimate.basis


def test_gpt_image_auto_quality_and_small_sizes_are_said_to_be_assumptions() -> None:
    estimate = estimate_cost(request("openai/gpt-image-1.5", size="256x256"))
    assert estimate.usd == pytest.approx(4160 * 32 / 1e6 + 2 * 5 / 1e6)
    assert "quality auto counted as high (an upper bound)" in estimate.basis
    assert "256x256 counted as 1024x1024" in estimate.basis


def test_nano_banana_uses_googles_published_token_count() -> None:
    estimate = estimate_cost(request("google/nano-banana"))
    assert estimate.usd == pytest.approx(1290 * 30 / 1e6 + 2 * 0.3 / 1e6)
    assert estimate_cost(request("google/nano-banana", image_size="2K")).usd is None


def test_tile_and_step_prices_use_the_schema_defaults() -> None:
    phoenix = estimate_cost(request("@cf/leonardo/phoenix-1.0"))  # 1024x1024 and 25 steps by default
    assert phoenix.usd == pytest.approx(4 * 0.0058 + 25 * 0.00011)
    lucid = estimate_cost(request("@cf/leonardo/lucid-origin", width=600, height=512, num_steps=10))
    assert lucid.usd == pytest.approx(2 * 0.007 + 10 * 0.000132)
    assert estimate_cost(request("@cf/bytedance/stable-diffusion-xl-lightning")).usd == 0.0


@pytest.mark.parametrize(
    ("model", "why"),
    [
        ("openai/gpt-image-2", "no published token count per image"),
        ("@cf/black-forest-labs/flux-1-schnell", "no price in the catalog"),
        ("@cf/leonardo/lucid-origin", "number of steps unknown"),
    ],
)
def test_no_figure_means_unknown_with_the_reason(model: str, why: str) -> None:
    estimate = estimate_cost(request(model))
    assert estimate.usd is None and why in estimate.basis


def test_totals_count_the_unknown_apart() -> None:
    usd, unknown, basis = estimate_total(
        [
            request("openai/gpt-image-1.5", quality="low", size="1024x1024"),
            request("openai/gpt-image-1.5", quality="low", size="1024x1024"),
            request("@cf/black-forest-labs/flux-1-schnell"),
        ]
    )
    assert usd == pytest.approx(2 * (272 * 32 / 1e6 + 2 * 5 / 1e6)) and unknown == 1 and len(basis) == 2


def result(**fields: Any) -> BatchResult:
    return BatchResult(out_dir="out", manifest="out/manifest.jsonl", total=3, entries=[], **fields)


def test_the_summary_labels_the_spend_an_estimate() -> None:
    known = result(generated=3, estimated_usd=0.0261, cost_basis=("OpenAI's published counts",))
    assert "estimated spend: $0.03 (an estimate: OpenAI's published counts)" in known.summary()
    partial = result(generated=3, estimated_usd=0.02, cost_unknown=1, cost_basis=("a", "b"))
    assert "$0.02 plus 1 image(s) of unknown cost" in partial.summary()
    unknown = result(
        generated=2, estimated_usd=None, cost_unknown=2, cost_basis=("flux: no price in the catalog",)
    )
    assert "estimated spend: unknown (flux: no price in the catalog)" in unknown.summary()
    assert "estimated spend: $0.00 (nothing generated)" in result().summary()
