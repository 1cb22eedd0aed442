"""A new model of today's shapes works from the live catalog, with no release (docs/cloudflare.md §8)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import jupyter_imagegen as ig
from jupyter_imagegen._exceptions import ValidationError
from jupyter_imagegen.client._models import get_model
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.emulator._catalog import MULTIPART_WRAPPER

MULTIPART_MODEL = "@cf/acme/flux-next"
MANY_MODEL = "acme/multi-shot"
FILES = {
    "flux-next": {
        "name": MULTIPART_MODEL,
        "input": MULTIPART_WRAPPER,  # what the live catalog shows for a multipart model
        "output": {"type": "object", "properties": {"image": {"type": "string", "description": "Base64"}}},
    },
    "multi-shot": {
        "name": MANY_MODEL,
        "input": {
            "type": "object",
            "properties": {
                "prompt": {"type": "string"},
                "num_images": {"type": "integer", "minimum": 1, "maximum": 4},
                "aspect_ratio": {"type": "string", "enum": ["1:1", "16:9"]},
                "refs": {"type": "string"},
                "image_style_references": {
                    "type": "array",
                    "maxItems": 2,
                    "items": {"type": "object", "properties": {"url": {"type": "string", "format": "uri"}}},
                },
                "seed": {"type": "integer", "minimum": 0, "maximum": 1000},
            },
            "required": ["prompt", "aspect_ratio"],
            "additionalProperties": False,
        },
        "output": {
            "type": "object",
            "properties": {"images": {"type": "array", "items": {"type": "string"}}},
        },
    },
}


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    folder = tmp_path / "models"
    folder.mkdir()
    for name, content in FILES.items():
        (folder / f"{name}.json").write_text(json.dumps(content), encoding="utf-8")
    with Emulator(models_dir=folder) as emulator:
        for name, value in emulator.env.items():
            monkeypatch.setenv(name, value)
        yield emulator


def test_a_multipart_model_from_the_live_catalog_is_sent_a_form(live: Emulator) -> None:
    image = ig.generate("a fox", model=MULTIPART_MODEL)
    sent = [r for r in live.requests if "/ai/run" in r.path]
    assert len(sent) == 1 and sent[0].headers["content-type"].startswith("multipart/form-data")
    assert sent[0].form == {"prompt": "a fox"} and image.width > 0
    assert get_model(MULTIPART_MODEL).request_format == "multipart"


def test_a_live_model_with_several_images_url_references_and_a_required_choice(live: Emulator) -> None:
    with pytest.raises(ValidationError, match=r"aspect_ratio: is required \(choose one of: 1:1, 16:9\)"):
        ig.generate("a fox", model=MANY_MODEL)
    with pytest.raises(ValidationError, match="https:// URLs only"):
        ig.generate("a fox", model=MANY_MODEL, aspect_ratio="1:1", images=[b"\x89PNG\r\n\x1a\n"])
    image = ig.generate(
        "a fox", model=MANY_MODEL, aspect_ratio="1:1", num_images=3, images=["https://example.com/a.png"]
    )
    assert len(image.images) == 3 and 0 <= (image.seed or 0) <= 1000
    (sent,) = [r for r in live.requests if "/ai/run" in r.path]
    assert sent.json["input"]["image_style_references"] == [{"url": "https://example.com/a.png"}]
    assert sent.json["input"]["num_images"] == 3
