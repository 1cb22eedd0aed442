"""When to try a failed request again, and how long to wait first (docs/cloudflare.md §4)."""

from __future__ import annotations

import random
from typing import Protocol

from .._exceptions import APIConnectionError, APIStatusError, APITimeoutError, ImageGenError, RateLimitError
from ._cloudflare import FINAL_RATE_LIMIT_CODES

__all__ = ["RetryPolicy", "retry_delay"]

BASE_DELAY = 0.5
MAX_DELAY = 20.0


class RetryPolicy(Protocol):
    """How a caller with pacing of its own (a batch's rate limiter) steers the client's one retry
    loop: what to do before each attempt, and how long to wait after a failure (None: give up)."""

    async def before_attempt(self) -> None: ...

    def delay(self, error: ImageGenError, retries: int) -> float | None: ...


def is_retryable(error: ImageGenError) -> bool:
    if isinstance(error, APITimeoutError):
        # A read timeout means the service may still be making (and billing) the image; a
        # "total" one that it made it and the answer is crawling in: trying again pays twice.
        return error.phase not in ("read", "total")
    if isinstance(error, APIConnectionError):
        return True
    if isinstance(error, RateLimitError):
        return error.code not in FINAL_RATE_LIMIT_CODES
    if isinstance(error, APIStatusError):
        return (
            error.status_code == 408
            or error.status_code >= 500
            or (
                200 <= error.status_code < 300  # a run that reported "Failed", e.g. provider_unavailable
            )
        )
    return False


def retry_delay(error: ImageGenError, attempt: int, max_retries: int) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``, or None to give up now."""
    if attempt >= max_retries or not is_retryable(error):
        return None
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        return float(retry_after)
    # Full jitter: spreads the retries of many concurrent requests apart.
    ceiling = min(MAX_DELAY, BASE_DELAY * (2**attempt))
    return random.uniform(ceiling / 2, ceiling)
