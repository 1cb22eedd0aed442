"""Budget reservations for a batch's requests: the ones that ask together share a ledger update.

Every request is reserved just before it is sent, as :meth:`Reservation.begin` does. Requests
that ask while a ledger update is under way wait for the next one, which reserves all of them
at once: one lock, read, write and fsync of the ledger instead of one each.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client import ImageRequest
    from ..runtime import Charge, Reservation

__all__ = ["GroupedReservations"]


class GroupedReservations:
    """:meth:`begin` reserves one request, sharing a ledger update with any that ask meanwhile."""

    def __init__(self, spend: Reservation) -> None:
        self._spend = spend
        self._waiting: list[tuple[ImageRequest, asyncio.Future[Charge]]] = []
        self._updating: asyncio.Task[None] | None = None

    async def begin(self, request: ImageRequest) -> Charge:
        """The charge for sending ``request`` (BudgetExceededError when it does not fit)."""
        future: asyncio.Future[Charge] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._updating is None:
            self._updating = asyncio.ensure_future(self._update())
        return await future

    async def _update(self) -> None:
        group: list[tuple[ImageRequest, asyncio.Future[Charge]]] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                outcomes: list[Charge | BaseException]
                try:
                    outcomes = list(await asyncio.to_thread(self._spend.begin_all, [r for r, _ in group]))
                except Exception as error:  # the ledger cannot be used: each request learns why
                    outcomes = [error] * len(group)
                for (_, future), outcome in zip(group, outcomes, strict=True):
                    if future.done():  # its request was cancelled: the charge stays counted (safe side)
                        continue
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
                group = []
        except BaseException:  # cancelled while updating: nobody is left waiting forever
            for _, future in group + self._waiting:
                future.cancel()
            self._waiting = []
            raise
        finally:
            self._updating = None
