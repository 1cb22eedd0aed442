"""The sync :class:`Client`: only the I/O lives here (the rest is in :class:`BaseClient`).

Each call is: build the API request, send it (retrying what docs/cloudflare.md §4 says is worth retrying),
read the answer capped in size, fetch the image URL without credentials if the model answers
with one, and check the bytes are an image. :class:`AsyncClient` does the same with async I/O.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from .._exceptions import ImageDownloadError, ImageGenError

# Re-exported: AsyncClient was defined in this module, and imports of it from here still work.
from ._async_client import AsyncClient
from ._base_client import IDENTITY, MAX_HOPS, REDIRECTS, BaseClient, RequestLike, hide_token
from ._deadline import deadline_transport, until
from ._imagehost import Target, download_failed, download_retry_delay, redirect_target, refuse_encoded
from ._request import ImageRequest
from ._result import GeneratedImage
from ._results import GenerationResults
from ._wire import pick_seed

__all__ = ["AsyncClient", "Client"]

_Self = TypeVar("_Self")


class Client(BaseClient):
    """A blocking client. ``transport=`` takes any httpx transport (tests, proxies)."""

    def __init__(self, *, transport: httpx.BaseTransport | None = None, **settings: Any) -> None:
        hide_token(settings)
        super().__init__(**settings)
        self._http = httpx.Client(
            transport=transport or deadline_transport(), timeout=self.settings.timeout, follow_redirects=False
        )

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
                self._scrub(error)
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
        seed = pick_seed(request)
        url, headers, body, auth = self._api_call(request, seed)
        deadline = self._deadline()
        try:
            with (
                until(deadline),
                self._http.stream("POST", url, headers=headers, auth=auth, **body) as response,
            ):
                answer = self._answer(request, response, self._read(response, deadline))
        except httpx.HTTPError as exc:
            failure: ImageGenError | None = self._scrub(self._transport_error(exc, deadline))
        else:
            failure = None
        if failure is not None:
            # Raised outside the handler, with no context: the HTTP library's frames hold the
            # request headers, the token among them, and debuggers show a context's locals.
            raise failure
        assert answer.url is not None or answer.image is not None
        data = answer.image if answer.image is not None else self._fetch_image(answer.url or "")
        others = []
        for item in answer.more:  # a model that answers several images for one request
            more = item if isinstance(item, bytes) else self._fetch_image(item)
            others.append(self._image(request, more, answer, started, seed))
        return self._with_others(self._image(request, data, answer, started, seed), others)

    def _read(self, response: httpx.Response, deadline: float, image_host: str | None = None) -> bytes:
        refuse_encoded(response, image_host or self.settings.base_url, download=image_host is not None)
        self._check_size(response.headers.get("content-length"), 0)
        chunks: list[bytes] = []
        received = 0
        # Raw bytes: nothing is inflated (see IDENTITY). A response built in memory (a test's
        # transport) has its body already and no stream left to read.
        for chunk in [response.content] if response.is_stream_consumed else response.iter_raw():
            chunks.append(chunk)
            received += len(chunk)
            self._check_size(None, received)
            self._check_deadline(deadline, image_host)
        return b"".join(chunks)  # one copy; growing a buffer chunk by chunk copies it many times

    def _fetch_image(self, url: str) -> bytes:
        """The image behind the answer's URL, fetched again (never generated again) when the
        image host fails in a way that may pass."""
        attempt = 0
        while True:
            try:
                return self._download(url)
            except ImageDownloadError as error:
                delay = download_retry_delay(error, attempt, self.settings.max_retries)
                if delay is None:
                    self._final(error, attempt + 1)
                    raise
                attempt += 1
                time.sleep(delay)

    def _resolve(self, url: str) -> Target:
        target, unresolved = self._target(url)
        if unresolved is None:
            return target
        return self._pin(url, unresolved, list(self._resolver(*unresolved)))

    def _download(self, url: str) -> bytes:
        deadline = self._deadline()
        for hops in range(MAX_HOPS):
            target = self._resolve(url)
            # A fresh request with no Authorization header: the token is for the API host only.
            headers = {**IDENTITY, **target.headers}
            try:
                with (
                    until(deadline),
                    self._http.stream(
                        "GET", target.url, headers=headers, extensions=target.extensions
                    ) as response,
                ):
                    if response.status_code in REDIRECTS:
                        url = redirect_target(url, response, hops)
                        continue
                    if response.status_code != 200:
                        raise download_failed(response, target.host)
                    return self._read(response, deadline, image_host=target.host)
            except httpx.HTTPError as exc:
                failure = self._download_transport_error(exc, target.host, deadline)
            raise failure  # outside the handler: no context (see _attempt)
        raise AssertionError("unreachable: _redirect ends the loop")
