"""The client against the emulator over real loopback HTTP: every model, envelope, error row,
retries as the server counted them, timeouts, concurrency and secret hygiene."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from jupyter_imagegen import (
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    ContentPolicyError,
    ImageDownloadError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationError,
    list_models,
)
from jupyter_imagegen.client._files import read_provenance
from jupyter_imagegen.client._request import ImageRequest
from jupyter_imagegen.emulator import Emulator

SMALL = {
    "openai/gpt-image-1.5": {"size": "256x256"},
    "openai/gpt-image-2": {"size": "1024x1024", "quality": "low"},
    "google/imagen-4": {"aspect_ratio": "16:9"},
    "google/nano-banana": {"aspect_ratio": "1:1", "output_format": "webp"},
    "@cf/black-forest-labs/flux-1-schnell": {"steps": 4},
    "@cf/leonardo/lucid-origin": {"width": 256, "height": 256},
    "@cf/leonardo/phoenix-1.0": {"width": 256, "height": 320},
    "@cf/bytedance/stable-diffusion-xl-lightning": {"width": 256, "height": 256},
    "@cf/lykon/dreamshaper-8-lcm": {"width": 256, "height": 256},
    "@cf/stabilityai/stable-diffusion-xl-base-1.0": {"width": 512, "height": 256},
}


def connect(emulator: Emulator, **kw: object) -> Client:
    return Client(account_id=emulator.account_id, api_token=emulator.token, base_url=emulator.base_url, **kw)  # type: ignore[arg-type]


def test_the_first_three_shapes_work_end_to_end(client: Client, emulator: Emulator) -> None:
    # Every other shipped model generates in test_catalog_shapes.py.
    assert set(SMALL) <= set(list_models())
    for model, params in SMALL.items():
        image = client.generate("a lighthouse at dusk", model=model, **params)
        with Image.open(io.BytesIO(image.data)) as im:
            assert im.size == (image.width, image.height)
        if "width" in params:
            assert (image.width, image.height) == (params["width"], params["height"])
        assert image.model == model and image.params == params and image.log_id
    assert SMALL["openai/gpt-image-1.5"] and len(emulator.requests) == len(SMALL)


@pytest.mark.parametrize("envelope", ["v4", "run", "v4+run"])
@pytest.mark.parametrize("style", ["url", "data-uri"])
def test_every_envelope_and_image_string_style(envelope: str, style: str) -> None:
    with Emulator(envelope=envelope, image_url_style=style) as emulator, connect(emulator) as client:
        image = client.generate("a fox", size="256x256")
    assert (image.width, image.height) == (256, 256)


def test_image_url_is_fetched_once_without_credentials(client: Client, emulator: Emulator) -> None:
    client.generate("a fox", size="256x256")
    (download,) = emulator.file_requests
    assert "authorization" not in download.headers
    assert emulator.requests[0].headers["authorization"] == f"Bearer {emulator.token}"


def test_wrong_token_is_an_authentication_error_without_the_token() -> None:
    secret = "wrong-token-QX81"
    answered: list[str] = []
    with Emulator(log=answered.append) as emulator:
        client = Client(account_id=emulator.account_id, api_token=secret, base_url=emulator.base_url)
        with client, pytest.raises(AuthenticationError) as info:
            client.generate("a fox")
    assert info.value.code == 10000 and info.value.status_code == 401
    assert secret not in str(info.value) and secret not in repr(info.value)
    # Not retried; and not kept in the request log (the token is checked before anything is kept).
    assert [line for line in answered if "401" in line] == [answered[0]] and len(answered) == 1
    assert emulator.requests == []


def test_a_model_the_catalog_does_not_list_is_refused_and_the_services_answer_explained(
    client: Client, emulator: Emulator
) -> None:
    with pytest.raises(ValidationError, match="the live catalog does not list it"):
        client.generate("a fox", model="acme/not-a-model")
    assert not [r for r in emulator.requests if "/ai/run" in r.path]
    # Sent anyway (built directly, as when the catalog cannot be read), the service says 5007.
    with pytest.raises(BadRequestError) as info:
        client.generate(ImageRequest("a fox", "acme/not-a-model"))
    assert info.value.code == 5007


def test_schema_and_image_rejections_carry_the_services_own_message(client: Client) -> None:
    # Built directly, skipping the offline check, to see what the service says.
    over = ImageRequest("a fox", "@cf/black-forest-labs/flux-1-schnell", {"steps": 99})
    with pytest.raises(BadRequestError) as schema:
        client.generate(over)
    assert (schema.value.status_code, schema.value.code) == (400, 5006)
    assert (schema.value.service_message or "").startswith("AiError: Bad input: steps:")
    assert "AiError: Bad input: steps:" in str(schema.value)
    broken = ImageRequest("a fox", "openai/gpt-image-1.5", {"size": "256x256"}, images=(b"not an image",))
    with pytest.raises(BadRequestError) as image:
        client.generate(broken)
    assert image.value.code == 5004 and "images[0]" in (image.value.service_message or "")


def test_wrong_account_is_not_found(emulator: Emulator) -> None:
    client = Client(account_id="someone-else", api_token=emulator.token, base_url=emulator.base_url)
    with client, pytest.raises(NotFoundError, match="CLOUDFLARE_ACCOUNT_ID"):
        client.generate("a fox")


def test_rate_limit_is_retried_after_the_servers_delay(client: Client, emulator: Emulator) -> None:
    emulator.inject("rate_limit", times=2, retry_after=0)
    image = client.generate("a fox", size="256x256")
    assert image.width == 256
    assert len(emulator.requests) == 3


def test_server_errors_are_retried_then_reported(emulator: Emulator) -> None:
    emulator.inject("server_error", times=5, status=502)
    with connect(emulator, max_retries=1) as client, pytest.raises(ServerError) as info:
        client.generate("a fox", size="256x256")
    assert info.value.status_code == 502 and len(emulator.requests) == 2


def test_daily_allocation_is_final(client: Client, emulator: Emulator) -> None:
    emulator.inject("daily_limit")
    with pytest.raises(RateLimitError, match="daily free allocation"):
        client.generate("a fox")
    assert len(emulator.requests) == 1


def test_moderation_refusal_shows_the_providers_message(client: Client, emulator: Emulator) -> None:
    emulator.inject("moderation")
    with pytest.raises(ContentPolicyError, match="safety system"):
        client.generate("a fox")


def test_read_timeout_is_reported_and_not_retried(emulator: Emulator) -> None:
    emulator.inject("hang", seconds=5)
    with connect(emulator, timeout=0.5) as client, pytest.raises(APITimeoutError, match="read timeout"):
        client.generate("a fox")
    assert len(emulator.requests) == 1


def test_expired_url_is_a_download_error(client: Client, emulator: Emulator) -> None:
    emulator.inject("expired_url")
    with pytest.raises(ImageDownloadError, match="expired"):
        client.generate("a fox", size="256x256")


def test_generate_many_overlaps_keeps_order_and_every_success(emulator: Emulator) -> None:
    emulator.inject("latency", times=4, seconds=0.4)
    emulator.inject("moderation")  # only the fifth request to arrive is refused
    prompts = [f"fox number {i}" for i in range(5)]
    with connect(emulator, max_retries=0) as client:
        results = client.generate_many(prompts, concurrency=4, size="256x256")
    assert len(results.images) == 4 and len(results.errors) == 1
    assert [r.prompt for r in results.images] == [
        p for i, p in enumerate(prompts) if i != results.errors[0][0]
    ]
    assert isinstance(results.errors[0][1], ContentPolicyError)
    spans = sorted((r.started, r.finished) for r in emulator.requests)
    assert any(later_start < earlier_end for (_, earlier_end), (later_start, _) in itertools.pairwise(spans))


def test_async_client_and_cancellation(emulator: Emulator) -> None:
    async def scenario() -> None:
        async with AsyncClient(
            account_id=emulator.account_id, api_token=emulator.token, base_url=emulator.base_url
        ) as client:
            results = await client.generate_many(["a", "b", "c"], size="256x256")
            assert len(results.images) == 3
            assert len({image.data for image in results.images}) == 3
            emulator.inject("latency", seconds=5)
            task = asyncio.create_task(client.generate("slow fox", size="256x256"))
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(scenario())
    assert len(emulator.requests) == 4


def test_identical_requests_give_distinct_samples(client: Client) -> None:
    results = client.generate_many(["same prompt"] * 4, size="256x256")
    assert len({image.data for image in results.images}) == 4


def test_cli_generate_writes_png_with_prompt_metadata(emulator: Emulator, tmp_path: Path) -> None:
    env = {**emulator.env, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **_pythonpath()}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_imagegen",
            "generate",
            "a red fox",
            "--size",
            "256x256",
            "-o",
            "fox.png",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    meta = read_provenance(tmp_path / "fox.png")
    assert meta is not None and meta["prompt"] == "a red fox"
    again = subprocess.run(
        [sys.executable, "-m", "jupyter_imagegen", "generate", "a red fox", "--size", "1024"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [again.stderr.strip()]  # one line, no traceback
    assert "did you mean '1024x1024'" in again.stderr


def test_cli_without_credentials_says_how_to_set_them(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_imagegen", "generate", "a fox"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **_pythonpath()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN not set" in done.stderr


def _pythonpath() -> dict[str, str]:
    """The subprocess imports the package the tests import (a source checkout, say)."""
    return {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}
