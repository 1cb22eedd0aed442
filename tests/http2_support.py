"""A real HTTP/2 server on 127.0.0.1 for the HTTP/2 tests: Hypercorn serving a small ASGI app over
TLS with a test CA's certificate, offering ``h2`` and ``http/1.1`` by ALPN.

The bundled emulator speaks HTTP/1.1 only, so a client asking it for HTTP/2 settles on HTTP/1.1
and proves nothing. This app answers Cloudflare's contract (docs/cloudflare.md) for two models,
in the shapes the emulator gives: ``@cf/black-forest-labs/flux-1-schnell`` (a base64 JPEG in the
v4 envelope) and ``openai/gpt-image-1.5`` (an image URL on this same server, in the v4 envelope
around the gateway's answer), and serves that image. It records each request's HTTP version as
the server saw it (the ASGI scope's ``http_version``), its path and the client's port, which
tells connections apart (every stream of one HTTP/2 connection shares it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import socket
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config
from PIL import Image

__all__ = ["FLUX", "GPT_IMAGE", "IMAGE_PATH", "JPEG", "PNG", "Http2Server", "SeenRequest"]

FLUX = "@cf/black-forest-labs/flux-1-schnell"
GPT_IMAGE = "openai/gpt-image-1.5"
IMAGE_PATH = "/files/answer.png"
_HOLD_AT_MOST = 10.0  # seconds a held answer waits for the others before it goes alone

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 90, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


JPEG, PNG = _image("JPEG"), _image("PNG")


def _v4(result: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [], "result": result}


def _v4_error(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    http_version: str  # "2" or "1.1", as the server negotiated it
    client_port: int  # one per TCP connection


class Http2Server:
    """Hypercorn on a free port of 127.0.0.1, on its own thread, stopped by its ``with`` block.

    ``answer_together``: API answers are held until that many requests are in flight at once
    (at most ten seconds), so a test sees whether concurrent requests really overlap.
    """

    account_id = "h2-account"
    api_token = "h2-token"

    def __init__(self, authority: trustme.CA, *, answer_together: int = 1) -> None:
        self._authority = authority
        self._answer_together = answer_together
        self._lock = threading.Lock()
        self._seen: list[SeenRequest] = []
        self._in_flight = 0
        self.most_in_flight = 0
        self._all_in: asyncio.Event | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="h2-server-")
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/client/v4"

    @property
    def requests(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._seen)

    def run_path(self, model: str | None = None) -> str:
        """The API path a model's request goes to (``None``: the gateway's ``/ai/run``)."""
        tail = f"/{model}" if model else ""
        return f"/client/v4/accounts/{self.account_id}/ai/run{tail}"

    # Lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> Http2Server:
        pem = Path(self._folder.name) / "server.pem"
        self._authority.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
            str(pem)
        )
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        # Listening before Hypercorn starts: a client connecting early waits in the backlog.
        listener.listen(64)
        self.port = listener.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{listener.detach()}"]  # Hypercorn owns (and closes) the socket
        config.certfile = config.keyfile = str(pem)
        config.alpn_protocols = ["h2", "http/1.1"]
        config.loglevel = "WARNING"
        self._thread = threading.Thread(target=self._serve, args=(config,), name="h2-server", daemon=True)
        self._thread.start()
        self._started.wait(30)
        if self._failure is not None or not self._started.is_set():
            raise RuntimeError(f"the HTTP/2 server did not start: {self._failure!r}")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        assert self._thread is not None
        self._thread.join(30)
        self._folder.cleanup()
        if self._thread.is_alive():
            raise RuntimeError("the HTTP/2 server did not stop: a client left its connection open")

    def _serve(self, config: Config) -> None:
        loop = asyncio.new_event_loop()
        self._loop, self._stop, self._all_in = loop, asyncio.Event(), asyncio.Event()
        try:
            loop.run_until_complete(serve(self, config, shutdown_trigger=self._stop.wait, mode="asgi"))
        except BaseException as exc:
            self._failure = exc
            self._started.set()
        finally:
            loop.close()

    # The ASGI app --------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            seen = SeenRequest(scope["method"], scope["path"], scope["http_version"], scope["client"][1])
            with self._lock:
                self._seen.append(seen)
            status, content_type, payload = await self._answer(scope, body)
            headers = [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(payload)).encode()),
            ]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                self._started.set()
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _answer(self, scope: Scope, body: bytes) -> tuple[int, str, bytes]:
        path = scope["path"]
        if scope["method"] == "GET" and path == IMAGE_PATH:
            return 200, "image/png", PNG
        if scope["method"] != "POST" or path not in (self.run_path(FLUX), self.run_path()):
            return self._json(404, _v4_error(7003, f"No route for {path}"))
        headers = dict(scope["headers"])
        if headers.get(b"authorization") != f"Bearer {self.api_token}".encode():
            return self._json(401, _v4_error(10000, "Authentication error"))
        await self._hold()
        if path == self.run_path(FLUX):
            return self._json(200, _v4({"image": base64.b64encode(JPEG).decode()}))
        if json.loads(body).get("model") != GPT_IMAGE:
            return self._json(400, _v4_error(5007, "No such model"))
        run = {
            "state": "Completed",
            "result": {"image": f"{self.origin}{IMAGE_PATH}"},
            "gatewayMetadata": {"keySource": "Unified"},
        }
        return self._json(200, _v4(run))

    async def _hold(self) -> None:
        """Wait until ``answer_together`` API requests are in flight (or the bound passes)."""
        assert self._all_in is not None
        self._in_flight += 1  # one event loop: no lock needed between its tasks
        self.most_in_flight = max(self.most_in_flight, self._in_flight)
        if self._in_flight >= self._answer_together:
            self._all_in.set()
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._all_in.wait(), _HOLD_AT_MOST)
        finally:
            self._in_flight -= 1

    @staticmethod
    def _json(status: int, payload: dict[str, Any]) -> tuple[int, str, bytes]:
        return status, "application/json", json.dumps(payload).encode()
