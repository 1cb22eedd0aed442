"""What the package relies on about Cloudflare Workers AI and AI Gateway, in one place.

Error codes with their meaning and retry policy, the AI Gateway's header names, and the limits the
front ends enforce. The panel's browser code receives the limits it needs from Python (the
``limits`` trait), never a copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._exceptions import FINAL_RATE_LIMIT_CODES

__all__ = [
    "FINAL_RATE_LIMIT_CODES",
    "GATEWAY_HEADERS",
    "MAX_IMAGES",
    "MAX_VARIATIONS",
    "RATE_LIMIT_CODES",
    "RateLimitCode",
]


@dataclass(frozen=True)
class RateLimitCode:
    """A code a 429 answer carries, what it means and what to do; ``final``: waiting does not help,
    so it is never retried."""

    code: int
    meaning: str
    advice: str
    final: bool


RATE_LIMIT_CODES = {
    3036: RateLimitCode(
        3036,
        "the account's daily free allocation of Workers AI is used up",
        "The daily free allocation is used up; it resets at 00:00 UTC (or move to the Workers Paid plan). "
        "Not retried.",
        final=True,
    ),
    2045: RateLimitCode(
        2045,
        "the AI Gateway's spend limit is reached",
        "The gateway's spend limit is reached; raise it in the AI Gateway settings. Not retried.",
        final=True,
    ),
    3040: RateLimitCode(
        3040,
        "capacity temporarily exceeded (too many requests)",
        "Too many requests: slow down (use fewer concurrent requests) or try again in a minute.",
        final=False,
    ),
}
# The set itself lives in the exceptions module (below the client); tests/test_layers.py checks it
# names exactly the table's final codes.

# AI Gateway request options (sent) and answer fields (read), by meaning.
GATEWAY_HEADERS = {
    "gateway_id": "cf-aig-gateway-id",
    "skip_cache": "cf-aig-skip-cache",
    "cache_ttl": "cf-aig-cache-ttl",
    "cache_key": "cf-aig-cache-key",
    "metadata": "cf-aig-metadata",
    "request_timeout": "cf-aig-request-timeout",
    "log_id": "cf-aig-log-id",
    "cache_status": "cf-aig-cache-status",
}

# The package's own guards, not the service's: the most images one action (a cell, a command, a
# panel click) may ask for unless configured otherwise, and the panel's variations control.
MAX_IMAGES = 64
MAX_VARIATIONS = 8
