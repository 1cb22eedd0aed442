"""The asyncio :class:`AsyncClient`: the one implementation of every request; the blocking
:class:`Client` runs this code on its loop thread.

Each attempt runs under one deadline (``asyncio.wait_for``, see :func:`_by`), which covers
connecting, sending, and headers trickled a byte at a time; :meth:`AsyncClient._retrying` is the
one retry loop, for generations and image downloads alike. Everything that is not I/O lives in
:class:`BaseClient`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar

import httpx

from .._exceptions import ImageDownloadError, ImageGenError
from ._adapters import ClientTransport
from ._base_client import IDENTITY, MAX_HOPS, REDIRECTS, BaseClient, RequestLike, hide_token
from ._imagehost import Target, download_failed, download_retry_delay, redirect_target, refuse_encoded
from ._network import DEFAULT_CONNECTIONS
from ._request import ImageRequest
from ._request_body import pick_seed
from ._response import Answer
from ._result import GeneratedImage
from ._results import GenerationResults
from ._retry import RetryPolicy

__all__ = ["AsyncClient"]

_Self = TypeVar("_Self")
_T = TypeVar("_T")


class AsyncClient(BaseClient):
    """The asyncio client: same behaviour as :class:`Client`, never blocks the event loop.

    ``connections``: how many requests the caller runs at once; the pool keeps that many
    connections open between requests. ``http_client``: an ``httpx.AsyncClient`` of your own
    (its proxies, certificates and transports); the package still adds its auth, deadlines and
    size caps to every request, and leaves the client open. ``transport=``: any httpx transport.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        connections: int = DEFAULT_CONNECTIONS,
        **settings: Any,
    ) -> None:
        hide_token(settings)
        if isinstance(connections, bool) or not isinstance(connections, int) or connections < 1:
            raise ValueError(f"connections must be a whole number of at least 1, got {connections!r}.")
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(
                f"http_client must be an httpx.AsyncClient, got {type(http_client).__name__} "
                "(an httpx.Client goes to the blocking Client)."
            )
        super().__init__(**settings)
        if http_client is not None:
            transport = ClientTransport(http_client)
        if transport is not None:
            self._own_routes = False
            self._http = httpx.AsyncClient(
                transport=transport, timeout=self.settings.timeout, follow_redirects=False, trust_env=False
            )
            self._downloads = self._http
            return
        self._http = self.network.async_client(self.settings.timeout, connections)
        # Image URLs are fetched over HTTP/1.1 whatever the API uses: a download pinned to a
        # checked address names its host in headers HTTP/2 does not allow (Connection: close).
        self._downloads = (
            self.network.async_client(self.settings.timeout, connections, http2=False)
            if self.network.http2
            else self._http
        )

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._downloads is not self._http:
            await self._downloads.aclose()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def generate(
        self, prompt: str | ImageRequest, *, retry_policy: RetryPolicy | None = None, **params: Any
    ) -> GeneratedImage:
        """One image for ``prompt``; cancelling the task cancels the HTTP request.
        ``retry_policy`` replaces the client's own retries for this call (a batch paces every
        attempt through its rate limiter)."""
        request = prompt if isinstance(prompt, ImageRequest) else self.prepare(prompt, **params)
        started = time.monotonic()
        if retry_policy is None:
            return await self._retrying(lambda: self._attempt(request, started), self._retry_delay)
        return await self._retrying(
            lambda: self._attempt(request, started), retry_policy.delay, retry_policy.before_attempt
        )

    async def _retrying(
        self,
        attempt: Callable[[], Awaitable[_T]],
        delay_for: Callable[[ImageGenError, int], float | None],
        before: Callable[[], Awaitable[None]] | None = None,
    ) -> _T:
        """The package's one retry loop: ``attempt`` (after ``before``, when given) until it
        succeeds or ``delay_for`` (given the error and how many retries were made) says to give
        up, waiting what it says between."""
        retries = 0
        while True:
            if before is not None:
                await before()
            try:
                return await attempt()
            except ImageGenError as error:
                self._scrub(error)
                delay = delay_for(error, retries)
                if delay is None:
                    self._final(error, retries + 1)
                    raise
                retries += 1
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
        seed = pick_seed(request)
        url, headers, body, auth = self._api_call(request, seed)
        deadline = self._deadline()
        try:
            answer = await _by(deadline, self._post(request, url, headers, body, auth, deadline))
        except httpx.HTTPError as exc:
            failure: ImageGenError | None = self._scrub(self._transport_error(exc, deadline))
        except asyncio.TimeoutError:
            failure = self._total_timeout(self.settings.base_url)
        else:
            failure = None
        if failure is not None:
            # Raised outside the handler, with no context: the HTTP library's frames hold the
            # request headers, the token among them, and debuggers show a context's locals.
            raise failure
        assert answer.url is not None or answer.image is not None
        items: list[bytes | str] = [answer.image if answer.image is not None else answer.url or ""]
        images = []
        for item in [*items, *answer.more]:  # a model may answer several images to one request
            data = item if isinstance(item, bytes) else await self._fetch_image(item)
            images.append(self._image(request, data, answer, started, seed))
        return self._with_others(images[0], images[1:])

    async def _fetch_image(self, url: str) -> bytes:
        """The image behind an answer's URL, fetched again (never generated again) when the
        image host fails in a way that may pass."""
        return await self._retrying(lambda: self._download(url), self._download_delay)

    async def _post(
        self,
        request: ImageRequest,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any],
        auth: httpx.Auth,
        deadline: float,
    ) -> Answer:
        async with self._http.stream("POST", url, headers=headers, auth=auth, **body) as response:
            return self._answer(request, response, await self._read(response, deadline))

    async def _read(self, response: httpx.Response, deadline: float, image_host: str | None = None) -> bytes:
        refuse_encoded(response, image_host or self.settings.base_url, download=image_host is not None)
        self._check_size(response.headers.get("content-length"), 0)
        chunks: list[bytes] = []
        received = 0
        source = _in_memory(response) if response.is_stream_consumed else response.aiter_raw()
        async for chunk in source:  # raw: nothing is inflated (see IDENTITY)
            chunks.append(chunk)
            received += len(chunk)
            self._check_size(None, received)
            self._check_deadline(deadline, image_host)
        return b"".join(chunks)  # one copy; growing a buffer chunk by chunk copies it many times

    def _download_delay(self, error: ImageGenError, retries: int) -> float | None:
        """Fetching the same image URL again costs nothing, unlike generating it again."""
        if not isinstance(error, ImageDownloadError):
            return None
        return download_retry_delay(error, retries, self.settings.max_retries)

    async def _resolve(self, url: str) -> Target:
        target, unresolved = self._target(url)
        if unresolved is None:
            return target
        addresses = await asyncio.to_thread(self._resolver, *unresolved)
        return self._pin(url, unresolved, list(addresses))

    async def _download(self, url: str) -> bytes:
        deadline = self._deadline()
        for hops in range(MAX_HOPS):
            target = await self._resolve(url)
            try:
                outcome = await _by(deadline, self._get(target, deadline))
            except httpx.HTTPError as exc:
                failure: ImageGenError | None = self._download_transport_error(exc, target.host, deadline)
            except asyncio.TimeoutError:
                failure = self._download_transport_error(httpx.ReadTimeout(""), target.host, deadline)
            else:
                failure = None
            if failure is not None:
                raise failure  # outside the handler: no context (see _attempt)
            if isinstance(outcome, bytes):
                return outcome
            url = redirect_target(url, outcome, hops)
        raise AssertionError("unreachable: _redirect ends the loop")

    async def _get(self, target: Target, deadline: float) -> bytes | httpx.Response:
        """The image bytes, or the redirect response to follow."""
        headers = {**IDENTITY, **target.headers}
        async with self._downloads.stream(
            "GET", target.url, headers=headers, extensions=target.extensions
        ) as response:
            self._check_proxy_answer(response, f"the image host {target.host}")
            if response.status_code in REDIRECTS:
                return response
            if response.status_code != 200:
                raise download_failed(response, target.host)
            return await self._read(response, deadline, image_host=target.host)


async def _in_memory(response: httpx.Response) -> AsyncIterator[bytes]:
    yield response.content


async def _by(deadline: float, work: Awaitable[_T]) -> _T:
    """``work`` cancelled at ``deadline`` (monotonic, the event loop's clock): this covers
    connecting, sending and headers trickled a byte at a time, not only the body."""
    return await asyncio.wait_for(work, timeout=max(deadline - time.monotonic(), 0.0))
