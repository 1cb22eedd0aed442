"""Blocking transports and a user's own httpx clients, as the async transport the clients send
through (public httpx API only: ``send``, ``handle_request`` and byte streams).

The package's own auth, deadline and size caps apply on top: a request reaches the user's
client already built, and is sent with no auth and no redirects of that client's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import httpx

__all__ = ["BlockingTransport", "ClientTransport"]


class _ThreadedStream(httpx.AsyncByteStream):
    """A blocking response body read a chunk at a time on a worker thread."""

    def __init__(self, stream: httpx.SyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks: Iterator[bytes] = iter(self._stream)
        while True:
            chunk = await asyncio.to_thread(next, chunks, None)
            if chunk is None:
                return
            yield chunk

    async def aclose(self) -> None:
        await asyncio.to_thread(self._stream.close)


def _blocking(stream: httpx.SyncByteStream | httpx.AsyncByteStream) -> httpx.SyncByteStream:
    if not isinstance(stream, httpx.SyncByteStream):
        raise TypeError("a blocking transport answered with an async body")
    return stream


class BlockingTransport(httpx.AsyncBaseTransport):
    """A blocking ``send`` (an httpx transport's, or an ``httpx.Client``'s) on worker threads.

    An attempt abandoned at its deadline stops waiting at once; the thread ends with the blocking
    call's own timeouts.
    """

    def __init__(self, send: Callable[[httpx.Request], httpx.Response], close: Callable[[], None]) -> None:
        self._send, self._close = send, close

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # the body as bytes, which a blocking transport can iterate
        response = await asyncio.to_thread(self._send, request)
        return httpx.Response(
            response.status_code,
            headers=response.headers.raw,
            stream=_ThreadedStream(_blocking(response.stream)),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await asyncio.to_thread(self._close)

    @classmethod
    def of_transport(cls, transport: httpx.BaseTransport) -> BlockingTransport:
        return cls(transport.handle_request, transport.close)

    @classmethod
    def of_client(cls, client: httpx.Client) -> BlockingTransport:
        def send(request: httpx.Request) -> httpx.Response:
            return client.send(request, stream=True, auth=None, follow_redirects=False)

        return cls(send, lambda: None)  # the user's client stays open: it is theirs


class ClientTransport(httpx.AsyncBaseTransport):
    """A user's ``httpx.AsyncClient`` (its proxies, certificates, transports and event hooks)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._client.send(request, stream=True, auth=None, follow_redirects=False)

    async def aclose(self) -> None:
        pass  # the user's client stays open: it is theirs
