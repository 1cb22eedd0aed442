"""The blocking :class:`Client`: the :class:`AsyncClient`'s code run on a loop thread of its own
(see :mod:`._loop`), so there is one implementation of every request, one retry loop and one
per-attempt deadline.

What needs no I/O (checking settings, building the request, the catalog lookup) runs in the
caller's thread, as before; only sending and reading go to the loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import httpx

# Re-exported: AsyncClient was defined in this module, and imports of it from here still work.
from ._adapters import BlockingTransport
from ._async_client import AsyncClient
from ._base_client import BaseClient, RequestLike, hide_token
from ._loop import run_blocking
from ._request import ImageRequest
from ._result import GeneratedImage
from ._results import GenerationResults

__all__ = ["AsyncClient", "Client"]

_Self = TypeVar("_Self")


class Client(BaseClient):
    """A blocking client. ``transport=`` takes any httpx transport (tests, proxies);
    ``http_client=`` an ``httpx.Client`` of your own, which the package leaves open."""

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        http_client: httpx.Client | None = None,
        **settings: Any,
    ) -> None:
        hide_token(settings)
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise TypeError(
                f"http_client must be an httpx.Client, got {type(http_client).__name__} "
                "(an httpx.AsyncClient goes to AsyncClient)."
            )
        if http_client is not None:
            transport = BlockingTransport.of_client(http_client)
        elif transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            transport = BlockingTransport.of_transport(transport)
        self._async = AsyncClient(transport=transport, **settings)
        # The settings are the async client's, resolved once.
        self.settings, self.network, self._resolver = (
            self._async.settings,
            self._async.network,
            self._async._resolver,
        )
        self._own_routes = self._async._own_routes

    def close(self) -> None:
        run_blocking(self._async.aclose())

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def generate(self, prompt: str | ImageRequest, **params: Any) -> GeneratedImage:
        """One image for ``prompt``; raises an :class:`ImageGenError` subclass on failure."""
        request = prompt if isinstance(prompt, ImageRequest) else self.prepare(prompt, **params)
        return run_blocking(self._async.generate(request))

    def generate_many(
        self, items: Iterable[RequestLike], *, concurrency: int = 4, **common: Any
    ) -> GenerationResults:
        """Run many requests, at most ``concurrency`` at a time; results keep the input order and
        a failed item holds its error instead of discarding the others."""
        requests = self._to_requests(items, common)
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}.")
        return run_blocking(self._async.generate_many(requests, concurrency=concurrency))

    def get(self, url: str, **options: Any) -> httpx.Response:
        """A GET on the service through this client's connections, read whole (the catalog)."""

        async def get() -> httpx.Response:
            return await self._async._http.get(url, **options)

        return run_blocking(get())
