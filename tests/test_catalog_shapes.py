"""Today's catalog shapes (docs/cloudflare.md §8) through the emulator, checked on the wire."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

import jupyter_imagegen as ig
from jupyter_imagegen import Client
from jupyter_imagegen._exceptions import BudgetExceededError, ValidationError
from jupyter_imagegen.client import read_provenance
from jupyter_imagegen.client._models import get_model
from jupyter_imagegen.emulator import Emulator

FLUX2_DEV = "@cf/black-forest-labs/flux-2-dev"
KLEIN_4B = "@cf/black-forest-labs/flux-2-klein-4b"


def png(width: int = 96, height: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_multipart_model_gets_a_form_with_its_fields_and_file_parts(
    client: Client, emulator: Emulator
) -> None:
    image = client.generate("a fox", model=FLUX2_DEV, width=512, height=256, steps=20, images=[png(), png()])
    assert (image.width, image.height) == (512, 256)
    (sent,) = emulator.requests
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert sent.json is None and sent.form is not None
    assert {k: v for k, v in sent.form.items() if isinstance(v, str)} == {
        "prompt": "a fox",
        "width": "512",
        "height": "256",
        "steps": "20",
        "seed": str(image.seed),
    }
    assert [k for k, v in sent.form.items() if isinstance(v, bytes)] == ["input_image_0", "input_image_1"]
    assert sent.form["input_image_0"] == png()


def test_a_prompt_alone_still_goes_as_multipart(client: Client, emulator: Emulator) -> None:
    client.generate("a fox", model=KLEIN_4B, seed=7)
    (sent,) = emulator.requests
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert sent.form == {"prompt": "a fox", "seed": "7"}


@pytest.mark.parametrize(
    ("params", "images", "expected"),
    [
        ({"width": 2000}, 0, "width: 2000 is out of range: it must be between 256 and 1920"),
        ({}, 5, "takes at most 4 input image(s); 5 were given"),
        ({"steps": 8}, 0, "steps: is not a parameter of this model"),
    ],
)
def test_a_multipart_request_is_checked_before_sending(
    client: Client, emulator: Emulator, params: dict[str, int], images: int, expected: str
) -> None:
    with pytest.raises(ValidationError, match=None) as caught:
        client.generate("a fox", model=KLEIN_4B, images=[png()] * images or None, **params)
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert emulator.requests == []


def test_the_emulator_refuses_json_for_a_multipart_model_and_checks_form_fields(emulator: Emulator) -> None:
    url = f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run/{FLUX2_DEV}"
    auth = {"authorization": f"Bearer {emulator.token}"}
    as_json = httpx.post(url, json={"prompt": "a fox"}, headers=auth)
    assert as_json.status_code == 400 and "multipart/form-data" in as_json.text
    too_wide = httpx.post(url, files={"prompt": (None, "a fox"), "width": (None, "3000")}, headers=auth)
    assert too_wide.status_code == 400 and "width: 3000 is out of range" in too_wide.text
    form_to_json_model = httpx.post(
        f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run/@cf/leonardo/lucid-origin",
        files={"prompt": (None, "a fox")},
        headers=auth,
    )
    assert form_to_json_model.status_code == 400
    bad_image = httpx.post(
        url,
        files={"prompt": (None, "a fox"), "input_image_0": ("a.png", b"not an image", "image/png")},
        headers=auth,
    )
    assert bad_image.status_code == 400 and "input_image_0" in bad_image.text


# One model per shape of today's catalog (docs/cloudflare.md §8): model, parameters, input
# images, and what the wire must show: the input field and how its images are written.
URL = "https://example.com/reference.png"
SHAPES: dict[str, tuple[str, dict[str, Any], list[Any], str | None, str]] = {
    "S1": ("@cf/black-forest-labs/flux-1-schnell", {"steps": 4}, [], None, ""),
    "S2": ("@cf/leonardo/phoenix-1.0", {"width": 256, "height": 256}, [], None, ""),
    "S3": (
        "@cf/bytedance/stable-diffusion-xl-lightning",
        {"width": 256, "height": 256},
        ["png"],
        "image_b64",
        "base64",
    ),
    "S4": (FLUX2_DEV, {"width": 256, "height": 256}, ["png", "png"], "input_image_0", "file"),
    "S5": ("cloudflare/image", {}, [], None, ""),
    "S6": ("alibaba/qwen-image-3.0-pro", {"size": "256x256", "n": 3}, [], None, ""),
    "S7": ("openai/gpt-image-1.5", {"size": "256x256"}, ["png", "png"], "images", "data-uri-list"),
    "S8": ("google/nano-banana", {"aspect_ratio": "1:1"}, ["png"], "image_input", "data-uri-list"),
    "S9": ("bytedance/seedream-4.5", {"max_images": 2}, ["png"], "image_input", "data-uri-list"),
    "S10": ("bytedance/seedream-5-pro", {"size": "1K"}, ["png", "png"], "image", "data-uri-list"),
    "S11": (
        "black-forest-labs/flux-2-max",
        {"width": 256, "height": 256},
        ["png"],
        "input_images",
        "data-uri-list",
    ),
    "S12": ("black-forest-labs/flux-1-kontext-pro", {}, ["png"], "input_image", "base64"),
    "S13": (
        "klingai/kling-v3-image",
        {"resolution": "1k", "aspect_ratio": "1:1"},
        ["png"],
        "image",
        "base64",
    ),
    "S14": ("bria/fibo-edit-1.5", {}, ["png"], "images", "data-uri-list"),
    "S15": (
        "krea/krea-2-large",
        {"resolution": "1K", "aspect_ratio": "1:1"},
        [URL],
        "image_style_references",
        "url-objects",
    ),
    "S16": ("xai/grok-imagine-image-quality", {"resolution": "1k"}, [URL, URL], "images", "url-objects"),
}


def _images(given: list[Any]) -> list[Any] | None:
    return [png() if source == "png" else source for source in given] or None


def _check_wire(sent: Any, model: str, field: str | None, form: str, count: int) -> None:
    spec = get_model(model)
    if spec.request_format == "multipart":
        assert sent.headers["content-type"].startswith("multipart/form-data") and sent.form is not None
        parts = [name for name, value in sent.form.items() if isinstance(value, bytes)]
        assert parts == [f"input_image_{i}" for i in range(count)]
        return
    assert sent.headers["content-type"] == "application/json"
    inputs = sent.json if spec.hosting == "hosted" else sent.json["input"]
    assert spec.hosting == "hosted" or sent.json["model"] == model
    if field is None:
        return
    value = inputs[field]
    if form == "base64":
        assert isinstance(value, str) and not value.startswith("data:") and base64.b64decode(value) == png()
    elif form == "data-uri-list":
        assert len(value) == count and all(v.startswith("data:image/png;base64,") for v in value)
    else:
        assert value == [{"url": URL}] * count


@pytest.mark.parametrize("shape", sorted(SHAPES, key=lambda s: int(s[1:])))
def test_each_shape_generates_from_the_python_api(emulator_env: Emulator, shape: str) -> None:
    model, params, given, field, form = SHAPES[shape]
    prompt = "a fox in snow"  # FIBO Edit takes it as its instruction
    image = ig.generate(prompt, model=model, images=_images(given), **params)
    expected = params.get("n") or params.get("max_images") or 1
    assert len(image.images) == expected and len({i.data for i in image.images}) == expected
    assert all(i.answer_count == expected for i in image.images)
    (sent,) = emulator_env.requests
    _check_wire(sent, model, field, form, len(given))
    spec = get_model(model)
    if spec.takes_seed:
        assert image.seed is not None and image.provenance["reproducible"] is True
    else:
        assert image.seed is None and image.provenance["reproducible"] is False
    today = ig.usage().rows[0]
    assert (today.model, today.images, today.requests) == (model, expected, 1)


def test_fibo_edit_sends_the_prompt_as_its_instruction_and_records_the_answers_seed(
    emulator_env: Emulator,
) -> None:
    image = ig.generate("make it snow", model="bria/fibo-edit-1.5", images=[png()], mask=png(), seed=42)
    (sent,) = emulator_env.requests
    assert sent.json["input"]["instruction"] == "make it snow" and "prompt" not in sent.json["input"]
    assert sent.json["input"]["mask"].startswith("data:image/png;base64,")
    assert image.seed == 42


def test_a_promptless_model_works_with_only_an_image(emulator_env: Emulator) -> None:
    image = ig.generate("", model="bria/remove-background", images=png())
    (sent,) = emulator_env.requests
    assert set(sent.json["input"]) == {"image"} and image.seed is None
    with pytest.raises(ValidationError, match="takes no prompt"):
        ig.generate("a fox", model="bria/remove-background", images=png())
    with pytest.raises(ValidationError, match="needs an input image"):
        ig.generate("", model="bria/remove-background")
    assert len(emulator_env.requests) == 1


def test_several_images_of_one_answer_are_cached_and_come_back_together(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_API_CACHE", "1")
    first = ig.generate("a fox", model="alibaba/qwen-image-3.0-pro", size="256x256", n=3)
    again = ig.generate("a fox", model="alibaba/qwen-image-3.0-pro", size="256x256", n=3)
    assert len(emulator_env.requests) == 1 and again.cached
    assert [i.data for i in again.images] == [i.data for i in first.images]
    assert [i.answer_index for i in again.images] == [0, 1, 2]


def test_the_budget_counts_every_image_a_request_may_return(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "2")
    with pytest.raises(BudgetExceededError, match="this asks for 3"):
        ig.generate("a fox", model="alibaba/qwen-image-3.0-pro", size="256x256", n=3)
    assert emulator_env.requests == []
    ig.generate("a fox", model="alibaba/qwen-image-3.0-pro", size="256x256", n=2)
    assert ig.usage().rows[0].images == 2


def test_an_svg_answer_stays_svg_with_its_provenance(emulator_env: Emulator, tmp_path: Path) -> None:
    image = ig.generate("a fox logo", model="recraft/recraftv4-vector", size="512x256")
    assert image.mime_type == "image/svg+xml" and (image.width, image.height) == (512, 256)
    path = image.save(tmp_path / "logo")
    assert path.endswith(".svg")
    assert read_provenance(path)["prompt"] == "a fox logo"  # type: ignore[index]
    bundle, _ = image._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")


def test_a_data_uri_answer_is_decoded(emulator_env: Emulator) -> None:
    image = ig.generate("a fox", model="xai/grok-imagine-image-quality", resolution="1k")
    (sent,) = emulator_env.requests
    assert emulator_env.file_requests == [] and image.mime_type == "image/png"  # nothing to download
    assert sent.json["input"] == {"prompt": "a fox", "resolution": "1k"}


@pytest.mark.parametrize(
    ("model", "params", "images", "expected"),
    [
        ("krea/krea-2-large", {"aspect_ratio": "1:1"}, None, "resolution: is required (choose one of: 1K)"),
        (
            "klingai/kling-v3-image",
            {"resolution": "1k"},
            None,
            "aspect_ratio: is required (choose one of: 16:9",
        ),
        ("krea/krea-2-large", {"resolution": "1K", "aspect_ratio": "1:1"}, "png", "as https:// URLs only"),
        ("alibaba/qwen-image-3.0-pro", {}, None, "size: is required (matching"),
        ("openai/gpt-image-1.5", {}, URL, "not URLs: download"),
        ("google/nano-banana", {}, "png4", "takes at most 3 input image(s); 4 were given"),
    ],
)
def test_bad_requests_are_refused_in_one_line_before_sending(
    emulator_env: Emulator, model: str, params: dict[str, Any], images: str | None, expected: str
) -> None:
    sources: Any = {"png": png(), "png4": [png()] * 4, None: None}.get(images, images)
    with pytest.raises(ValidationError) as caught:
        ig.generate("a fox", model=model, images=sources, **params)
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert emulator_env.requests == []


def test_a_seed_the_client_picked_reproduces_the_image(emulator_env: Emulator) -> None:
    first = ig.generate("a fox", model=KLEIN_4B, width=256, height=256)
    again = ig.generate("a fox", model=KLEIN_4B, width=256, height=256, seed=first.seed)
    assert emulator_env.requests[1].form["seed"] == str(first.seed)  # type: ignore[index]
    assert again.seed == first.seed and again.provenance["seed"] == first.seed


def test_an_answer_with_a_runaway_number_of_images_is_refused_unread() -> None:
    from jupyter_imagegen._exceptions import APIResponseError
    from jupyter_imagegen.client._response import parse_answer

    body = {"success": True, "result": {"images": [f"https://img.example/{i}.png" for i in range(33)]}}
    with pytest.raises(APIResponseError, match="answered 33 images to one request; at most 32"):
        parse_answer(200, {"content-type": "application/json"}, json.dumps(body).encode(), model="acme/x")
    ok = {
        "success": True,
        "result": {
            "images": [
                "https://img.example/1.png",
                "data:image/png;base64," + base64.b64encode(png()).decode(),
            ],
            "seed": 7,
        },
    }
    answer = parse_answer(200, {}, json.dumps(ok).encode(), model="acme/x")
    assert answer.url == "https://img.example/1.png" and answer.more == (png(),) and answer.seed == 7
