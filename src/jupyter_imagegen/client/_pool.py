"""The async client's connection pool: as large as the caller's concurrency, and cheap to scan.

httpx keeps 20 connections alive; a batch of 32 requests at once then closes and reopens
connections all the time. And httpcore asks every idle connection "has the server closed you?"
each time a request starts or ends; the anyio stream answers by building its whole table of
socket attributes (a ``getpeername`` call among them), which made that check a third of the
event loop's time in a batch of 32. Here the pool keeps its sockets and asks them directly: the
same check (a zero-timeout poll), without the table, and one poll for every connection a scan
asks about rather than one each. The scan itself is linear here: httpcore's counts the pool once
per idle connection (quadratic in the pool's size) on every request's start and end.
"""

from __future__ import annotations

import asyncio
import contextlib
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


class _Readiness:
    """Whether a read on a pool's sockets would not block (data, or the peer closed): httpcore's
    own test, made once for all of them per scan.

    httpcore asks every idle connection in turn, each time a request starts or ends; one
    zero-timeout poll over the pool's sockets answers all the questions of one scan (the answers
    are forgotten once the event loop moves on), instead of one poll per connection.
    """

    def __init__(self) -> None:
        self._poller: typing.Any = select.poll() if hasattr(select, "poll") else None
        self._ready: set[int] | None = None

    def add(self, sock: socket.socket) -> None:
        if self._poller is not None:
            self._poller.register(sock.fileno(), select.POLLIN)

    def remove(self, sock: socket.socket) -> None:
        fd = sock.fileno()
        if self._poller is not None and fd != -1:
            with contextlib.suppress(KeyError):
                self._poller.unregister(fd)

    def readable(self, sock: socket.socket) -> bool:
        fd = sock.fileno()
        if fd == -1:  # closed: asked before the number could be reused by another socket
            return True
        if self._poller is None:  # Windows
            return bool(select.select([fd], [], [], 0)[0])
        ready = self._ready
        if ready is None:
            ready = {number for number, _ in self._poller.poll(0)}
            try:
                asyncio.get_running_loop().call_soon(self._forget)
            except RuntimeError:  # no loop to say when the scan ends: answer this question only
                return fd in ready
            self._ready = ready
        return fd in ready

    def _forget(self) -> None:
        self._ready = None


class _ReadableStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream, readiness: _Readiness) -> None:
        self._stream, self._readiness = stream, readiness
        self._socket: socket.socket | None = stream.get_extra_info("socket")
        if self._socket is not None:
            readiness.add(self._socket)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        if self._socket is not None:
            self._readiness.remove(self._socket)  # before the number can be reused
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        if self._socket is not None:
            self._readiness.remove(self._socket)
        stream = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _ReadableStream(stream, self._readiness)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable" and self._socket is not None:
            return self._readiness.readable(self._socket)
        return self._stream.get_extra_info(info)


class _AsyncPoolBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()
        self._readiness = _Readiness()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _ReadableStream(stream, self._readiness)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(path, timeout, socket_options)
        return _ReadableStream(stream, self._readiness)

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


class _LinearScanPool(httpcore.AsyncConnectionPool):
    """httpcore's pool with its request-to-connection scan made linear, same decisions.

    httpcore 1.0 decides whether to close an idle connection by building a list of every
    connection's ``is_idle()`` and taking its length, once per connection: with 32 connections
    that is over a thousand calls per scan, and a scan runs each time a request starts or ends
    (a fifth of a batch's event loop). The length is simply the number of connections, so here it
    is counted once; the first available connection is found without listing the others.
    """

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        connections = self._connections
        closing: list[httpcore.AsyncConnectionInterface] = []
        for connection in list(connections):
            if connection.is_closed():
                connections.remove(connection)
            elif connection.has_expired() or (
                # an idle connection over the keep-alive limit is closed
                connection.is_idle() and len(connections) > self._max_keepalive_connections
            ):
                connections.remove(connection)
                closing.append(connection)
        for pool_request in [request for request in self._requests if request.is_queued()]:
            origin = pool_request.request.url.origin
            available = next(
                (c for c in connections if c.can_handle_request(origin) and c.is_available()), None
            )
            if available is None:
                if len(connections) >= self._max_connections:
                    idle = next((c for c in connections if c.is_idle()), None)
                    if idle is None:
                        continue  # stays queued until a connection frees up
                    connections.remove(idle)
                    closing.append(idle)
                available = self.create_connection(origin)
                connections.append(available)
            pool_request.assign_to_connection(available)
        return closing


# The scan above mirrors httpcore 1.0's; another version keeps its own.
_POOL = _LinearScanPool if httpcore.__version__.split(".")[:2] == ["1", "0"] else httpcore.AsyncConnectionPool


class _PoolTransport(httpx.AsyncHTTPTransport):
    """httpx's own async transport with a pool of ``connections`` on the backend above."""

    def __init__(self, connections: int) -> None:
        # Not AsyncHTTPTransport.__init__: httpx offers no argument for the network backend, and
        # its pool (with an SSL context that loads the CA bundle) would be built only to be replaced.
        limits = pool_limits(connections)
        self._pool = _POOL(
            ssl_context=_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_AsyncPoolBackend(),
        )


def async_transport(connections: int = DEFAULT_CONNECTIONS) -> httpx.AsyncHTTPTransport:
    return _PoolTransport(connections)
