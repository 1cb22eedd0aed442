"""Real network middlemen on 127.0.0.1 for the proxy and TLS tests.

:class:`ForwardingProxy` is a small HTTP proxy: it forwards plain-http requests (absolute URLs)
and tunnels ``CONNECT``, logs every request line and header it receives, and can ask for
credentials (407). :class:`TlsFront` serves https with a test CA's certificate and passes the
decrypted bytes to a plain-http server behind it (the emulator). Both run on threads of the test
process, listen on a free port and stop with their ``with`` block.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

__all__ = ["ForwardingProxy", "LoggedRequest", "TlsFront"]


@dataclass
class LoggedRequest:
    line: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def method(self) -> str:
        return self.line.split(" ", 1)[0]


def _read_head(stream: socket.socket) -> tuple[bytes, bytes]:
    """The head (up to the blank line) and whatever body bytes came with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = stream.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the head ended")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _pipe(one: socket.socket, other: socket.socket) -> None:
    """Copy both ways until either side closes."""

    def copy(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    back = threading.Thread(target=copy, args=(other, one), daemon=True)
    back.start()
    copy(one, other)
    back.join()


class _Server:
    """Accepts on a thread; each connection is served on a thread of its own."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> _Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while True:
            connection, _ = self._listener.accept()
            if self._stopping.is_set():
                connection.close()
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError, ConnectionError, ssl.SSLError):
            self.handle(connection)

    def handle(self, connection: socket.socket) -> None:
        raise NotImplementedError


class ForwardingProxy(_Server):
    """An HTTP proxy that logs what it is asked; ``credentials`` ("user:password") makes it
    answer 407 to requests without them."""

    def __init__(self, credentials: str | None = None) -> None:
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._expected = (
            None if credentials is None else "Basic " + base64.b64encode(credentials.encode()).decode()
        )

    def __enter__(self) -> ForwardingProxy:
        super().__enter__()
        return self

    def requests(self, method: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [entry for entry in self.log if method is None or entry.method == method]

    def handle(self, connection: socket.socket) -> None:
        head, rest = _read_head(connection)
        line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = [
            (name.strip(), value.strip()) for name, _, value in (h.partition(":") for h in header_lines)
        ]
        with self._lock:
            self.log.append(LoggedRequest(line, headers))
        method, target, _ = line.split(" ", 2)
        given = next((v for n, v in headers if n.lower() == "proxy-authorization"), None)
        if self._expected is not None and given != self._expected:
            connection.sendall(
                b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n'
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            with socket.create_connection((host.strip("[]"), int(port)), timeout=10) as upstream:
                connection.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                _pipe(connection, upstream)
            return
        length = int(next((v for n, v in headers if n.lower() == "content-length"), "0"))
        while len(rest) < length:  # the whole body first: the answer comes after it
            chunk = connection.recv(65536)
            if not chunk:
                return
            rest += chunk
        parts = urlsplit(target)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        kept = [
            (n, v)
            for n, v in headers
            if n.lower() not in ("proxy-connection", "proxy-authorization", "connection")
        ]
        forwarded = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in kept)
        with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as upstream:
            upstream.sendall(forwarded.encode("latin-1") + b"Connection: close\r\n\r\n" + rest)
            # One request per connection, said to both sides: the answer ends when upstream closes.
            answer_head, body = _read_head(upstream)
            status, *answer_headers = answer_head.decode("latin-1").split("\r\n")
            answer_headers = [h for h in answer_headers if not h.lower().startswith("connection:")]
            connection.sendall(
                "\r\n".join([status, *answer_headers, "Connection: close", "", ""]).encode("latin-1") + body
            )
            while chunk := upstream.recv(65536):
                connection.sendall(chunk)


class TlsFront(_Server):
    """https on 127.0.0.1 with ``context``'s certificate, in front of a plain-http port."""

    def __init__(self, context: ssl.SSLContext, backend_port: int) -> None:
        super().__init__()
        self._context, self._backend = context, backend_port
        self.handshakes_failed = 0

    def __enter__(self) -> TlsFront:
        super().__enter__()
        return self

    def handle(self, connection: socket.socket) -> None:
        try:
            secure = self._context.wrap_socket(connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1
            raise
        with secure, socket.create_connection(("127.0.0.1", self._backend), timeout=10) as upstream:
            _relay_tls(secure, upstream)


def _relay_tls(secure: ssl.SSLSocket, upstream: socket.socket) -> None:
    """Copy both ways; a TLS socket cannot be half-closed, so each way stops on its own EOF."""

    def back() -> None:
        with contextlib.suppress(OSError):
            while chunk := upstream.recv(65536):
                secure.sendall(chunk)
        with contextlib.suppress(OSError):
            secure.shutdown(socket.SHUT_RDWR)

    thread = threading.Thread(target=back, daemon=True)
    thread.start()
    with contextlib.suppress(OSError):
        while chunk := secure.recv(65536):
            upstream.sendall(chunk)
    with contextlib.suppress(OSError):
        upstream.shutdown(socket.SHUT_WR)
    thread.join(10)
