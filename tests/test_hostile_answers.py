"""Answers from a hostile or broken server stay bounded in memory and time, and are errors when
they say so: compression bombs (in a subprocess with an address-space limit), headers trickled
a byte at a time, JSON nested too deeply, and ``success: false`` in a 2xx answer.

The servers here are raw sockets on 127.0.0.1 that send exactly the bytes each case needs.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import subprocess
import sys
import textwrap
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from PIL import Image

from jupyter_imagegen import (
    APIResponseError,
    APITimeoutError,
    AsyncClient,
    Client,
    ServerError,
    batch,
)
from magic_support import ipython_shell, run

URL_MODEL = ("openai/gpt-image-1.5", {"size": "256x256"})
BINARY_MODEL = ("@cf/stabilityai/stable-diffusion-xl-base-1.0", {"width": 256, "height": 256})
Handler = Callable[[socket.socket, str], None]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    return buffer.getvalue()


def response(status: str, headers: dict[str, str], body: bytes) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "content-length": str(len(body))}.items())
    return f"HTTP/1.1 {status}\r\n{head}connection: close\r\n\r\n".encode() + body


@contextmanager
def raw_server(handler: Handler) -> Iterator[str]:
    """A loopback server that reads each request's head and lets ``handler`` answer with raw
    bytes; yields the base URL and stops with the block."""
    stopping = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    port = listener.getsockname()[1]

    def serve_one(connection: socket.socket) -> None:
        with connection:
            try:
                head = b""
                while b"\r\n\r\n" not in head:
                    piece = connection.recv(65536)
                    if not piece:
                        return
                    head += piece
                head, _, body = head.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(h.split(b":")[1])
                        for h in head.lower().split(b"\r\n")
                        if h.startswith(b"content-length:")
                    ),
                    0,
                )
                while len(body) < length:  # read it all: closing with unread bytes resets the connection
                    piece = connection.recv(65536)
                    if not piece:
                        return
                    body += piece
                handler(connection, head.split(b"\r\n", 1)[0].decode())
            except OSError:
                return  # the client gave up

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve_one, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, name="raw-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stopping.set()
        thread.join(5)
        listener.close()


def trickled_head(stop: threading.Event) -> Handler:
    """A handler that sends a status line, then one header byte every 20 ms: every read is quick,
    so only a deadline on the whole attempt ends it. It gives up after 1,500 bytes (30 s), or
    when ``stop`` is set."""

    def handler(connection: socket.socket, line: str) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(1500):
            if stop.wait(0.02):
                return
            connection.sendall(b"x")

    return handler


def options(base: str, **extra: Any) -> dict[str, Any]:
    return dict(account_id="acc", api_token="tok-hostile", base_url=f"{base}/client/v4", **extra)


def generate(settings: dict[str, Any], model: tuple[str, dict[str, Any]], run_async: bool) -> Any:
    name, params = model
    if not run_async:
        with Client(**settings) as client:
            return client.generate("a fox", model=name, **params)

    async def scenario() -> Any:
        async with AsyncClient(**settings) as client:
            return await client.generate("a fox", model=name, **params)

    return asyncio.run(scenario())


MODES = pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])


# -- compression bombs ---------------------------------------------------------------------

BOMB_MIB = 512


@pytest.fixture(scope="module")
def gzip_gzip_bomb() -> bytes:
    """512 MiB of zeros, gzip-compressed twice: under 1 KB on the wire."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    once = b"".join(inner.compress(zeros) for _ in range(BOMB_MIB)) + inner.flush()
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return outer.compress(once) + outer.flush()


@pytest.fixture(scope="module")
def deflate_bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 15)
    zeros = bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(BOMB_MIB)) + packer.flush()


CHILD = textwrap.dedent(
    """
    import asyncio, json, resource, sys
    from jupyter_imagegen import AsyncClient, Client

    base, cases = sys.argv[1], json.loads(sys.argv[2])
    with open("/proc/self/status") as status:
        vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    # The whole client may grow by 256 MiB at most; each bomb inflates to 512 MiB.
    resource.setrlimit(resource.RLIMIT_AS, (vm + 256 * 2**20, vm + 256 * 2**20))
    settings = dict(account_id="acc", api_token="tok", base_url=base + "/client/v4", max_retries=0)

    async def agenerate(model, params):
        async with AsyncClient(**settings) as client:
            return await client.generate("a fox", model=model, **params)

    outcomes = []
    for path, model, params in cases:
        for run_async in (False, True):
            try:
                if run_async:
                    asyncio.run(agenerate(model, params))
                else:
                    with Client(**settings) as client:
                        client.generate("a fox", model=model, **params)
                outcomes.append([path, run_async, "no error", ""])
            except BaseException as exc:
                outcomes.append([path, run_async, type(exc).__name__, str(exc)])
    print(json.dumps(outcomes))
    """
)


def test_compressed_answers_are_refused_before_they_inflate(
    gzip_gzip_bomb: bytes, deflate_bomb: bytes
) -> None:
    """A sub-KB answer that inflates to 512 MiB, on the API answer and on the image download, in
    a client process allowed to grow by 256 MiB only."""
    bodies = {
        "/api-gzip-gzip": ("gzip, gzip", gzip_gzip_bomb),
        "/api-deflate": ("deflate", deflate_bomb),
        "/api-br": ("br", b"\x1b\xff\xff"),
        "/files/gzip-gzip.png": ("gzip, gzip", gzip_gzip_bomb),
        "/files/deflate.png": ("deflate", deflate_bomb),
    }

    def handler(connection: socket.socket, line: str) -> None:
        method, target, _ = line.split(" ")
        if method == "POST" and "/ai/run/" not in target:  # a URL model: its image is a bomb
            chosen = connection.getsockname()
            name = file_for.pop(0)
            answer = {"result": {"image": f"http://127.0.0.1:{chosen[1]}{name}"}, "state": "Completed"}
            connection.sendall(
                response("200 OK", {"content-type": "application/json"}, json.dumps(answer).encode())
            )
            return
        path = api_for.pop(0) if method == "POST" else target
        encoding, body = bodies[path]
        headers = {"content-type": "image/png", "content-encoding": encoding}
        connection.sendall(response("200 OK", headers, body))

    # The child runs each case sync then async: the server hands out bombs in that order.
    api_cases = ["/api-gzip-gzip", "/api-deflate", "/api-br"]
    file_cases = ["/files/gzip-gzip.png", "/files/deflate.png"]
    api_for = [p for p in api_cases for _ in range(2)]
    file_for = [p for p in file_cases for _ in range(2)]
    cases = [[p, *BINARY_MODEL] for p in api_cases] + [[p, *URL_MODEL] for p in file_cases]
    with raw_server(handler) as base:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, base, json.dumps(cases)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    outcomes = json.loads(done.stdout)
    assert len(outcomes) == 10
    for path, run_async, kind, message in outcomes:
        expected = "ImageDownloadError" if path.startswith("/files/") else "APIResponseError"
        assert kind == expected, (path, run_async, kind, message)
        assert "compressed body (Content-Encoding:" in message and "it was not read" in message


# -- headers trickled a byte at a time -----------------------------------------------------


@MODES
def test_headers_trickled_a_byte_at_a_time_meet_the_attempts_deadline(run_async: bool) -> None:
    """Every read is quick, so no read timeout fires while the status line and headers arrive;
    the attempt's own deadline (here 4 x 0.25 s) must end it. The server gives up by itself
    after 1,500 bytes (30 s), so a client without that deadline gets another error."""
    stop = threading.Event()
    with raw_server(trickled_head(stop)) as base:
        try:
            with pytest.raises(APITimeoutError) as info:
                generate(options(base, timeout=0.25), BINARY_MODEL, run_async)
        finally:
            stop.set()
    assert info.value.phase == "total"
    assert "was still arriving after 1 s" in str(info.value) and "Gave up" not in str(info.value)


# -- JSON nested too deeply ----------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


def deep_json(status: str) -> Handler:
    def handler(connection: socket.socket, line: str) -> None:
        connection.sendall(response(status, {"content-type": "application/json"}, DEEP))

    return handler


@MODES
@pytest.mark.parametrize("status", ["200 OK", "500 Internal Server Error"])
def test_json_nested_too_deeply_is_an_api_response_error(run_async: bool, status: str) -> None:
    with raw_server(deep_json(status)) as base, pytest.raises((APIResponseError, ServerError)) as info:
        generate(options(base, max_retries=0), URL_MODEL, run_async)
    if status == "200 OK":
        assert type(info.value) is APIResponseError and "nested too deeply" in str(info.value)
    else:
        assert type(info.value) is ServerError and "[[[" not in str(info.value)  # the status says it all


def test_json_nested_too_deeply_is_one_line_in_the_magic_and_one_failed_item_in_a_batch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with raw_server(deep_json("200 OK")) as base:
        for name, value in options(base).items():
            monkeypatch.setenv(
                {
                    "account_id": "CLOUDFLARE_ACCOUNT_ID",
                    "api_token": "CLOUDFLARE_API_TOKEN",
                    "base_url": "CLOUDFLARE_BASE_URL",
                }[name],
                value,
            )
        monkeypatch.setenv("IMAGEGEN_MAX_RETRIES", "0")
        with ipython_shell() as shell:
            ran = run(shell, "%%imagegen -s 256x256\na deep fox")
        result = batch(["a deep fox", "a deep owl"], tmp_path / "out", progress=False, size="256x256")
    assert isinstance(ran.error, UsageError), ran.error
    assert "nested too deeply" in str(ran.error) and "\n" not in str(ran.error)
    assert len(result.failed) == 2 and not result.done
    assert all("nested too deeply" in (entry.error or "") for entry in result.failed)


# -- success: false in a 2xx answer ----------------------------------------------------------

IMAGE = base64.b64encode(png()).decode()
FAILED_ANSWERS = {
    "v4 failure": {"success": False, "errors": [{"code": 3000, "message": "Upstream broke"}], "result": None},
    "v4 failure with an image": {
        "success": False,
        "errors": [{"code": 3000, "message": "Upstream broke"}],
        "result": {"image": IMAGE},
    },
    "nested failure with an image": {
        "success": True,
        "result": {"success": False, "errors": [{"code": 3000, "message": "Upstream broke"}], "image": IMAGE},
    },
}


@MODES
@pytest.mark.parametrize("case", list(FAILED_ANSWERS))
def test_a_2xx_answer_that_says_success_false_is_an_error(run_async: bool, case: str) -> None:
    body = json.dumps(FAILED_ANSWERS[case]).encode()
    requests: list[str] = []

    def handler(connection: socket.socket, line: str) -> None:
        requests.append(line)
        connection.sendall(response("200 OK", {"content-type": "application/json"}, body))

    flux = ("@cf/black-forest-labs/flux-1-schnell", {"steps": 4})
    with raw_server(handler) as base, pytest.raises(ServerError) as info:
        generate(options(base, max_retries=0), flux, run_async)
    assert "HTTP 200, Cloudflare code 3000): Upstream broke" in str(info.value)
    assert len(requests) == 1
