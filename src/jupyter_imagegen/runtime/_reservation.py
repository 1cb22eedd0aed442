"""A front end's reservation of images for one action: each request takes one as it is sent, and
what no request used goes back to the ledger when the action ends (see :mod:`._budget`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .._exceptions import BudgetExceededError, ConfigurationError, ValidationError
from ._usage import today

if TYPE_CHECKING:
    from ..client import GeneratedImage, ImageRequest

__all__ = ["Charge", "Ledgers", "Reservation"]


@dataclass(frozen=True)
class Charge:
    """One request's images reserved in the ledger: the day they count on, the model, the
    estimated USD and how many images (a model may answer several to one request)."""

    day: str
    model: str
    usd: float | None
    recorded: bool = True  # False when the ledger could not be written (and no budget needed it)
    images: int = 1


class Ledgers(Protocol):
    """What a reservation asks of the meter (``_budget.Meter``) it was made by."""

    def reserve(self, requests: Sequence[ImageRequest]) -> Reservation: ...

    def charge(self, requests: Sequence[ImageRequest]) -> list[Charge]: ...

    def hits(self, models: Sequence[str]) -> None: ...

    def give_back(self, charges: Sequence[Charge], *, sent: bool, cached: bool = False) -> None: ...

    def give_back_unused(self, charge: Charge, received: int) -> None: ...


class Reservation:
    """Images a front end reserved for one action; each request takes one when it is sent."""

    def __init__(
        self, meter: Ledgers, charges: list[Charge], keys: Sequence[str] = (), *, defer_hits: bool = False
    ) -> None:
        self._meter = meter
        self._lock = threading.Lock()
        # An action's cache hits are written once, at close(): a cached Run All stays cheap.
        self._hits: list[str] | None = [] if defer_hits else None
        self._unused: dict[str, list[Charge]] = {}
        for key, charge in zip(keys, charges, strict=True):
            self._unused.setdefault(key, []).append(charge)

    def begin(self, request: ImageRequest) -> Charge:
        """The charge for sending ``request``: one reserved for it today, else a new reservation
        (BudgetExceededError when it does not fit). A reservation made before 00:00 UTC goes back
        to its day and is made again: an image counts on the day its request is sent."""
        with self._lock:
            reserved = self._unused.get(request.cache_key)
            charge = reserved.pop() if reserved else None
        if charge is not None:
            if charge.day == today():
                return charge
            self._meter.give_back([charge], sent=False)
        return self._meter.reserve([request])._take()

    def begin_all(self, requests: Sequence[ImageRequest]) -> list[Charge | BudgetExceededError]:
        """:meth:`begin` for each of ``requests``, about to be sent together: one ledger update
        when all of them fit, else one by one in order, so a budget stops at the same request as
        it would have one at a time (a refused request gets its error in place of a charge)."""
        with self._lock:
            reserved = any(self._unused.get(r.cache_key) for r in requests)
        if len(requests) > 1 and not reserved:
            try:
                return list(self._meter.charge(requests))
            except BudgetExceededError:
                pass  # not all of them fit: find out which do
        outcomes: list[Charge | BudgetExceededError] = []
        for request in requests:
            try:
                outcomes.append(self.begin(request))
            except BudgetExceededError as error:
                outcomes.append(error)
        return outcomes

    def hit(self, request: ImageRequest) -> None:
        """``request`` was answered by the disk cache: free; its reservation goes back at close."""
        with self._lock:
            if self._hits is not None:
                self._hits.append(request.model)
                return
        self._meter.hits([request.model])

    def settle(self, charge: Charge, image: GeneratedImage) -> None:
        """The service answered; an answer from the AI Gateway's cache is free."""
        if image.cached:
            self._meter.give_back([charge], sent=True, cached=True)
        else:
            self._meter.give_back_unused(charge, len(image.images))

    def failed(self, charge: Charge, error: BaseException | None = None) -> None:
        """The request brought no image; it counts as sent unless ``error`` says it never left
        (missing credentials, a request the client refused)."""
        unsent = isinstance(error, (ConfigurationError, ValidationError))
        self._meter.give_back([charge], sent=not unsent)

    def close(self) -> None:
        """Give back every reservation no request used (cache hits, cancelled requests)."""
        with self._lock:
            unused = [charge for charges in self._unused.values() for charge in charges]
            self._unused.clear()
            hits, self._hits = self._hits or [], [] if self._hits is not None else None
        self._meter.give_back(unused, sent=False)
        self._meter.hits(hits)

    def _take(self) -> Charge:
        with self._lock:
            return next(charges.pop() for charges in self._unused.values() if charges)
