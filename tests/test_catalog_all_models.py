"""Every shipped model of today's catalog (55, docs/cloudflare.md §8) generates against the
emulator from the Python API, with only what it requires: its required parameters at their
default or first allowed value, an input image where it needs one, no prompt where it takes none."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from jupyter_imagegen import Client
from jupyter_imagegen.client._models import ModelSpec, get_model, list_models
from jupyter_imagegen.emulator import Emulator


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (30, 90, 150)).save(buffer, "PNG")
    return buffer.getvalue()


def minimal(spec: ModelSpec) -> tuple[str, dict[str, Any], Any]:
    """The prompt, parameters and images the model needs at the least."""
    params: dict[str, Any] = {}
    for name in spec.required:
        rule = spec.parameters[name]
        params[name] = rule.get("default", (rule.get("enum") or ["256x256"])[0])
    for side in ("width", "height"):  # small images: the emulator draws every pixel
        rule = spec.parameters.get(side, {})
        if rule.get("type") in ("integer", "number") and rule.get("minimum", 0) <= 256 <= rule.get(
            "maximum", 4096
        ):
            params[side] = 256
    found = spec.image_input
    needs_image = found is not None and found.field in spec.input_schema.get("required", [])
    images = None
    if needs_image:
        images = ["https://example.com/a.png"] if found.url_only else [png()]  # type: ignore[union-attr]
    prompt = "a lighthouse at dusk" if spec.prompt_field is not None else ""
    return prompt, params, images


def test_the_catalog_ships_55_image_models() -> None:
    assert len(list_models()) == 55


@pytest.mark.parametrize("model", list_models())
def test_every_shipped_model_generates(client: Client, emulator: Emulator, model: str) -> None:
    spec = get_model(model)
    prompt, params, images = minimal(spec)
    image = client.generate(prompt, model=model, images=images, **params)
    assert image.width > 0 and image.height > 0 and image.model == model
    expected = "image/svg+xml" if spec.binary_content_type == "image/svg+xml" else None
    assert expected is None or image.mime_type == expected
    (sent,) = emulator.requests
    multipart = spec.request_format == "multipart"
    assert sent.headers["content-type"].startswith("multipart/form-data" if multipart else "application/json")
