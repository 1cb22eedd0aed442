"""The emulator as seen by an independent client: Cloudflare's official Python SDK (``cloudflare``).

If the SDK can call the emulator the way it calls the live service (its routes, its percent-encoded
model ids, its JSON envelopes and error bodies), the emulator speaks the contract, not a dialect
shared only with our own client.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from PIL import Image

from jupyter_imagegen.emulator import Emulator

cloudflare = pytest.importorskip("cloudflare")

FLUX = "@cf/black-forest-labs/flux-1-schnell"
LUCID = "@cf/leonardo/lucid-origin"
SDXL_LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"
DREAMSHAPER = "@cf/lykon/dreamshaper-8-lcm"


@pytest.fixture
def sdk(emulator: Emulator) -> Iterator[Any]:
    client = cloudflare.Cloudflare(api_token=emulator.token, base_url=emulator.base_url, max_retries=0)
    with client:
        yield client


def _size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


def _first_error(exc: Any) -> tuple[int, int, str]:
    (error,) = exc.body["errors"]
    return exc.status_code, error["code"], error["message"]


@pytest.mark.parametrize(("model", "extra"), [(FLUX, {"steps": 4}), (LUCID, {})])
def test_base64_models_through_ai_run(
    sdk: Any, emulator: Emulator, model: str, extra: dict[str, Any]
) -> None:
    kwargs = {} if model == FLUX else {"width": 256, "height": 256}
    result = sdk.ai.run(model, account_id=emulator.account_id, prompt="a fox", extra_body=extra, **kwargs)
    assert _size(base64.b64decode(result["image"])) == ((1024, 1024) if model == FLUX else (256, 256))
    (recorded,) = emulator.requests
    # The SDK percent-encodes the id's slashes (@cf%2F...): the emulator must read it as one id.
    assert unquote(recorded.path) == f"/client/v4/accounts/{emulator.account_id}/ai/run/{model}"
    assert recorded.json == {"prompt": "a fox", **extra, **kwargs}


@pytest.mark.parametrize("model", [SDXL_LIGHTNING, DREAMSHAPER])
def test_binary_models_through_the_raw_response(sdk: Any, emulator: Emulator, model: str) -> None:
    raw = sdk.ai.with_raw_response.run(
        model, account_id=emulator.account_id, prompt="an owl", width=320, height=256
    )
    assert raw.status_code == 200 and raw.headers["content-type"] == "image/png"
    assert _size(raw.read()) == (320, 256)


def test_workers_ai_model_on_the_gateway_route(sdk: Any, emulator: Emulator) -> None:
    answer = sdk.post(
        f"/accounts/{emulator.account_id}/ai/run",
        body={"model": FLUX, "input": {"prompt": "a heron", "steps": 2}},
        options={"headers": {"cf-aig-gateway-id": "default"}},
        cast_to=object,
    )
    assert _size(base64.b64decode(answer["result"]["image"])) == (1024, 1024)


def test_errors_parse_with_their_codes(sdk: Any, emulator: Emulator) -> None:
    outsider = cloudflare.Cloudflare(api_token="not-the-token", base_url=emulator.base_url, max_retries=0)
    with outsider, pytest.raises(cloudflare.AuthenticationError) as denied:
        outsider.ai.run(FLUX, account_id=emulator.account_id, prompt="a fox")
    assert _first_error(denied.value)[:2] == (401, 10000)

    with pytest.raises(cloudflare.BadRequestError) as bad_input:
        sdk.ai.run(FLUX, account_id=emulator.account_id, prompt="a fox", extra_body={"steps": 99})
    status, code, message = _first_error(bad_input.value)
    assert (status, code) == (400, 5006) and message.startswith("AiError: Bad input: steps:")
    assert bad_input.value.body["result"] == {}

    with pytest.raises(cloudflare.BadRequestError) as no_model:
        sdk.ai.run("@cf/nobody/nothing", account_id=emulator.account_id, prompt="a fox")
    assert _first_error(no_model.value)[:2] == (400, 5007)
