"""The one path from a request to an image that every front end takes: the disk cache first,
else the service, with the request reserved against the daily budgets before it is sent
(:mod:`._budget`) and the image stored in the cache after."""

from __future__ import annotations

import asyncio
import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._exceptions import ImageGenWarning
from ._cache_entry import service_of

if TYPE_CHECKING:
    from ..client._async_client import AsyncClient
    from ..client._base_client import BaseClient
    from ..client._client import Client
    from ..client._request import ImageRequest
    from ..client._result import GeneratedImage
    from ._budget import Meter, Reservation
    from ._cache import ImageCache

__all__ = ["expected_misses", "fetch", "fetch_async", "reserve_misses"]


def _store(cache: ImageCache, request: ImageRequest, image: GeneratedImage, service: str) -> None:
    """Write to the cache; a full or read-only disk costs the cache, never the image."""
    try:
        cache.put(request, image, service)
    except OSError as exc:
        warnings.warn(
            f"Could not write the image cache at {cache.directory} ({exc.strerror or exc}); "
            "set IMAGEGEN_CACHE_DIR to a writable folder.",
            ImageGenWarning,
            stacklevel=3,
        )


def _spending(spend: Reservation | None) -> Reservation:
    """The given reservation, else an empty one on the process runtime's ledger and budgets."""
    if spend is not None:
        return spend
    from ._runtime import get_runtime

    return get_runtime().meter().reservation()


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


def fetch(
    client: Client,
    request: ImageRequest,
    cache: ImageCache | None,
    *,
    refresh: bool = False,
    spend: Reservation | None = None,
) -> GeneratedImage:
    """The cached image for ``request``, else a new one from ``client`` (then cached).

    ``refresh=True`` skips the lookup and replaces the entry with a new sample. Every front end
    comes through here or :func:`fetch_async`: a cache hit is counted in the usage ledger as
    free, and a request is reserved against the daily budgets (``spend``, else the runtime's)
    before it is sent and given back if it brings no image.
    """
    spend = _spending(spend)
    service = service_of(client)
    if cache is not None and not refresh:
        hit = cache.get(request, service)
        if hit is not None:
            spend.hit(request)
            return hit
    charge = spend.begin(request)
    try:
        image = client.generate(request)
    except BaseException as exc:
        spend.failed(charge, exc)
        raise
    spend.settle(charge, image)
    if cache is not None:
        _store(cache, request, image, service)
    return image


async def fetch_async(
    client: AsyncClient,
    request: ImageRequest,
    cache: ImageCache | None,
    *,
    refresh: bool = False,
    spend: Reservation | None = None,
) -> GeneratedImage:
    """:func:`fetch` for the async client; file I/O runs in a worker thread."""
    spend = _spending(spend)
    service = service_of(client)
    if cache is not None and not refresh:
        hit = await asyncio.to_thread(cache.get, request, service)
        if hit is not None:
            await asyncio.to_thread(spend.hit, request)
            return hit
    charge = await asyncio.to_thread(spend.begin, request)
    try:
        image = await client.generate(request)
    except BaseException as exc:
        spend.failed(charge, exc)  # at once: a cancelled task may not wait for a thread
        raise
    await asyncio.to_thread(spend.settle, charge, image)
    if cache is not None:
        await asyncio.to_thread(_store, cache, request, image, service)
    return image
