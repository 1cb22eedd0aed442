"""Unit tests of single client functions with httpx.MockTransport (behaviour over real HTTP is
covered against the emulator in test_client.py)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from jupyter_imagegen import (
    APIResponseError,
    AsyncClient,
    AuthenticationError,
    Client,
    GeneratedImage,
    ImageDownloadError,
    RateLimitError,
    ServerError,
)
from jupyter_imagegen.client._response import parse_retry_after
from jupyter_imagegen.client._retry import retry_delay

TOKEN = "tok-unit-8Hq"
PUBLIC = "93.184.216.34"  # what the test resolver answers for every name: no DNS query is made


def public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    return buffer.getvalue()


MODES = pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])


def generate(
    handler: Callable[[httpx.Request], httpx.Response], run_async: bool, prompt: str = "a fox", **kw: Any
) -> GeneratedImage:
    """One ``generate`` through the sync or the async client (keywords: settings or parameters)."""
    settings = {k: kw.pop(k) for k in ("max_retries", "max_image_bytes") if k in kw}
    options: dict[str, Any] = dict(
        transport=httpx.MockTransport(handler),
        account_id="acc",
        api_token=TOKEN,
        base_url="https://api.example.test/client/v4",
        resolver=public_resolver,
        **settings,
    )
    if not run_async:
        with Client(**options) as client:
            return client.generate(prompt, **kw)

    async def scenario() -> GeneratedImage:
        async with AsyncClient(**options) as client:
            return await client.generate(prompt, **kw)

    return asyncio.run(scenario())


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry waits of either client (the blocking one runs the async code), recorded
    instead of slept."""
    sleeps: list[float] = []

    async def asleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr("jupyter_imagegen.client._async_client.asyncio.sleep", asleep)
    return sleeps


def client_for(handler: Callable[[httpx.Request], httpx.Response], **kw: object) -> Client:
    return Client(
        transport=httpx.MockTransport(handler),
        account_id="acc",
        api_token=TOKEN,
        base_url="https://api.example.test/client/v4",
        resolver=public_resolver,
        **kw,  # type: ignore[arg-type]
    )


@MODES
def test_proxied_route_body_and_headers(run_async: bool) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.example.test":
            return httpx.Response(
                200, json={"result": {"image": "https://img.example.test/a.png"}, "state": "Completed"}
            )
        return httpx.Response(200, content=png(), headers={"content-type": "image/png"})

    image = generate(handler, run_async, size="256x256", skip_cache=True, metadata={"class": "7b"})
    api, download = seen
    assert str(api.url) == "https://api.example.test/client/v4/accounts/acc/ai/run"
    assert json.loads(api.content) == {
        "model": "openai/gpt-image-1.5",
        "input": {"prompt": "a fox", "size": "256x256"},
    }
    assert api.headers["authorization"] == f"Bearer {TOKEN}"
    assert api.headers["accept-encoding"] == download.headers["accept-encoding"] == "identity"
    assert api.headers["cf-aig-gateway-id"] == "default"
    assert api.headers["cf-aig-skip-cache"] == "true"
    assert json.loads(api.headers["cf-aig-metadata"]) == {"class": "7b"}
    assert "authorization" not in download.headers
    assert image.mime_type == "image/png" and (image.width, image.height) == (8, 8)


@MODES
def test_hosted_route_puts_model_in_path_and_inputs_at_top_level(run_async: bool) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"success": True, "result": {"image": base64.b64encode(png()).decode()}}
        )

    generate(handler, run_async, model="@cf/black-forest-labs/flux-1-schnell", steps=4)
    assert seen[0].url.path == "/client/v4/accounts/acc/ai/run/@cf/black-forest-labs/flux-1-schnell"
    assert json.loads(seen[0].content) == {"prompt": "a fox", "steps": 4}


@MODES
def test_retry_after_is_honoured_and_retries_are_counted(
    monkeypatch: pytest.MonkeyPatch, run_async: bool
) -> None:
    sleeps = record_sleeps(monkeypatch)
    answers = iter(
        [
            httpx.Response(
                429,
                headers={"retry-after": "3"},
                json={"success": False, "errors": [{"code": 3040, "message": "busy"}]},
            ),
            httpx.Response(503, json={"success": False, "errors": [{"code": 3001, "message": "down"}]}),
            httpx.Response(200, content=png(), headers={"content-type": "image/png"}),
        ]
    )
    generate(
        lambda request: next(answers),
        run_async,
        max_retries=2,
        model="@cf/stabilityai/stable-diffusion-xl-base-1.0",
    )
    assert sleeps[0] == 3.0 and len(sleeps) == 2


@MODES
def test_daily_allocation_is_not_retried_and_says_so(run_async: bool) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, json={"success": False, "errors": [{"code": 3036, "message": "daily"}]})

    with pytest.raises(RateLimitError) as info:
        generate(handler, run_async)
    assert len(calls) == 1 and info.value.daily_limit and "Not retried" in str(info.value)


@MODES
def test_retries_stop_at_max_retries(monkeypatch: pytest.MonkeyPatch, run_async: bool) -> None:
    record_sleeps(monkeypatch)
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(500, json={"success": False, "errors": [{"code": 1, "message": "boom"}]})

    with pytest.raises(ServerError):
        generate(handler, run_async, max_retries=3)
    assert len(calls) == 4


@MODES
def test_token_echoed_by_the_service_is_scrubbed(run_async: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"success": False, "errors": [{"code": 10000, "message": f"bad token {TOKEN}"}]}
        )

    with pytest.raises(AuthenticationError) as info:
        generate(handler, run_async)
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value.args)
    assert TOKEN not in (info.value.service_message or "")


@pytest.mark.parametrize("url", ["http://img.example.test/a.png", "ftp://x/a.png", "file:///etc/passwd"])
@MODES
def test_image_urls_must_be_https_or_loopback(url: str, run_async: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "api.example.test", "must not fetch an unsafe URL"
        return httpx.Response(200, json={"result": {"image": url}})

    with pytest.raises(ImageDownloadError, match="Refusing to download"):
        generate(handler, run_async)


@MODES
def test_oversized_answers_are_refused_without_reading_them(run_async: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=png() + b"\0" * 5000, headers={"content-type": "image/png"})

    with pytest.raises(APIResponseError, match="over the 1,000 bytes limit"):
        generate(
            handler, run_async, max_image_bytes=1000, model="@cf/stabilityai/stable-diffusion-xl-base-1.0"
        )


@pytest.mark.parametrize(
    "value,expected", [("5", 5.0), ("0", 0.0), ("999", 60.0), (None, None), ("soon", None), ("-3", 0.0)]
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    error = ServerError("x", status_code=500)
    delays = [retry_delay(error, attempt, 10) for attempt in range(8)]
    assert all(d is not None for d in delays)
    assert 0.25 <= delays[0] <= 0.5  # type: ignore[operator]
    assert max(delays) <= 20.0  # type: ignore[type-var]
    assert retry_delay(error, 2, 2) is None


def test_variations_use_distinct_gateway_cache_keys() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=png(), headers={"content-type": "image/png"})

    model = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
    with client_for(handler) as client:
        client.generate_many([client.prepare("a fox", model=model, variation=i) for i in range(3)])
        client.generate("a fox", model=model, cache_key="mine")
    keys = [request.headers["cf-aig-cache-key"] for request in seen]
    assert len(set(keys[:3])) == 3 and keys[3] == "mine"
