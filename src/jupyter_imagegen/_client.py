"""The sync :class:`Client` and the async :class:`AsyncClient`: only the I/O lives here.

Each call is: build the API request, send it (retrying what docs/cloudflare.md §4 says is worth retrying),
read the answer capped in size, fetch the image URL without credentials if the model answers
with one, and check the bytes are an image.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._base_client import BaseClient, RequestLike
from ._exceptions import ImageGenError
from ._request import ImageRequest
from ._response import Answer
from ._result import GeneratedImage
from ._results import GenerationResults

__all__ = ["AsyncClient", "Client"]

_Self = TypeVar("_Self")


class Client(BaseClient):
    """A blocking client. ``transport=`` takes any httpx transport (tests, proxies)."""

    def __init__(self, *, transport: httpx.BaseTransport | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self._http = httpx.Client(transport=transport, timeout=self.settings.timeout, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def generate(self, prompt: str | ImageRequest, **params: Any) -> GeneratedImage:
        """One image for ``prompt``; raises an :class:`ImageGenError` subclass on failure."""
        request = prompt if isinstance(prompt, ImageRequest) else self.prepare(prompt, **params)
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return self._attempt(request, started)
            except ImageGenError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    self._final(error, attempt + 1)
                    raise
                attempt += 1
                time.sleep(delay)

    def generate_many(
        self, items: Iterable[RequestLike], *, concurrency: int = 4, **common: Any
    ) -> GenerationResults:
        """Run many requests, at most ``concurrency`` at a time; results keep the input order and
        a failed item holds its error instead of discarding the others."""
        requests = self._to_requests(items, common)
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}.")
        with ThreadPoolExecutor(max_workers=min(concurrency, max(len(requests), 1))) as pool:
            futures = [pool.submit(self.generate, request) for request in requests]
            outcomes: list[GeneratedImage | BaseException] = []
            for future in futures:
                error = future.exception()
                outcomes.append(error if error is not None else future.result())
        return GenerationResults(requests, outcomes)

    def _attempt(self, request: ImageRequest, started: float) -> GeneratedImage:
        url, headers, body, auth = self._api_call(request)
        deadline = self._deadline()
        try:
            with self._http.stream("POST", url, headers=headers, json=body, auth=auth) as response:
                answer = self._answer(request, response, self._read(response, deadline))
            data = answer.image if answer.image is not None else self._download(answer, deadline)
        except httpx.HTTPError as exc:
            raise self._scrub(self._transport_error(exc)) from None
        return self._image(request, data, answer, started)

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        self._check_size(response.headers.get("content-length"), 0)
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            received += len(chunk)
            self._check_size(None, received)
            self._check_deadline(deadline)
        return b"".join(chunks)  # one copy; growing a buffer chunk by chunk copies it many times

    def _download(self, answer: Answer, deadline: float) -> bytes:
        assert answer.url is not None
        url, response, hops = answer.url, None, 0
        while True:
            url = self._next_hop(url, response, hops)
            # A fresh request with no Authorization header: the token is for the API host only.
            with self._http.stream("GET", url) as response:
                if response.status_code in (301, 302, 303, 307, 308):
                    hops += 1
                    continue
                if response.status_code != 200:
                    raise self._download_failed(response)
                return self._read(response, deadline)


class AsyncClient(BaseClient):
    """The asyncio client: same behaviour as :class:`Client`, never blocks the event loop."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self._http = httpx.AsyncClient(
            transport=transport, timeout=self.settings.timeout, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def generate(self, prompt: str | ImageRequest, **params: Any) -> GeneratedImage:
        """One image for ``prompt``; cancelling the task cancels the HTTP request."""
        request = prompt if isinstance(prompt, ImageRequest) else self.prepare(prompt, **params)
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return await self._attempt(request, started)
            except ImageGenError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    self._final(error, attempt + 1)
                    raise
                attempt += 1
                await asyncio.sleep(delay)

    async def generate_many(
        self, items: Iterable[RequestLike], *, concurrency: int = 4, **common: Any
    ) -> GenerationResults:
        """Like :meth:`Client.generate_many`, as concurrent tasks under a semaphore."""
        requests = self._to_requests(items, common)
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}.")
        gate = asyncio.Semaphore(concurrency)

        async def run(request: ImageRequest) -> GeneratedImage:
            async with gate:
                return await self.generate(request)

        outcomes = await asyncio.gather(*(run(r) for r in requests), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
        return GenerationResults(requests, list(outcomes))

    async def _attempt(self, request: ImageRequest, started: float) -> GeneratedImage:
        url, headers, body, auth = self._api_call(request)
        deadline = self._deadline()
        try:
            async with self._http.stream("POST", url, headers=headers, json=body, auth=auth) as response:
                answer = self._answer(request, response, await self._read(response, deadline))
            data = answer.image if answer.image is not None else await self._download(answer, deadline)
        except httpx.HTTPError as exc:
            raise self._scrub(self._transport_error(exc)) from None
        return self._image(request, data, answer, started)

    async def _read(self, response: httpx.Response, deadline: float) -> bytes:
        self._check_size(response.headers.get("content-length"), 0)
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            received += len(chunk)
            self._check_size(None, received)
            self._check_deadline(deadline)
        return b"".join(chunks)  # one copy; growing a buffer chunk by chunk copies it many times

    async def _download(self, answer: Answer, deadline: float) -> bytes:
        assert answer.url is not None
        url, response, hops = answer.url, None, 0
        while True:
            url = self._next_hop(url, response, hops)
            async with self._http.stream("GET", url) as response:
                if response.status_code in (301, 302, 303, 307, 308):
                    hops += 1
                    continue
                if response.status_code != 200:
                    raise self._download_failed(response)
                return await self._read(response, deadline)
