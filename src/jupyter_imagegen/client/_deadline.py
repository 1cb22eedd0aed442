"""One deadline for a whole attempt (the sum of its phase timeouts), headers included.

httpx's timeouts bound each network wait, so a server that trickles its status line or headers a
byte at a time holds a request open for ever: every single read is quick. The sync client sends
through a transport whose network reads, writes and connects wait at most until the attempt's
deadline (set per thread in a context variable); the async client runs each attempt under
``asyncio.wait_for`` with the time left, which covers the same phases.
"""

from __future__ import annotations

import math
import ssl
import time
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

__all__ = ["attempt_budget", "deadline_transport", "until"]

_DEADLINE: ContextVar[float | None] = ContextVar("imagegen_deadline", default=None)


def attempt_budget(timeout: httpx.Timeout) -> float:
    """Seconds one attempt may take in all: the sum of its phase timeouts. The read timeout
    alone bounds only each wait, so a server that trickles bytes could otherwise hold a
    request open for ever."""
    phases = (timeout.connect, timeout.read, timeout.write, timeout.pool)
    return sum(seconds for seconds in phases if seconds is not None) or math.inf


@contextmanager
def until(deadline: float) -> Iterator[None]:
    """Network waits of the sync transport in this block end by ``deadline`` (monotonic)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the attempt's deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        clamped = _clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, clamped))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        clamped = _clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_tcp(host, port, clamped, local_address, socket_options))

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        clamped = _clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, clamped, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport, with httpx's default limits, on the deadline-aware backend."""

    def __init__(self) -> None:
        # Not HTTPTransport.__init__: httpx offers no argument for the network backend, and its
        # pool (with an SSL context that loads the CA bundle) would be built only to be replaced.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(),
        )


def deadline_transport() -> httpx.HTTPTransport:
    return _DeadlineTransport()
