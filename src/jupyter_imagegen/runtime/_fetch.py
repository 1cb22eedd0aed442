"""The one path from a request to an image that every front end takes: the disk cache first,
else the service, with the request reserved against the daily budgets before it is sent
(:mod:`._budget`) and the image stored in the cache after."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from .._exceptions import ImageGenWarning
from ._cache_entry import service_of
from ._reservation import Charge

if TYPE_CHECKING:
    from ..client import AsyncClient, BaseClient, GeneratedImage, ImageRequest, RetryPolicy
    from ._budget import Meter
    from ._cache import ImageCache
    from ._reservation import Reservation

__all__ = ["expected_misses", "fetch_async", "reserve_misses"]


def _slot(service: str, index: int) -> str:
    """The cache's service key for image ``index`` of an answer (0: the request's own entry)."""
    return service if index == 0 else f"{service}\n#{index}"


def _cached(cache: ImageCache, request: ImageRequest, service: str) -> GeneratedImage | None:
    """The cached answer to ``request``: its first image holding the others, or None when any
    of them is missing (the request is then sent again)."""
    hit = cache.get(request, service)
    if hit is None or hit.answer_count <= 1:
        return hit
    others = [cache.get(request, _slot(service, i)) for i in range(1, hit.answer_count)]
    if any(other is None for other in others):
        return None
    return dataclasses.replace(hit, others=tuple(o for o in others if o is not None))


def _store(cache: ImageCache, request: ImageRequest, image: GeneratedImage, service: str) -> None:
    """Write every image of the answer to the cache; a full or read-only disk costs the cache,
    never the image."""
    try:
        for index, one in enumerate(image.images):
            cache.put(request, one, _slot(service, index))
    except OSError as exc:
        warnings.warn(
            f"Could not write the image cache at {cache.directory} ({exc.strerror or exc}); "
            "set IMAGEGEN_CACHE_DIR to a writable folder.",
            ImageGenWarning,
            stacklevel=3,
        )


class _Unmetered:
    """No ledger: what a caller that passes no reservation gets (a test, a benchmark's baseline)."""

    def hit(self, request: ImageRequest) -> None:
        pass

    def begin(self, request: ImageRequest) -> Charge:
        return Charge("", request.model, None, recorded=False)

    def failed(self, charge: Charge, error: BaseException | None = None) -> None:
        pass

    def settle(self, charge: Charge, image: GeneratedImage) -> None:
        pass


def _spending(spend: Reservation | None) -> Reservation | _Unmetered:
    return spend if spend is not None else _Unmetered()


def reserve_misses(
    meter: Meter,
    client: BaseClient,
    requests: Sequence[ImageRequest],
    cache: ImageCache | None,
    *,
    refresh: bool = False,
) -> Reservation:
    """Reserve, all or none, the requests the cache will not answer (an entry on disk counts as
    a hit; one found damaged later reserves itself when it is sent)."""
    return meter.reserve(expected_misses(client, requests, cache, refresh=refresh))


def expected_misses(
    client: BaseClient,
    requests: Sequence[ImageRequest],
    cache: ImageCache | None,
    *,
    refresh: bool = False,
) -> list[ImageRequest]:
    """The requests the disk cache holds no entry for: the ones that will be sent."""
    service = service_of(client)
    return [r for r in requests if cache is None or refresh or not os.path.exists(cache.path_for(r, service))]


async def fetch_async(
    client: AsyncClient,
    request: ImageRequest,
    cache: ImageCache | None,
    *,
    refresh: bool = False,
    spend: Reservation | None = None,
    retry_policy: RetryPolicy | None = None,
    begin: Callable[[ImageRequest], Awaitable[Charge]] | None = None,
) -> GeneratedImage:
    """The cached image for ``request``, else a new one from ``client`` (then cached); the one
    fetch of the package, for every front end. File I/O runs in a worker thread.

    ``refresh=True`` skips the lookup and replaces the entry with a new sample. With a
    reservation (``spend``, on the runtime's meter) a cache hit is counted in the usage ledger as
    free, and a request is reserved against the daily budgets before it is sent and given back if
    it brings no image. ``begin`` replaces how that reservation is made (a batch groups its
    ledger updates), and ``retry_policy`` the client's own retries (a batch's rate limiter).
    """
    ledger = _spending(spend)
    service = service_of(client)
    if cache is not None and not refresh:
        hit = await asyncio.to_thread(_cached, cache, request, service)
        if hit is not None:
            await asyncio.to_thread(ledger.hit, request)
            return hit
    charge = await (begin(request) if begin is not None else asyncio.to_thread(ledger.begin, request))
    try:
        image = await client.generate(request, retry_policy=retry_policy)
    except Exception as exc:
        # In a worker thread, as every other ledger update: a batch meeting many failures must
        # not hold its event loop for each write.
        await asyncio.to_thread(ledger.failed, charge, exc)
        raise
    except BaseException as exc:
        ledger.failed(charge, exc)  # cancelled: at once, as a cancelled task may not wait for a thread
        raise
    await asyncio.to_thread(ledger.settle, charge, image)
    if cache is not None:
        await asyncio.to_thread(_store, cache, request, image, service)
    return image
