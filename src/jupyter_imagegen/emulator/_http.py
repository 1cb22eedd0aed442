"""The HTTP side: a threading server on loopback and the handler that routes each request.

Routes: the API under ``/client/v4/``, image files under ``/files/`` (GET only), and control
endpoints under ``/__emulator__/`` for tests that run the emulator in another process:
``POST faults`` (``{"kind": ..., "times": n, ...options}``), ``POST latency``
(``{"seconds": s}``), ``POST reset`` and ``GET stats``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from ._api import Reply
from ._faults import FAULT_HEADER, Fault, FaultSpec, parse_fault_header
from ._state import RecordedRequest

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = ["EmulatorHTTPServer"]

# Larger request bodies get 413 / 3006 without being read (ours: Cloudflare's limit is undocumented).
MAX_REQUEST_BYTES = 50 * 1024 * 1024
_CORS = {"access-control-allow-origin": "*"}


class _BodyTooLarge(Exception):
    pass


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its emulator and can drop every open connection."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host up with getfqdn, which can stall on a machine
        # without working reverse DNS; the name is not needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def drop_connections(self) -> None:
        """Shut every open connection, waking handler threads blocked on a keep-alive read."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if self.stopping.is_set() or isinstance(error, (ConnectionError, TimeoutError)):
            return  # a client that went away, or a connection dropped by stop()
        super().handle_error(request, client_address)


def _chunks(body: bytes | Iterable[bytes]) -> Iterable[bytes]:
    return [body] if isinstance(body, bytes) else body


def _json_or_none(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloudflare"
    sys_version = ""

    @property
    def _http(self) -> EmulatorHTTPServer:
        return cast(EmulatorHTTPServer, self.server)

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

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        started = time.monotonic()
        path, query = urlsplit(self.path).path, urlsplit(self.path).query
        headers = {name.lower(): value for name, value in self.headers.items()}
        if path.startswith("/__emulator__/"):
            self._control(path)
        elif path.startswith("/files/"):
            self._file(path, headers, started)
        elif path.startswith("/client/v4/"):
            self._api(path, headers, started, query)
        else:
            self._read_body()
            self._send(Reply.error(404, 7000, "No route for that URI"))

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass  # trailers
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
                if sum(map(len, parts)) > MAX_REQUEST_BYTES:
                    self.close_connection = True
                    raise _BodyTooLarge
            return b"".join(parts)
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True  # the unread body would be taken for the next request
            raise _BodyTooLarge
        return self.rfile.read(length) if length > 0 else b""

    def _pause(self, seconds: float) -> bool:
        """Wait; False when the server began stopping meanwhile."""
        return seconds <= 0 or not self._http.stopping.wait(seconds)

    def _api(self, path: str, headers: dict[str, str], started: float, query: str = "") -> None:
        emulator = self._http.emulator
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
        )
        emulator._requests.add(record)
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
            reply = emulator._service.answer(self.command, path, headers, raw, fault, query)
        status = self._send(reply, lambda sent: emulator._requests.finish(record, sent))
        emulator._log_line(
            f"{self.command} {path} -> {status or 'dropped'}" + (f" [{record.fault}]" if fault else "")
        )

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

    def _control(self, path: str) -> None:
        emulator = self._http.emulator
        if self.command == "OPTIONS":
            allow = {
                **_CORS,
                "access-control-allow-methods": "GET, POST",
                "access-control-allow-headers": "content-type",
            }
            self._send(Reply(204, allow))
            return
        try:
            payload = _json_or_none(self._read_body())
        except _BodyTooLarge:
            payload = None
        action = (self.command, path.removeprefix("/__emulator__/").rstrip("/"))
        options = dict(payload) if isinstance(payload, dict) else {}
        try:
            if action == ("GET", "stats"):
                reply = Reply.json(200, emulator.stats(), _CORS)
            elif action == ("POST", "faults"):
                kind, times = options.pop("kind", None), options.pop("times", 1)
                emulator.inject(str(kind), times=times, **options)
                reply = Reply.json(
                    200, {"ok": True, "faults_pending": emulator.stats()["faults_pending"]}, _CORS
                )
            elif action == ("POST", "latency"):
                emulator.latency = options.get("seconds")  # type: ignore[assignment]  # checked by the setter
                reply = Reply.json(200, {"ok": True, "latency": emulator.latency}, _CORS)
            elif action == ("POST", "reset"):
                emulator.reset()
                reply = Reply.json(200, {"ok": True}, _CORS)
            else:
                reply = Reply.json(
                    404, {"ok": False, "error": f"no control endpoint {self.command} {path}"}, _CORS
                )
        except (TypeError, ValueError) as exc:
            reply = Reply.json(400, {"ok": False, "error": str(exc)}, _CORS)
        self._send(reply)

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
