"""The one executor every front end submits its requests to.

An :class:`Executor` runs requests on one event loop: at most ``concurrency`` at once (the rest
wait their turn), each through the one fetch path (:func:`fetch_async`: the disk cache, the
reservation against the daily budgets, the client's one retry loop), and cancelling the task
that awaits a request cancels its HTTP request. What differs between front ends is plugged in,
not written again:

- the magic, ``imagegen generate`` and ``generate()`` hand :meth:`Executor.run` a whole list,
  reserved all or none beforehand, and poll the outcomes list it fills (``Runtime.run``);
- the panel submits each job as its own task on the kernel's loop, and learns when it starts
  (``on_start``) to show "running" rather than "queued";
- a batch hands :meth:`Executor.each` its queue of items, which takes the next item only as one
  finishes (ten thousand rows are never ten thousand tasks), with its own rate-limiting retry
  policy and grouped ledger updates (``begin``) plugged in; its manifest, resume and writer
  thread stay its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from ._fetch import fetch_async

if TYPE_CHECKING:
    from ..client import AsyncClient, GeneratedImage, ImageRequest, RetryPolicy
    from ._cache import ImageCache
    from ._reservation import Charge, Reservation

__all__ = ["Executor", "RunOutcome"]

T = TypeVar("T")
Item = TypeVar("Item")
Begin = Callable[["ImageRequest"], Awaitable["Charge"]]


@dataclass
class RunOutcome(Generic[T]):
    """The outcome of one run of requests: per item its result, its exception, or None if it
    never finished (cancelled)."""

    outcomes: list[T | BaseException | None]
    interrupted: bool = False
    elapsed: float = 0.0
    finished: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.finished = sum(outcome is not None for outcome in self.outcomes)

    @property
    def images(self) -> list[T]:
        """Every image made, in order; an answer with several images gives each of them."""
        found: list[T] = []
        for outcome in self.outcomes:
            if outcome is not None and not isinstance(outcome, BaseException):
                found.extend(getattr(outcome, "images", None) or [outcome])
        return found

    @property
    def errors(self) -> list[BaseException]:
        return [o for o in self.outcomes if isinstance(o, BaseException)]


class Executor:
    """Runs requests through the one fetch path, at most ``concurrency`` at once, on the loop
    it is first used on.

    ``client`` is the client to send with, or a function giving the one to use at each request
    (the panel's: credentials set in a cell after the panel was shown take effect). ``begin``
    replaces how a request is reserved just before it is sent (a batch's grouped ledger updates).
    """

    def __init__(
        self,
        client: AsyncClient | Callable[[], AsyncClient],
        *,
        concurrency: int,
        begin: Begin | None = None,
    ) -> None:
        self._client = client
        self._begin = begin
        self.concurrency = max(1, concurrency)
        self._gate: asyncio.Semaphore | None = None  # made on the loop that uses it

    def client(self) -> AsyncClient:
        """The client the next request is sent with."""
        return self._client() if callable(self._client) else self._client

    async def fetch(
        self,
        request: ImageRequest,
        *,
        cache: ImageCache | None = None,
        refresh: bool = False,
        spend: Reservation | None = None,
        retry_policy: RetryPolicy | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> GeneratedImage:
        """One request, once a place among the ``concurrency`` running ones is free: the cached
        image, else a new one (see :func:`fetch_async`). ``on_start`` is called when it leaves
        the queue."""
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.concurrency)
        async with self._gate:
            if on_start is not None:
                on_start()
            return await fetch_async(
                self.client(),
                request,
                cache,
                refresh=refresh,
                spend=spend,
                retry_policy=retry_policy,
                begin=self._begin,
            )

    async def run(
        self,
        requests: Sequence[ImageRequest],
        outcomes: list[GeneratedImage | BaseException | None],
        *,
        cache: ImageCache | None = None,
        refresh: bool = False,
        spend: Reservation | None = None,
    ) -> None:
        """Every request, each failing alone: ``outcomes[i]`` becomes request i's image or
        exception as soon as it ends, so a caller on another thread can show them as they come.
        Cancelling this coroutine cancels every request still queued or running, and waits
        for them to close."""

        async def one(index: int) -> None:
            try:
                outcomes[index] = await self.fetch(requests[index], cache=cache, refresh=refresh, spend=spend)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # each item fails alone; the run goes on
                outcomes[index] = exc

        tasks = [asyncio.ensure_future(one(i)) for i in range(len(requests))]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def each(self, items: Iterable[Item], handle: Callable[[Item], Awaitable[None]]) -> None:
        """``await handle(item)`` for every item, at most ``concurrency`` at once; the next item is
        taken only when a handler finishes. The first exception a handler raises cancels the
        others and is raised; so does cancelling this coroutine."""
        source = iter(items)  # shared by the workers: each item is taken once

        async def worker() -> None:
            for item in source:
                await handle(item)

        workers = [asyncio.ensure_future(worker()) for _ in range(self.concurrency)]
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
