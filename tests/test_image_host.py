"""Only the image host, only safe addresses, and never pay twice.

Against a real (https, non-loopback) API the image URL comes from the service's answer: unsafe
targets are refused before connecting, every redirect hop included. These tests resolve names with
a recording resolver and answer with a recording transport: no socket is opened and no packet
leaves the process. The token's path to the image host and the download retries run against the
emulator over loopback.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from jupyter_imagegen import AsyncClient, Client, ImageDownloadError, ServerError, ValidationError, batch
from jupyter_imagegen.emulator import Emulator

PUBLIC = "93.184.216.34"
API = "https://api.example.test/client/v4"
UNSAFE_ADDRESSES = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.9",
    "192.168.1.1",
    "169.254.169.254",  # the cloud metadata service
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    return buffer.getvalue()


class Recorder:
    """A resolver and a transport that record what the client asked for and open no socket."""

    def __init__(
        self, addresses: dict[str, list[str]], files: Callable[[httpx.Request], httpx.Response]
    ) -> None:
        self.addresses = addresses
        self.files = files
        self.resolved: list[tuple[str, int]] = []
        self.requests: list[httpx.Request] = []

    def resolve(self, host: str, port: int) -> list[str]:
        self.resolved.append((host, port))
        return self.addresses.get(host, [PUBLIC])

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST":
            return httpx.Response(200, json={"result": {"image": self.image_url}, "state": "Completed"})
        return self.files(request)

    image_url = ""

    @property
    def downloads(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "GET"]

    def generate(self, image_url: str, run_async: bool) -> Any:
        self.image_url = image_url
        options: dict[str, Any] = dict(
            account_id="acc", api_token="tok-x", base_url=API, resolver=self.resolve
        )
        if not run_async:
            with Client(transport=httpx.MockTransport(self.handle), **options) as client:
                return client.generate("a fox")

        async def scenario() -> Any:
            async with AsyncClient(transport=httpx.MockTransport(self.handle), **options) as client:
                return await client.generate("a fox")

        return asyncio.run(scenario())


def image_file(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=png(), headers={"content-type": "image/png"})


MODES = pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])


@MODES
@pytest.mark.parametrize(
    "url",
    [
        "http://img.example.test/a.png",
        "http://127.0.0.1:8787/files/a.png",
        "https://127.0.0.1/a.png",
        "https://localhost/a.png",
        "https://files.localhost/a.png",
        "https://10.0.0.7/a.png",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/a.png",
        "https://[fe80::1]/a.png",
        "https://[::ffff:10.0.0.1]/a.png",
        "ftp://img.example.test/a.png",
        "file:///etc/passwd",
    ],
)
def test_unsafe_image_urls_are_refused_before_connecting(url: str, run_async: bool) -> None:
    recorder = Recorder({}, image_file)
    with pytest.raises(ImageDownloadError, match=r"^Refusing to download the image"):
        recorder.generate(url, run_async)
    assert recorder.downloads == [] and recorder.resolved == []


@MODES
@pytest.mark.parametrize("address", UNSAFE_ADDRESSES)
def test_a_host_that_resolves_to_an_unsafe_address_is_refused(address: str, run_async: bool) -> None:
    recorder = Recorder({"img.example.test": [PUBLIC, address]}, image_file)
    with pytest.raises(
        ImageDownloadError, match=re.escape(f"img.example.test: it resolves to {address}, a private")
    ):
        recorder.generate("https://img.example.test/a.png", run_async)
    assert recorder.resolved == [("img.example.test", 443)] and recorder.downloads == []


@MODES
@pytest.mark.parametrize(
    "location,refusal,resolved",
    [
        ("https://inside.example.test:8443/x.png", "inside.example.test: it resolves to 192.168.0.10", True),
        ("https://127.0.0.1:8443/x.png", "127.0.0.1: it is this machine", False),
        ("http://127.0.0.1/x.png", "http://127.0.0.1: only https is allowed", False),
        ("https://[::ffff:169.254.169.254]/x", "[::ffff:169.254.169.254]: it is a private", False),
    ],
)
def test_every_redirect_hop_is_checked(location: str, refusal: str, resolved: bool, run_async: bool) -> None:
    def files(request: httpx.Request) -> httpx.Response:
        if request.headers["host"] == "img.example.test":
            return httpx.Response(302, headers={"location": location})
        return image_file(request)

    recorder = Recorder({"inside.example.test": ["192.168.0.10"]}, files)
    with pytest.raises(ImageDownloadError, match=re.escape(refusal)):
        recorder.generate("https://img.example.test/a.png", run_async)
    hops = [("img.example.test", 443)] + ([("inside.example.test", 8443)] if resolved else [])
    assert recorder.resolved == hops
    assert len(recorder.downloads) == 1  # the first hop only


@MODES
def test_the_download_connects_to_the_checked_address(run_async: bool) -> None:
    """A second DNS answer (rebinding) cannot swap in another address: the client connects to the
    address it checked, naming the host in Host and in the TLS server name."""
    recorder = Recorder({"img.example.test": [PUBLIC]}, image_file)
    image = recorder.generate("https://img.example.test:8443/a.png?sig=1", run_async)
    assert image.width == 8
    (download,) = recorder.downloads
    assert str(download.url) == f"https://{PUBLIC}:8443/a.png?sig=1"
    assert download.headers["host"] == "img.example.test:8443"
    assert download.headers["connection"] == "close"  # never pooled under another name
    assert download.extensions["sni_hostname"] == "img.example.test"
    assert "authorization" not in download.headers
    assert download.headers["accept-encoding"] == "identity"


@MODES
@pytest.mark.parametrize(
    "model",
    [
        "@cf/../../../../user/tokens/verify",
        "openai/gpt-image-1.5?x=1",
        "openai/gpt-image-1.5#frag",
        "openai/gpt%2e%2e",
        "openai/gpt image",
        "openai/gpt-image\n",
        "gpt-image-1.5",
        "@cf/owner/",
        "/etc/passwd",
    ],
)
def test_a_malformed_model_id_is_refused_before_sending(model: str, run_async: bool) -> None:
    recorder = Recorder({}, image_file)
    options: dict[str, Any] = dict(
        transport=httpx.MockTransport(recorder.handle), api_token="t", account_id="a"
    )

    async def scenario() -> None:
        async with AsyncClient(**options) as client:
            await client.generate("a fox", model=model)

    with pytest.raises(ValidationError, match="is not a model id: ids look like @cf/owner/name"):
        if run_async:
            asyncio.run(scenario())
        else:
            with Client(**options) as client:
                client.generate("a fox", model=model)
    assert recorder.requests == []


def test_a_malformed_model_in_a_batch_file_is_named_before_anything_is_sent(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    """Like every invalid row, a bad model id stops the batch before its first request, naming
    the file and line (the rows are checked as a whole so a typo costs nothing)."""
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "prompt,model,size\nan owl,openai/gpt-image-1.5,256x256\na fox,@cf/../../user/tokens/verify,\n"
    )
    with pytest.raises(
        ValidationError, match=r"line 3 of rows.csv: '@cf/\.\./\.\./user/tokens/verify' is not a model"
    ):
        batch(rows, tmp_path / "out", progress=False)
    assert emulator_env.requests == []


# -- the token stays with the API host (the async client too) -------------------------------


@MODES
def test_the_token_never_reaches_the_image_host(emulator: Emulator, run_async: bool) -> None:
    options = dict(account_id=emulator.account_id, api_token=emulator.token, base_url=emulator.base_url)
    target = f"http://127.0.0.1:{emulator.port}/files/moved.png"  # a loopback hop is followed

    def sync_run() -> None:
        with Client(**options) as client:
            client.generate("a fox", size="256x256")
            emulator.inject("redirect_insecure", location=target)
            with pytest.raises(ImageDownloadError):
                client.generate("a fox", size="256x256")

    async def async_run() -> None:
        async with AsyncClient(**options) as client:
            await client.generate("a fox", size="256x256")
            emulator.inject("redirect_insecure", location=target)
            with pytest.raises(ImageDownloadError):
                await client.generate("a fox", size="256x256")

    asyncio.run(async_run()) if run_async else sync_run()
    files = emulator.file_requests
    assert [r.path for r in files][-1] == "/files/moved.png" and len(files) == 3
    assert all(r.headers.get("authorization") == f"Bearer {emulator.token}" for r in emulator.requests)
    for download in files:
        assert "authorization" not in download.headers
        assert not any(emulator.token in value for value in download.headers.values())


# -- never pay twice --------------------------------------------------------------------------


@MODES
def test_a_failed_download_is_fetched_again_without_a_new_generation(
    emulator: Emulator, run_async: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jupyter_imagegen.client._imagehost.MAX_DOWNLOAD_DELAY", 0.01)
    options = dict(account_id=emulator.account_id, api_token=emulator.token, base_url=emulator.base_url)
    emulator.inject("image_reset", fetches=2)  # two resets, then the image: within 2 retries
    emulator.inject("image_reset", fetches=5)  # always reset: the error names the image host
    if run_async:

        async def scenario() -> tuple[Any, BaseException]:
            async with AsyncClient(**options) as client:
                image = await client.generate("a fox", size="256x256")
                with pytest.raises(ImageDownloadError) as info:
                    await client.generate("an owl", size="256x256")
                return image, info.value

        image, error = asyncio.run(scenario())
    else:
        with Client(**options) as client:
            image = client.generate("a fox", size="256x256")
            with pytest.raises(ImageDownloadError) as info:
                client.generate("an owl", size="256x256")
            error = info.value
    assert image.width == 256
    assert len(emulator.requests) == 2  # one generation each: nothing paid twice
    assert len(emulator.file_requests) == 3 + 3
    text = str(error)
    assert "Could not talk to the image host 127.0.0.1" in text
    assert "/client/v4" not in text and "only its download failed" in text
    assert text.endswith("(Gave up after 3 attempts.)") and "\n" not in text


def test_a_failed_generation_is_still_retried_as_before(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jupyter_imagegen.client._retry.BASE_DELAY", 0.01)
    emulator.inject("failed_state", times=5)
    with (
        Client(
            account_id=emulator.account_id, api_token=emulator.token, base_url=emulator.base_url
        ) as client,
        pytest.raises(ServerError),
    ):
        client.generate("a fox", size="256x256")
    assert len(emulator.requests) == 3


@MODES
def test_an_image_host_that_does_not_resolve_for_a_moment_is_looked_up_again(
    run_async: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jupyter_imagegen.client._imagehost.MAX_DOWNLOAD_DELAY", 0.0)
    answers = iter([[], [PUBLIC]])
    recorder = Recorder({}, image_file)
    recorder.resolve = lambda host, port: (recorder.resolved.append((host, port)), next(answers))[1]  # type: ignore[method-assign]
    image = recorder.generate("https://img.example.test/a.png", run_async)
    assert image.width == 8 and len(recorder.resolved) == 2
    assert [r.method for r in recorder.requests] == ["POST", "GET"]  # generated once
