"""Daily budgets, enforced by reserving in the usage ledger before anything is sent.

A front end reserves the images it is about to request (:meth:`Meter.reserve`): under the
ledger's lock, today's figures plus the reservation are checked against the budgets and, if they
fit, written as used. Reserving counts first and gives back later, so concurrent requests of any
number of threads and processes never pass the budget together, and a process that dies with a
reservation leaves it counted (the safe side). A request that fails gives its image and estimated
cost back (it stays counted as a request); one answered from a cache gives back everything but
the request and counts as a cache hit. Cache hits never use the budget.

With a USD budget set, a request whose price is unknown is refused: its cost cannot be counted.
A damaged ledger (not JSON, not numbers, or counts that are negative, infinite or NaN) is set
aside and started again only when no budget is set; with a budget it refuses (today's use is
unknown), never counts from zero. A give-back never takes a count below zero.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._exceptions import BudgetExceededError, ConfigurationError, ImageGenWarning
from ..client import estimate_cost
from ._reservation import Charge, Reservation
from ._usage import Days, LedgerDamagedError, Usage, UsageLedger, add, rows_of, today

if TYPE_CHECKING:
    from ..client import ImageRequest

__all__ = ["Budget", "Charge", "Meter", "Reservation", "spend_today"]

_log = logging.getLogger(__name__)

_RAISE = {
    "images": "IMAGEGEN_MAX_IMAGES_PER_DAY or %config ImageGenMagics.max_images_per_day",
    "usd": "IMAGEGEN_MAX_USD_PER_DAY or %config ImageGenMagics.max_usd_per_day",
}


@dataclass(frozen=True)
class Budget:
    """Daily limits, None where unset."""

    max_images: int | None = None
    max_usd: float | None = None

    @classmethod
    def read(cls, images: object, usd: object) -> Budget:
        """The budget from settings (numbers, or the environment's text); a negative or
        malformed value is a ConfigurationError, never an unlimited budget."""
        try:
            budget = cls(
                None if images is None else int(str(images)), None if usd is None else float(str(usd))
            )
        except ValueError:
            budget = cls(-1)
        if (budget.max_images or 0) < 0 or (budget.max_usd or 0.0) < 0 or budget.max_usd != budget.max_usd:
            raise ConfigurationError(
                "IMAGEGEN_MAX_IMAGES_PER_DAY must be a whole number of images and "
                f"IMAGEGEN_MAX_USD_PER_DAY a number of dollars, 0 or more; got {images!r} and {usd!r}."
            )
        return budget

    @property
    def set(self) -> bool:
        return self.max_images is not None or self.max_usd is not None

    def check(self, used_images: int, used_usd: float, charges: Sequence[Charge]) -> None:
        """Raise BudgetExceededError when ``charges`` on top of today's use pass a limit."""
        wanted = sum(c.images for c in charges)
        if self.max_images is not None and used_images + wanted > self.max_images:
            left = max(0, self.max_images - used_images)
            raise BudgetExceededError(
                f"Daily image budget: {used_images} of {self.max_images} images used today (UTC), "
                f"this asks for {wanted} and {left} are left; nothing was sent. Raise it with "
                f"{_RAISE['images']}, or wait until 00:00 UTC."
            )
        if self.max_usd is None:
            return
        unpriced = sorted({c.model for c in charges if c.usd is None})
        if unpriced:
            raise BudgetExceededError(
                f"A daily USD budget is set and {', '.join(unpriced)} has no published price, so "
                f"its cost cannot be counted; nothing was sent. Use a priced model, cap images "
                f"instead ({_RAISE['images']}), or unset IMAGEGEN_MAX_USD_PER_DAY."
            )
        cost = sum(c.usd or 0.0 for c in charges)
        if used_usd + cost > self.max_usd + 1e-9:
            raise BudgetExceededError(
                f"Daily USD budget: ~${used_usd:.4f} of ${self.max_usd:.2f} used today (UTC, "
                f"estimated), this asks for ~${cost:.4f} more; nothing was sent. Raise it with "
                f"{_RAISE['usd']}, or wait until 00:00 UTC."
            )


def _charge(day: str, request: ImageRequest) -> Charge:
    return Charge(day, request.model, estimate_cost(request).usd, images=request.expected_images)


class Meter:
    """The ledger and the budgets of one runtime: reserves, settles and gives back."""

    def __init__(self, ledger: UsageLedger, budget: Budget) -> None:
        self.ledger, self.budget = ledger, budget

    def usage(self) -> Usage:
        """The ledger's figures; a damaged ledger is set aside with a warning, or with a budget
        set, a ConfigurationError."""
        days = self._read()
        budget, emulator = self.budget, self.ledger.emulator
        return Usage(self.ledger.path, today(), rows_of(days), budget.max_images, budget.max_usd, emulator)

    def reservation(self) -> Reservation:
        """An empty reservation: each request reserves itself when it is about to be sent."""
        return Reservation(self, [])

    def reserve(self, requests: Sequence[ImageRequest]) -> Reservation:
        """Reserve every request at once, or none (BudgetExceededError: nothing is sent)."""
        return Reservation(self, self.charge(requests), [r.cache_key for r in requests], defer_hits=True)

    def charge(self, requests: Sequence[ImageRequest]) -> list[Charge]:
        """Reserve every request at once, or none; their charges, in order, in one ledger update."""
        day = today()
        charges = [_charge(day, r) for r in requests]
        return self._apply(day, charges) if charges else charges

    def check(self, requests: Sequence[ImageRequest]) -> None:
        """Raise BudgetExceededError if ``requests`` would not fit today; reserves nothing."""
        if not self.budget.set:
            return
        day = today()
        days = self._read()
        models = days.get(day, {}).values()
        used = int(sum(m.get("images", 0) for m in models)), float(sum(m.get("usd", 0.0) for m in models))
        self.budget.check(*used, [_charge(day, r) for r in requests])

    def hits(self, models: Sequence[str]) -> None:
        """Count images served from the disk cache (free), one per model named."""

        def change(days: Days) -> None:
            for model in models:
                add(days, today(), model, cache_hits=1)

        if models:
            self._update(change)

    def give_back(self, charges: Sequence[Charge], *, sent: bool, cached: bool = False) -> None:
        """Undo reservations' images (and their requests when they were never sent)."""

        charges = [c for c in charges if c.recorded]

        def change(days: Days) -> None:
            for c in charges:
                usd, unpriced = (0.0, -1) if c.usd is None else (-c.usd, 0)
                add(
                    days,
                    c.day,
                    c.model,
                    images=-c.images,
                    requests=0 if sent else -1,
                    usd=usd,
                    unpriced=unpriced,
                )
                if cached:
                    add(days, c.day, c.model, cache_hits=1)

        if charges:
            self._update(change)

    def give_back_unused(self, charge: Charge, received: int) -> None:
        """The answer held ``received`` images of the ``charge.images`` reserved: the rest go back."""
        unused = charge.images - received
        if unused <= 0 or not charge.recorded:
            return
        usd = 0.0 if charge.usd is None else -charge.usd * unused / charge.images
        self._update(lambda days: add(days, charge.day, charge.model, images=-unused, usd=usd))

    def _apply(self, day: str, charges: list[Charge]) -> list[Charge]:
        def change(days: Days) -> None:
            models = days.get(day, {}).values()
            used_images = int(sum(m.get("images", 0) for m in models))
            self.budget.check(used_images, float(sum(m.get("usd", 0.0) for m in models)), charges)
            for c in charges:
                usd, unpriced = (0.0, 1) if c.usd is None else (c.usd, 0)
                add(days, day, c.model, images=c.images, requests=1, usd=usd, unpriced=unpriced)

        if self._update(change, reserving=True):
            return charges
        return [dataclasses.replace(c, recorded=False) for c in charges]

    def _read(self) -> Days:
        try:
            return self.ledger.read()
        except LedgerDamagedError as exc:
            self._recover(exc)
            return {}

    def _update(self, change: Callable[[Days], None], *, reserving: bool = False) -> bool:
        """Apply ``change``; False when the ledger cannot be written. That refuses a reservation
        a budget depends on, and is only logged otherwise: it never costs an image."""
        try:
            try:
                self.ledger.update(change)
            except LedgerDamagedError as exc:
                self._recover(exc)
                self.ledger.update(change)
        except OSError as exc:
            where = f"{self.ledger.path} ({exc.strerror or exc})"
            if reserving and self.budget.set:
                raise ConfigurationError(
                    f"Could not write the usage ledger {where}: the daily budget cannot be kept, so "
                    "nothing was sent. Free some space, or set IMAGEGEN_CACHE_DIR to a writable folder."
                ) from None
            _log.warning("jupyter-imagegen could not write the usage ledger %s; not counted", where)
            return False
        return True

    def _recover(self, exc: LedgerDamagedError) -> None:
        """No budget: set the damaged file aside and count afresh, saying so. A budget: refuse."""
        if self.budget.set:
            raise self._damaged(exc)
        aside = self.ledger.set_aside()
        warnings.warn(
            f"{exc}; it was moved to {aside} and counting starts again.", ImageGenWarning, stacklevel=4
        )

    def _damaged(self, exc: LedgerDamagedError) -> ConfigurationError:
        return ConfigurationError(
            f"{exc}: today's use is unknown, so the daily budget cannot be checked and nothing was "
            "sent. Move or delete that file to count from zero, or unset the budget."
        )


def spend_today(meter: Meter) -> dict[str, float | int | bool | None]:
    """Today's images and estimated USD with the budgets, as the panel's header shows them."""
    usage = meter.usage()
    rows = [row for row in usage.rows if row.day == usage.today]
    return {
        "images": usage.images_today,
        "usd": usage.usd_today,
        "unpriced": sum(row.unpriced_images for row in rows),
        "max_images": usage.max_images_per_day,
        "max_usd": usage.max_usd_per_day,
        "emulator": usage.emulator,
    }
