"""The emulator over real loopback HTTP, driven with plain httpx: routes, answer shapes, errors,
determinism, image URLs, every fault kind, control endpoints, concurrency and the CLI."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from jupyter_imagegen.client._models import get_model, list_models
from jupyter_imagegen.emulator import Emulator, Fault
from jupyter_imagegen.emulator._faults import bomb_png

# A valid request per model, and the size (and format) it must come back at.
CASES: dict[str, tuple[dict[str, Any], tuple[int, int], str]] = {
    "openai/gpt-image-1.5": ({"size": "256x256"}, (256, 256), "PNG"),
    "openai/gpt-image-2": ({"size": "auto", "output_format": "jpeg"}, (1024, 1024), "JPEG"),
    "google/imagen-4": ({"aspect_ratio": "16:9"}, (1344, 768), "PNG"),
    "google/nano-banana": ({"aspect_ratio": "2:3", "output_format": "webp"}, (832, 1248), "WEBP"),
    "@cf/black-forest-labs/flux-1-schnell": ({"steps": 4}, (1024, 1024), "JPEG"),
    "@cf/leonardo/lucid-origin": ({"width": 256, "height": 256}, (256, 256), "PNG"),
    "@cf/leonardo/phoenix-1.0": ({"width": 256, "height": 320}, (256, 320), "JPEG"),
    "@cf/bytedance/stable-diffusion-xl-lightning": ({"width": 256, "height": 256}, (256, 256), "PNG"),
    "@cf/lykon/dreamshaper-8-lcm": ({"width": 320, "height": 256}, (320, 256), "PNG"),
    "@cf/stabilityai/stable-diffusion-xl-base-1.0": ({"width": 512, "height": 256}, (512, 256), "PNG"),
}
GPT = "openai/gpt-image-1.5"
FLUX = "@cf/black-forest-labs/flux-1-schnell"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
SMALL = {"size": "256x256"}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def call(
    http: httpx.Client,
    emu: Emulator,
    model: str,
    params: dict[str, Any] | None = None,
    *,
    prompt: str = "a lighthouse at dusk",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a request on the route the model lives on, with the emulator's credentials."""
    sent = {"authorization": f"Bearer {emu.token}", **(headers or {})}
    inputs = {"prompt": prompt, **(params or {})}
    run = f"{emu.base_url}/accounts/{emu.account_id}/ai/run"
    if model.startswith("@cf/"):
        return http.post(f"{run}/{model}", json=inputs, headers=sent)
    return http.post(run, json={"model": model, "input": inputs}, headers=sent)


def image_string(response: httpx.Response) -> str:
    payload = response.json()
    while "image" not in payload:
        payload = payload["result"]
    image: str = payload["image"]
    return image


def image_bytes(http: httpx.Client, response: httpx.Response) -> bytes:
    """The image an answer carries, whatever its shape, downloaded without credentials."""
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("image/"):
        return response.content
    text = image_string(response)
    if text.startswith("http://"):
        download = http.get(text)
        assert download.status_code == 200
        return download.content
    return base64.b64decode(text.partition(",")[2] if text.startswith("data:") else text, validate=True)


def error_of(response: httpx.Response) -> tuple[int, int, str]:
    body = response.json()
    (error,) = body["errors"]
    # A schema failure carries an empty object as its result, like the live service's answer.
    assert body["result"] == ({} if error["code"] == 5006 else None)
    assert body["success"] is False and body["messages"] == []
    return response.status_code, error["code"], error["message"]


def png_data_uri(colour: tuple[int, int, int], size: tuple[int, int] = (64, 64), fmt: str = "PNG") -> str:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return f"data:image/{fmt.lower()};base64,{base64.b64encode(out.getvalue()).decode()}"


# Routes and answer shapes.


@pytest.mark.parametrize("model", sorted(CASES))
def test_every_model_answers_in_its_shape_at_the_requested_size(
    http: httpx.Client, emulator: Emulator, model: str
) -> None:
    params, size, fmt = CASES[model]
    spec = get_model(model)
    response = call(http, emulator, model, params)
    assert response.status_code == 200, response.text
    assert re.fullmatch(r"[0-9A-Z]{26}", response.headers["cf-aig-log-id"])
    assert response.headers.get("cf-aig-cache-status") == ("MISS" if spec.hosting == "proxied" else None)
    if spec.output_kind == "binary":
        assert response.headers["content-type"] == spec.binary_content_type
    elif spec.output_kind == "url":
        assert re.fullmatch(
            rf"http://127\.0\.0\.1:{emulator.port}/files/[0-9a-f]{{32}}\.\w+", image_string(response)
        )
    else:
        assert set(response.json()) == {"success", "errors", "messages", "result"}
        assert set(response.json()["result"]) == {"image"}
    with Image.open(io.BytesIO(image_bytes(http, response))) as image:
        image.load()
        assert (image.size, image.format) == (size, fmt)
    sent = {"prompt": "a lighthouse at dusk", **params}
    (recorded,) = emulator.requests
    assert recorded.json == (sent if spec.hosting == "hosted" else {"model": model, "input": sent})


def test_every_model_of_the_first_three_shapes_is_a_registered_model() -> None:
    # The other shapes (multipart, image arrays, ...) have a model each in test_catalog_shapes.py.
    assert set(CASES) <= set(list_models())


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        ("v4", {"success": True, "errors": [], "messages": [], "result": {"image": "URL"}}),
        (
            "run",
            {"state": "Completed", "result": {"image": "URL"}, "gatewayMetadata": {"keySource": "Unified"}},
        ),
        (
            "v4+run",
            {
                "success": True,
                "errors": [],
                "messages": [],
                "result": {
                    "state": "Completed",
                    "result": {"image": "URL"},
                    "gatewayMetadata": {"keySource": "Unified"},
                },
            },
        ),
    ],
)
def test_url_answers_use_the_configured_envelope(http: httpx.Client, envelope: Any, expected: Any) -> None:
    with Emulator(envelope=envelope) as emu:
        response = call(http, emu, GPT, SMALL)
        assert json.loads(response.text.replace(image_string(response), "URL")) == expected


def test_data_uri_style_embeds_the_image(http: httpx.Client) -> None:
    with Emulator(image_url_style="data-uri") as emu:
        response = call(http, emu, "google/nano-banana", {"output_format": "jpg"})
        assert image_string(response).startswith("data:image/jpeg;base64,")
        assert Image.open(io.BytesIO(image_bytes(http, response))).format == "JPEG"
        assert emu.file_requests == []


def test_hosted_model_id_may_be_percent_encoded(http: httpx.Client, emulator: Emulator) -> None:
    url = f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run/%40cf%2Flykon%2Fdreamshaper-8-lcm"
    auth = {"authorization": f"Bearer {emulator.token}"}
    response = http.post(url, json={"prompt": "a fox", "width": 256, "height": 256}, headers=auth)
    assert response.headers["content-type"] == "image/png"


# Errors.


@pytest.mark.parametrize("token", [None, "Bearer wrong", "emulator-token"])
def test_missing_or_wrong_token_is_401_code_10000(
    http: httpx.Client, emulator: Emulator, token: str | None
) -> None:
    headers = {} if token is None else {"authorization": token}
    url = f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run"
    response = http.post(url, json={"model": GPT, "input": {"prompt": "x"}}, headers=headers)
    assert error_of(response) == (401, 10000, "Authentication error")


def test_wrong_account_is_404_code_7003(http: httpx.Client, emulator: Emulator) -> None:
    url = f"{emulator.base_url}/accounts/someone-else/ai/run/{FLUX}"
    response = http.post(url, json={"prompt": "x"}, headers={"authorization": f"Bearer {emulator.token}"})
    status, code, message = error_of(response)
    assert (status, code) == (404, 7003) and "someone-else" in message


@pytest.mark.parametrize("model", ["openai/dall-e-9", "@cf/nobody/nothing"])
def test_unknown_model_is_400_code_5007(http: httpx.Client, emulator: Emulator, model: str) -> None:
    assert error_of(call(http, emulator, model))[:2] == (400, 5007)


def test_model_on_the_other_route_is_400_code_5007(http: httpx.Client, emulator: Emulator) -> None:
    auth = {"authorization": f"Bearer {emulator.token}"}
    run = f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run"
    hosted_on_proxied = http.post(run, json={"model": FLUX, "input": {"prompt": "x"}}, headers=auth)
    proxied_on_hosted = http.post(f"{run}/{GPT}", json={"prompt": "x"}, headers=auth)
    assert (
        error_of(hosted_on_proxied)[:2] == (400, 5007) and f"/ai/run/{FLUX}" in error_of(hosted_on_proxied)[2]
    )
    assert "cf-aig-gateway-id" in error_of(hosted_on_proxied)[2]
    assert error_of(proxied_on_hosted)[:2] == (400, 5007)


@pytest.mark.parametrize("model", [FLUX, "@cf/bytedance/stable-diffusion-xl-lightning"])
def test_workers_ai_model_on_the_gateway_route_is_served_when_the_gateway_is_named(
    http: httpx.Client, emulator: Emulator, model: str
) -> None:
    headers = {"authorization": f"Bearer {emulator.token}", "cf-aig-gateway-id": "default"}
    run = f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run"
    body = {"model": model, "input": {"prompt": "x", **({} if model == FLUX else {"width": 256})}}
    response = http.post(run, json=body, headers=headers)
    with Image.open(io.BytesIO(image_bytes(http, response))) as image:
        assert image.width == (1024 if model == FLUX else 256)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b"{not json", "/ai/run"),
        (b'{"model": "openai/gpt-image-1.5"}', "/ai/run"),
        (b'{"input": {"prompt": "x"}}', "/ai/run"),
    ],
)
def test_incomplete_request_is_400_code_3003(
    http: httpx.Client, emulator: Emulator, body: bytes, path: str
) -> None:
    url = f"{emulator.base_url}/accounts/{emulator.account_id}{path}"
    headers = {"authorization": f"Bearer {emulator.token}", "content-type": "application/json"}
    assert error_of(http.post(url, content=body, headers=headers))[:2] == (400, 3003)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"model": "openai/gpt-image-1.5", "input": {"size": "256x256"}}', "/ai/run"),
        (b'{"steps": 4}', f"/ai/run/{FLUX}"),
    ],
)
def test_missing_prompt_is_a_schema_failure_400_code_5006(
    http: httpx.Client, emulator: Emulator, body: bytes, path: str
) -> None:
    url = f"{emulator.base_url}/accounts/{emulator.account_id}{path}"
    headers = {"authorization": f"Bearer {emulator.token}", "content-type": "application/json"}
    status, code, message = error_of(http.post(url, content=body, headers=headers))
    assert (
        (status, code) == (400, 5006) and message.startswith("AiError: Bad input: ") and "'prompt'" in message
    )


def test_unknown_path_and_method(http: httpx.Client, emulator: Emulator) -> None:
    auth = {"authorization": f"Bearer {emulator.token}"}
    assert error_of(http.post(f"{emulator.base_url}/accounts/x/ai/models", headers=auth))[:2] == (404, 7000)
    # Without the token nothing is routed: the token is checked first.
    assert error_of(http.post(f"{emulator.base_url}/accounts/x/ai/models"))[:2] == (401, 10000)
    assert error_of(http.get(f"{emulator.base_url}/accounts/x/ai/run", headers=auth))[:2] == (405, 7001)


@pytest.mark.parametrize(
    ("model", "params", "field"),
    [
        (GPT, {"size": "1536x1024"}, "size"),
        ("openai/gpt-image-2", {"quality": "ultra"}, "quality"),
        (FLUX, {"steps": 9}, "steps"),
        (FLUX, {"width": 512}, "width"),  # flux's schema is closed
        ("google/imagen-4", {"aspect_ratio": 1.5}, "aspect_ratio"),
        (SDXL, {"width": 100}, "width"),
    ],
)
def test_schema_violation_is_400_code_5006_bad_input_naming_the_field(
    http: httpx.Client, emulator: Emulator, model: str, params: dict[str, Any], field: str
) -> None:
    status, code, message = error_of(call(http, emulator, model, params))
    assert (status, code) == (400, 5006) and message.startswith("AiError: Bad input: ")
    assert f"{field}:" in message


# Input images.


def _looks_red(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        red, green, blue = image.convert("RGB").getpixel((image.width // 5, image.height // 3))
    return bool(red > green + 40 and red > blue + 40)


@pytest.mark.parametrize(
    ("model", "params"),
    [
        (
            GPT,
            {"size": "256x256", "images": [png_data_uri((255, 0, 0)), png_data_uri((0, 0, 255), fmt="JPEG")]},
        ),
        (
            GPT,
            {"size": "256x256", "image": png_data_uri((255, 0, 0)).partition(",")[2]},
        ),  # legacy, raw base64
        ("google/nano-banana", {"image_input": [png_data_uri((255, 0, 0), fmt="WEBP")]}),
        (SDXL, {"width": 256, "height": 256, "image_b64": png_data_uri((255, 0, 0)).partition(",")[2]}),
        (
            SDXL,
            {"width": 256, "height": 256, "image": list(base64.b64decode(png_data_uri((255, 0, 0))[22:]))},
        ),
    ],
)
def test_edit_inputs_are_accepted_and_show_in_the_output(
    http: httpx.Client, emulator: Emulator, model: str, params: dict[str, Any]
) -> None:
    edited = image_bytes(http, call(http, emulator, model, params))
    assert _looks_red(edited)
    plain = {k: v for k, v in params.items() if k in ("size", "width", "height")}
    assert not _looks_red(image_bytes(http, call(http, emulator, model, plain, prompt="a red dusk")))


@pytest.mark.parametrize(
    "bad",
    [
        "not base64!!",
        base64.b64encode(b"these bytes are not an image").decode(),
        png_data_uri((1, 2, 3), fmt="GIF"),
        "data:image/png,rawbytes",
        png_data_uri((1, 2, 3))[:-40],
    ],
)
def test_unusable_input_image_is_400_code_5004(http: httpx.Client, emulator: Emulator, bad: str) -> None:
    status, code, message = error_of(call(http, emulator, GPT, {"images": [png_data_uri((0, 0, 0)), bad]}))
    assert (status, code) == (400, 5004) and "images[1]" in message


# Determinism and image URLs.


def _sequence(http: httpx.Client) -> list[bytes]:
    requests: list[tuple[str, dict[str, Any], str]] = [
        (GPT, SMALL, "a fox"),
        (GPT, SMALL, "a fox"),
        (FLUX, {}, "a fox"),
        ("@cf/leonardo/phoenix-1.0", {"width": 256, "height": 256}, "an owl"),
    ]
    with Emulator() as emu:
        return [
            image_bytes(http, call(http, emu, model, params, prompt=prompt))
            for model, params, prompt in requests
        ]


def test_fresh_emulators_replay_the_same_images(http: httpx.Client) -> None:
    first, second = _sequence(http), _sequence(http)
    assert first == second and first[0] != first[1]


def test_identical_requests_give_distinct_samples_until_reset(http: httpx.Client, emulator: Emulator) -> None:
    samples = [image_bytes(http, call(http, emulator, GPT, SMALL)) for _ in range(4)]
    assert len(set(samples)) == 4
    emulator.reset()
    assert image_bytes(http, call(http, emulator, GPT, SMALL)) == samples[0]


def test_image_url_is_reusable_until_it_expires_and_gets_no_credentials(
    http: httpx.Client, emulator: Emulator
) -> None:
    url = image_string(call(http, emulator, GPT, SMALL))
    first, second = http.get(url), http.get(url)
    assert first.headers["content-type"] == "image/png" and second.content == first.content
    assert [r.status for r in emulator.file_requests] == [200, 200]
    assert all("authorization" not in r.headers for r in emulator.file_requests)
    assert emulator.requests[0].headers["authorization"] == f"Bearer {emulator.token}"


def test_image_url_expiry_and_strict_single_use_are_configurable(http: httpx.Client) -> None:
    with Emulator(url_ttl=0) as emu:
        assert http.get(image_string(call(http, emu, GPT, SMALL))).status_code == 404
    with Emulator(single_use_urls=True) as emu:
        url = image_string(call(http, emu, GPT, SMALL))
        assert [http.get(url).status_code for _ in range(3)] == [200, 404, 404]


# Faults.


def test_answer_faults(http: httpx.Client, emulator: Emulator) -> None:
    emulator.inject("rate_limit", retry_after=2)
    emulator.inject(Fault.DAILY_LIMIT)
    emulator.inject("server_error", status=503)
    emulator.inject("moderation")
    emulator.inject("failed_state")
    responses = [call(http, emulator, GPT, SMALL) for _ in range(6)]
    assert error_of(responses[0])[:2] == (429, 3040) and responses[0].headers["retry-after"] == "2"
    assert error_of(responses[1])[:2] == (429, 3036) and "daily free allocation" in error_of(responses[1])[2]
    assert error_of(responses[2])[0] == 503
    moderation = error_of(responses[3])
    assert moderation[0] == 400 and "rejected by the safety system" in moderation[2]
    assert "moderation_blocked" in moderation[2]
    failed = responses[4].json()
    assert responses[4].status_code == 200 and failed["result"]["state"] == "Failed"
    assert failed["result"]["error"]["code"] == "provider_unavailable"
    assert responses[5].status_code == 200  # the queue is used up
    assert [r.fault for r in emulator.requests] == [
        "rate_limit;retry_after=2.0",
        "daily_limit",
        "server_error;status=503",
        "moderation;code=5004",
        "failed_state;code=provider_unavailable;message=The model provider is unavailable right now (emulated failure).",
        None,
    ]


def test_failed_state_is_bare_in_the_run_envelope(http: httpx.Client) -> None:
    with Emulator(envelope="run") as emu:
        body = call(http, emu, GPT, SMALL, headers={"x-emulator-fault": "failed_state;code=boom"}).json()
        assert body["state"] == "Failed" and body["error"]["code"] == "boom"


@pytest.mark.parametrize("kind", ["truncated", "reset"])
def test_connection_faults_break_the_answer(http: httpx.Client, emulator: Emulator, kind: str) -> None:
    emulator.inject(kind)
    with pytest.raises(httpx.TransportError):
        call(http, emulator, FLUX)
    assert call(http, emulator, FLUX).status_code == 200  # the server is fine afterwards


def test_malformed_json(http: httpx.Client, emulator: Emulator) -> None:
    response = call(http, emulator, FLUX, headers={"x-emulator-fault": "malformed_json"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_latency_and_hang(http: httpx.Client, emulator: Emulator) -> None:
    emulator.inject("latency", seconds=0.05)
    assert call(http, emulator, GPT, SMALL).status_code == 200
    emulator.inject("hang", seconds=30)
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run/{FLUX}",
            json={"prompt": "x"},
            headers={"authorization": f"Bearer {emulator.token}"},
            timeout=0.3,
        )
    assert [r.fault for r in emulator.requests] == ["latency;seconds=0.05", "hang;seconds=30.0"]


def test_stop_does_not_wait_for_a_hanging_request(http: httpx.Client) -> None:
    emu = Emulator().start()
    emu.inject("hang")  # 30 s by default
    outcome: list[BaseException | int] = []

    def hang() -> None:
        try:
            outcome.append(call(http, emu, FLUX).status_code)
        except httpx.TransportError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=hang)
    thread.start()
    while not emu.requests:
        time.sleep(0.01)
    emu.stop()
    emu.stop()  # idempotent
    thread.join(timeout=10)
    assert not thread.is_alive() and isinstance(outcome[0], httpx.TransportError)


def test_image_faults_on_url_models(http: httpx.Client, emulator: Emulator) -> None:
    def file_for(fault: str) -> httpx.Response:
        return http.get(image_string(call(http, emulator, GPT, SMALL, headers={"x-emulator-fault": fault})))

    truncated = file_for("truncated_base64").content
    with pytest.raises(OSError), Image.open(io.BytesIO(truncated)) as image:
        image.load()
    assert file_for("expired_url").status_code == 404
    not_image = file_for("not_an_image")
    assert not_image.headers["content-type"] == "image/png" and not_image.content.startswith(
        b"<!DOCTYPE html>"
    )
    bomb = file_for("decompression_bomb").content
    assert len(bomb) < 200_000 and struct.unpack(">II", bomb[16:24]) == (30000, 30000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb))
    redirect = file_for("redirect_insecure")
    assert redirect.status_code == 302 and redirect.headers["location"] == "http://example.invalid/x.png"
    with http.stream(
        "GET",
        image_string(
            call(http, emulator, GPT, SMALL, headers={"x-emulator-fault": "oversize;bytes=3000000"})
        ),
    ) as big:
        assert big.headers["content-length"] == "3000000"
        assert sum(len(chunk) for chunk in big.iter_bytes()) == 3_000_000
    assert image_string(
        call(http, emulator, GPT, SMALL, headers={"x-emulator-fault": "bad_image_string"})
    ).startswith("<<")
    assert [r.fault for r in emulator.file_requests][:2] == ["truncated_base64", None]


def test_image_faults_on_base64_and_binary_models(http: httpx.Client, emulator: Emulator) -> None:
    def answer(model: str, fault: str) -> httpx.Response:
        params = {} if model == FLUX else {"width": 256, "height": 256}
        return call(http, emulator, model, params, headers={"x-emulator-fault": fault})

    cut = base64.b64decode(image_string(answer(FLUX, "truncated_base64")), validate=True)
    assert cut.startswith(b"\xff\xd8") and not cut.endswith(b"\xff\xd9")
    assert image_string(answer(FLUX, "bad_image_string")) == "<<image unavailable: storage error (emulated)>>"
    big = base64.b64decode(image_string(answer(FLUX, "oversize;bytes=1000001")))
    assert len(big) == 1_000_001 and big.startswith(b"\x89PNG")
    assert answer(SDXL, "not_an_image").content.startswith(b"<!DOCTYPE html>")
    assert len(answer(SDXL, "oversize;bytes=2000000").content) == 2_000_000
    assert (
        len(answer(SDXL, "truncated_base64").content)
        < len(answer(SDXL, "latency;seconds=0").content) // 2 + 3
    )


def test_bomb_png_is_a_valid_png() -> None:
    with Image.open(io.BytesIO(bomb_png(100, 77))) as image:
        image.load()
        assert image.size == (100, 77) and not any(image.tobytes())


def test_fault_header_overrides_the_queue_and_bad_faults_are_refused(
    http: httpx.Client, emulator: Emulator
) -> None:
    emulator.inject("daily_limit")
    limited = call(http, emulator, GPT, SMALL, headers={"x-emulator-fault": "rate_limit; retry_after=1"})
    assert limited.headers["retry-after"] == "1"
    assert error_of(call(http, emulator, GPT, SMALL))[1] == 3036
    assert error_of(call(http, emulator, GPT, SMALL, headers={"x-emulator-fault": "gremlins"}))[:2] == (
        400,
        3003,
    )
    for kind, options in [("gremlins", {}), ("latency", {"second": 1}), ("server_error", {"status": 404})]:
        with pytest.raises(ValueError):
            emulator.inject(kind, **options)
    with pytest.raises(ValueError):
        emulator.inject("reset", times=0)


# Control endpoints, concurrency, CLI.


def test_control_endpoints(emulator: Emulator) -> None:
    control = f"http://127.0.0.1:{emulator.port}/__emulator__"
    http = httpx.Client(timeout=10, headers={"authorization": f"Bearer {emulator.token}"})
    assert http.post(f"{control}/faults", json={"kind": "server_error", "times": 2, "status": 502}).json()[
        "ok"
    ]
    assert http.post(f"{control}/faults", json={"kind": "nope"}).status_code == 400
    assert [call(http, emulator, GPT, SMALL).status_code for _ in range(3)] == [502, 502, 200]
    http.get(image_string(call(http, emulator, GPT, SMALL)))
    assert http.post(f"{control}/latency", json={"seconds": 0.01}).json() == {"ok": True, "latency": 0.01}
    assert http.post(f"{control}/latency", json={"seconds": -1}).status_code == 400
    stats = http.get(f"{control}/stats").json()
    assert stats == {
        "api_requests": 4,
        "file_requests": 1,
        "faults_pending": 0,
        "files_stored": 2,  # downloaded or not, both URLs stay until they expire
        "latency": 0.01,
    }
    http.post(f"{control}/faults", json={"kind": "reset"})
    assert http.post(f"{control}/reset").json() == {"ok": True}
    assert http.get(f"{control}/stats").json()["api_requests"] == 0 and emulator.requests == []
    assert call(http, emulator, GPT, SMALL).status_code == 200  # the queued reset fault was cleared
    http.close()


def test_concurrent_requests_overlap(emulator: Emulator) -> None:
    emulator.inject("latency", times=4, seconds=0.3)
    with httpx.Client(timeout=10) as http:
        threads = [threading.Thread(target=call, args=(http, emulator, GPT, SMALL)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    spans = sorted((r.started, r.finished or 0.0) for r in emulator.requests)
    assert len(spans) == 4 and all(r.status == 200 for r in emulator.requests)
    assert all(later_start < earlier_end for (_, earlier_end), (later_start, _) in itertools.pairwise(spans))


def test_chunked_request_body(http: httpx.Client, emulator: Emulator) -> None:
    body = json.dumps({"prompt": "chunks", "width": 256, "height": 256}).encode()
    response = http.post(
        f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run/{SDXL}",
        content=iter([body[:10], body[10:]]),
        headers={"authorization": f"Bearer {emulator.token}"},
    )
    assert response.status_code == 200 and emulator.requests[0].json["prompt"] == "chunks"


@pytest.mark.parametrize("program", [["jupyter_imagegen.emulator"], ["jupyter_imagegen", "emulator"]])
def test_cli_serves_until_terminated(http: httpx.Client, program: list[str]) -> None:
    # python -m jupyter_imagegen.emulator, and `imagegen emulator` as the README shows it
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", *program, "--port", str(port), "--token", "t0k"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/client/v4/accounts/emulator-account/ai/run/{FLUX}"
        response = None
        for _ in range(200):
            try:
                response = http.post(url, json={"prompt": "cli"}, headers={"authorization": "Bearer t0k"})
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert response is not None and response.status_code == 200 and image_string(response)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert f"export CLOUDFLARE_BASE_URL=http://127.0.0.1:{port}/client/v4" in out
    assert "export CLOUDFLARE_API_TOKEN=t0k" in out and "EMULATOR" in out
    assert f"POST /client/v4/accounts/emulator-account/ai/run/{FLUX} -> 200" in out
