"""An asyncio token bucket that keeps a batch under a requests-per-minute limit, and slows down
when the service says it is over anyway.

The bucket holds at most ``burst`` tokens and refills at ``rpm / 60`` tokens a second; each request
takes one. In any stretch of ``t`` seconds at most ``burst + rpm * t / 60`` requests start.

A 429 means the service counts differently than we do (another process shares the account, or a
gateway rule is stricter): :meth:`RateLimiter.slow_down` stops every request until the server's
``Retry-After`` has passed and halves the rate; the rate then climbs back linearly to the nominal
one over ``recovery`` seconds, so a one-off 429 costs little and a lower real limit is found fast.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

__all__ = ["RateLimiter"]

DEFAULT_PAUSE = 1.0  # seconds to wait after a 429 that carries no Retry-After
MIN_FRACTION = 1 / 32  # slowing down never goes below this share of the nominal rate
_EPSILON = 1e-9  # a refill that lands a rounding error short of a whole token counts as whole


class RateLimiter:
    """``await limiter.acquire()`` before each request; waiters are served first come, first served."""

    def __init__(
        self,
        rpm: float,
        *,
        burst: int = 1,
        recovery: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not (isinstance(rpm, (int, float)) and math.isfinite(rpm) and rpm > 0):
            raise ValueError(f"rpm must be a positive number of requests per minute, got {rpm!r}.")
        if not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be a whole number of at least 1, got {burst!r}.")
        self.nominal = float(rpm)
        self.burst = burst
        self.recovery = recovery
        self._clock = clock
        self._sleep = sleep
        self._rate = self.nominal  # requests per minute right now
        self._tokens = float(burst)
        self._updated = clock()
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None  # made on first use, inside the running loop
        self.slowdowns = 0

    @property
    def rpm(self) -> float:
        """The rate allowed right now, in requests per minute (below nominal after a 429)."""
        self._refill(self._clock())
        return self._rate

    @property
    def paused(self) -> bool:
        return self._clock() < self._paused_until

    async def acquire(self) -> None:
        """Wait until one more request may start, and count it."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                now = self._clock()
                self._refill(now)
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif self._tokens >= 1.0 - _EPSILON:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return
                else:
                    wait = (1.0 - self._tokens) * 60.0 / self._rate
                # Re-check after sleeping: a 429 may have paused the bucket meanwhile.
                await self._sleep(wait)

    def slow_down(self, retry_after: float | None = None) -> None:
        """A request was refused with 429: pause everyone for ``retry_after`` and halve the rate."""
        now = self._clock()
        self._refill(now)
        pause = DEFAULT_PAUSE if retry_after is None else max(0.0, float(retry_after))
        self._paused_until = max(self._paused_until, now + pause)
        self._rate = max(self.nominal * MIN_FRACTION, self._rate / 2)
        self._tokens = 0.0
        # Neither tokens nor recovery accrue while paused.
        self._updated = self._paused_until
        self.slowdowns += 1

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed <= 0:
            return
        self._tokens = min(float(self.burst), self._tokens + elapsed * self._rate / 60.0)
        if self._rate < self.nominal:
            step = self.nominal * elapsed / self.recovery if self.recovery > 0 else self.nominal
            self._rate = min(self.nominal, self._rate + step)
        self._updated = now
