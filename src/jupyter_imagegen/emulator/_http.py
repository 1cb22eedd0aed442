"""The HTTP side: a threading server on loopback and the handler that routes each request.

Routes: the API under ``/client/v4/``, image files under ``/files/`` (GET only), and control
endpoints under ``/__emulator__/`` (:mod:`._control`).

Shared on a network (``--host 0.0.0.0``, a classroom), it stays bounded (:mod:`._connections`)
and image URLs name the address the client reached (its ``Host`` header, checked), so they work
from other machines.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from ._api import files_served_from
from ._connections import BoundedHTTPServer
from ._control import control_reply
from ._faults import FAULT_HEADER, Fault, FaultSpec, parse_fault_header
from ._form import is_multipart, parse_form
from ._reply import Reply
from ._state import RecordedRequest

if TYPE_CHECKING:
    from ._parts import EmulatorParts

__all__ = ["EmulatorHTTPServer"]

# Larger request bodies get 413 / 3006 without being read (ours: Cloudflare's limit is undocumented).
MAX_REQUEST_BYTES = 50 * 1024 * 1024
# A Host header we may put in image URLs: a name or an IPv4/IPv6 literal, and maybe a port.
_HOST_HEADER = re.compile(r"(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::[0-9]{1,5})?")


class _BodyTooLarge(Exception):
    pass


class _BadRequest(Exception):
    pass


class EmulatorHTTPServer(BoundedHTTPServer):
    """The bounded server (see :mod:`._connections`) that knows its emulator."""

    def __init__(self, address: tuple[str, int], emulator: EmulatorParts, **limits: Any) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler, **limits)


def _chunks(body: bytes | Iterable[bytes]) -> Iterable[bytes]:
    return [body] if isinstance(body, bytes) else body


def _form_or_none(headers: dict[str, str], raw: bytes | None) -> dict[str, Any] | None:
    if not raw or not is_multipart(headers):
        return None
    try:
        return {part.name: part.value for part in parse_form(headers["content-type"], raw)}
    except ValueError:
        return None


def _json_or_none(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloudflare"
    sys_version = ""

    @property
    def _http(self) -> EmulatorHTTPServer:
        return cast(EmulatorHTTPServer, self.server)

    # Every socket operation gives up after this long (a client that stops reading our answer).
    timeout = 60.0

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every answer on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._http.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._http.track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the emulator logs one line per request itself, when asked to

    def _dispatch(self) -> None:
        started = time.monotonic()
        path, query = urlsplit(self.path).path, urlsplit(self.path).query
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            if path.startswith("/__emulator__/"):
                self._control(path, headers)
            elif path.startswith("/files/"):
                self._file(path, headers, started)
            elif path.startswith("/client/v4/"):
                self._api(path, headers, started, query)
            else:
                self._read_body()
                self._send(Reply.error(404, 7000, "No route for that URI"))
        except (_BadRequest, _BodyTooLarge) as exc:
            self.close_connection = True  # the rest of the body cannot be told from the next request
            status, text = (
                (400, f"Bad Request: {exc}") if isinstance(exc, _BadRequest) else (413, "Too Large")
            )
            self._send(Reply(status, {"content-type": "text/plain"}, f"{status} {text}\n".encode()))
        self._http.expect(self.connection, reading=True)  # the clock runs for the next request

    # Every method goes through one router; each route answers 405 to a method it does not serve.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _read_body(self) -> bytes:
        body = (
            self._read_chunked() if "chunked" in self.headers.get("transfer-encoding", "").lower() else None
        )
        if body is None:
            text = (self.headers.get("content-length") or "0").strip()
            if not text.isdigit() or not text.isascii():
                raise _BadRequest(f"Content-Length must be a whole number of bytes, got {text[:40]!r}")
            length = int(text)
            if length > MAX_REQUEST_BYTES:
                self.close_connection = True  # the unread body would be taken for the next request
                raise _BodyTooLarge
            body = self.rfile.read(length) if length > 0 else b""
            if len(body) < length:
                raise _BadRequest("the body ended before its Content-Length")
        self._http.expect(self.connection, reading=False)  # the request is in: no clock while we answer
        return body

    def _read_chunked(self) -> bytes:
        """A chunked body, refused as soon as its chunk sizes add up past the limit (before reading)."""
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise _BadRequest(f"bad chunk size {line[:40]!r}") from None
            if size < 0:
                raise _BadRequest("bad chunk size")
            if size == 0:
                for _ in range(64):
                    if not self.rfile.readline(8192).strip():
                        break  # the blank line after the trailers
                return b"".join(parts)
            total += size
            if total > MAX_REQUEST_BYTES:
                self.close_connection = True
                raise _BodyTooLarge
            part = self.rfile.read(size)
            if len(part) < size:
                raise _BadRequest("the body ended inside a chunk")
            parts.append(part)
            self.rfile.readline(1024)

    def _pause(self, seconds: float) -> bool:
        """Wait; False when the server began stopping meanwhile."""
        return seconds <= 0 or not self._http.stopping.wait(seconds)

    def _api(self, path: str, headers: dict[str, str], started: float, query: str = "") -> None:
        emulator = self._http.emulator
        if headers.get("authorization", "") != f"Bearer {emulator.token}":
            # Checked before anything is applied or kept: without the token a request can neither
            # ask for, nor use up, a fault, and leaves nothing in the request log.
            self._refuse_unauthenticated(path)
            return
        try:
            raw: bytes | None = self._read_body()
        except _BodyTooLarge:
            raw = None
        fault: FaultSpec | None = None
        header_problem = None
        if FAULT_HEADER in headers:
            try:
                fault = parse_fault_header(headers[FAULT_HEADER])
            except ValueError as exc:
                header_problem = str(exc)
        elif "/ai/models/" not in path:  # injected faults are for model calls, not catalog reads
            fault = emulator._faults.take()
        record = RecordedRequest(
            self.command,
            path,
            headers,
            _json_or_none(raw),
            started,
            fault=fault.describe() if fault else None,
            form=_form_or_none(headers, raw),
        )
        emulator._requests.add(record, len(raw or b""))
        delay = fault["seconds"] if fault and fault.kind in (Fault.LATENCY, Fault.HANG) else 0.0
        if not (self._pause(emulator.latency) and self._pause(delay)):
            reply = Reply(0, reset=True)
        elif header_problem is not None:
            reply = Reply.error(400, 3003, f"Bad {FAULT_HEADER} header: {header_problem}")
        elif raw is None:
            reply = Reply.error(
                413, 3006, f"Request too large (the emulator's limit is {MAX_REQUEST_BYTES} bytes)"
            )
        else:
            with files_served_from(self._reached(headers)):
                reply = emulator._service.answer(self.command, path, headers, raw, fault, query)
        status = self._send(reply, lambda sent: emulator._requests.finish(record, sent))
        emulator._log_line(
            f"{self.command} {path} -> {status or 'dropped'}" + (f" [{record.fault}]" if fault else "")
        )

    def _refuse_unauthenticated(self, path: str) -> None:
        # Read and dropped: unread bytes would reset the connection, losing the 401. One over the
        # size limit is not read on: the connection closes instead.
        with contextlib.suppress(_BodyTooLarge):
            self._read_body()
        self._send(Reply.error(401, 10000, "Authentication error"))
        self._http.emulator._log_line(f"{self.command} {path} -> 401 (no token)")

    def _reached(self, headers: dict[str, str]) -> str | None:
        """``http://host:port`` as the client reached this server, when it listens on every
        address; None when it listens on one (its own address is then the right one)."""
        if not self._http.wildcard:
            return None
        host = headers.get("host", "").strip()
        if not _HOST_HEADER.fullmatch(host):
            address = self.connection.getsockname()[0]  # the address the client connected to
            host = f"[{address}]" if ":" in address else address
            host = f"{host}:{self._http.server_port}"
        return f"http://{host}"

    def _file(self, path: str, headers: dict[str, str], started: float) -> None:
        emulator = self._http.emulator
        self._read_body()
        fault = None
        if self.command == "GET":
            reply, fault = emulator._service.serve_file(path.removeprefix("/files/"))
        else:
            reply = Reply(405, {"allow": "GET", "content-type": "text/plain"}, b"405 Method Not Allowed\n")
        record = RecordedRequest(
            self.command, path, headers, None, started, fault=fault.describe() if fault else None
        )
        emulator._file_requests.add(record)
        status = self._send(reply, lambda sent: emulator._file_requests.finish(record, sent))
        emulator._log_line(f"{self.command} {path} -> {status or 'dropped'}")

    def _control(self, path: str, headers: dict[str, str]) -> None:
        payload = _json_or_none(self._read_body())
        self._send(control_reply(self._http.emulator, self.command, path, headers, payload))

    def _send(self, reply: Reply, ready: Callable[[int | None], None] | None = None) -> int | None:
        """Write ``reply``; the status sent, or None when the connection was dropped instead.

        ``ready`` is told the status just before anything is sent, so a request's record is
        complete before its client can see the answer.
        """
        status = None if reply.reset else reply.status
        if ready is not None:
            ready(status)
        self.close_connection = self.close_connection or reply.reset or reply.cut_after is not None
        if reply.reset:
            # Linger 0: closing sends a TCP reset rather than an orderly end of stream.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return None
        try:
            self.send_response(reply.status)
            # Says what it is on every answer: its test patterns are never counted as spend.
            self.send_header("x-imagegen-emulator", "test patterns")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(reply.size))
            self.end_headers()
            if self.command == "HEAD":
                return reply.status
            left = reply.cut_after
            for chunk in _chunks(reply.body):
                piece = chunk if left is None else chunk[:left]
                self.wfile.write(piece)
                if left is not None:
                    left -= len(piece)
                    if left <= 0:
                        break
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away mid-answer
        return reply.status
