"""Telling the bundled emulator from the real service by what it answers, not by where it is.

The emulator says what it is on every answer (the ``x-imagegen-emulator`` header). Being on this
machine proves nothing (a local proxy may forward to the real, billed service), nor does being
elsewhere (a teacher's emulator shared on the classroom network): its test patterns must never
count as spend, and real images never as test patterns. The real service is only reached over
https, so only a plain-http base URL the client may use (on this machine, or any host with
``IMAGEGEN_ALLOW_PLAIN_HTTP``) is asked, once per process, without the token.
"""

from __future__ import annotations

import os
import threading
import time
from urllib.parse import urlsplit

import httpx

from ..client import is_loopback_host

__all__ = ["EMULATOR_HEADER", "answers_as_emulator"]

EMULATOR_HEADER = "x-imagegen-emulator"
PROBE_TIMEOUT = 2.0
# A service that did not answer is asked again after this long (an emulator started later).
RETRY_UNREACHABLE = 30.0

_lock = threading.Lock()
_known: dict[str, tuple[bool, float]] = {}  # origin -> (is an emulator, monotonic expiry)


def plain_http_allowed() -> bool:
    return os.environ.get("IMAGEGEN_ALLOW_PLAIN_HTTP", "").strip().lower() in ("1", "true", "yes", "on")


def answers_as_emulator(base_url: str) -> bool:
    """True when the service at ``base_url`` answers as the bundled emulator."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if not is_loopback_host(parts.hostname) and not plain_http_allowed():
        return False  # the client refuses to send there: nothing to ask
    origin = f"http://{parts.netloc}"
    now = time.monotonic()
    with _lock:
        known = _known.get(origin)
    if known is not None and known[1] > now:
        return known[0]
    try:
        # A route no service serves: the answer's headers are all that matters.
        with httpx.Client(timeout=PROBE_TIMEOUT, follow_redirects=False, trust_env=False) as http:
            answer = http.get(f"{origin}/__emulator__/")
    except httpx.HTTPError:
        with _lock:
            _known[origin] = (False, now + RETRY_UNREACHABLE)
        return False
    emulator = bool(answer.headers.get(EMULATOR_HEADER))
    with _lock:
        _known[origin] = (emulator, float("inf"))
    return emulator
