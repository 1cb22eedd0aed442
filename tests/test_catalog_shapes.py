"""Today's catalog shapes (docs/cloudflare.md §8) through the emulator, checked on the wire."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from jupyter_imagegen import Client
from jupyter_imagegen._exceptions import ValidationError
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
