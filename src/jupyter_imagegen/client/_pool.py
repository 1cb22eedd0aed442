"""The async client's connection pool: as large as the caller's concurrency, and cheap to scan.

httpx keeps 20 connections alive; a batch of 32 requests at once then closes and reopens
connections all the time. And httpcore asks every idle connection "has the server closed you?"
each time a request starts or ends; the anyio stream answers by building its whole table of
socket attributes (a ``getpeername`` call among them), which made that check a third of the
event loop's time in a batch of 32. Here the stream keeps its socket and asks it directly: the
same check (a zero-timeout poll), without the table.
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import threading
import typing
from collections.abc import Iterable

import httpcore
import httpx

__all__ = ["DEFAULT_CONNECTIONS", "async_transport", "pool_limits"]

DEFAULT_CONNECTIONS = 20  # httpx's own default of connections kept alive


def pool_limits(connections: int) -> httpx.Limits:
    """A pool that keeps ``connections`` alive between requests and never refuses one over it
    (an image download may briefly need another connection while the answer's is closing)."""
    return httpx.Limits(
        max_connections=max(100, 2 * connections), max_keepalive_connections=connections, keepalive_expiry=5.0
    )


class _Readable:
    """Whether a read on a socket would not block (data, or the peer closed): httpcore's own
    test, with the poll object made once per connection instead of once per question."""

    def __init__(self, sock: socket.socket) -> None:
        self._socket = sock
        self._poller: typing.Any = None
        if hasattr(select, "poll"):
            self._poller = select.poll()
            self._poller.register(sock.fileno(), select.POLLIN)

    def __call__(self) -> bool:
        fd = self._socket.fileno()
        if fd == -1:  # closed: asked before the number could be reused by another socket
            return True
        if self._poller is None:  # Windows
            return bool(select.select([fd], [], [], 0)[0])
        return bool(self._poller.poll(0))


class _ReadableStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        sock: socket.socket | None = stream.get_extra_info("socket")
        self._readable = _Readable(sock) if sock is not None else None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _ReadableStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable" and self._readable is not None:
            return self._readable()
        return self._stream.get_extra_info(info)


class _AsyncPoolBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _ReadableStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _ReadableStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def _ssl_context() -> ssl.SSLContext:
    """httpx's default context, made once per set of CA settings: loading the CA bundle costs
    tens of milliseconds, once per client otherwise (a batch makes one per run)."""
    where = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    with _contexts_lock:
        context = _contexts.get(where)
        if context is None:
            context = _contexts[where] = httpx.create_ssl_context()
    return context


_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


class _PoolTransport(httpx.AsyncHTTPTransport):
    """httpx's own async transport with a pool of ``connections`` on the backend above."""

    def __init__(self, connections: int) -> None:
        # Not AsyncHTTPTransport.__init__: httpx offers no argument for the network backend, and
        # its pool (with an SSL context that loads the CA bundle) would be built only to be replaced.
        limits = pool_limits(connections)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_AsyncPoolBackend(),
        )


def async_transport(connections: int = DEFAULT_CONNECTIONS) -> httpx.AsyncHTTPTransport:
    return _PoolTransport(connections)
