"""Saying loudly when images come from the local emulator rather than Cloudflare.

Kept free of heavy imports: it runs at ``%load_ext`` time.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from urllib.parse import urlsplit

__all__ = ["emulator_banner", "is_loopback_host", "uses_local_service"]


@functools.lru_cache(maxsize=256)  # asked for every image URL and request; a pure function of the name
def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and any loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def uses_local_service(base_url: str | None = None) -> bool:
    """True when the API base URL points at this machine (the bundled emulator)."""
    url = base_url if base_url is not None else os.environ.get("CLOUDFLARE_BASE_URL", "")
    return is_loopback_host(urlsplit(url).hostname or "")


def emulator_banner(base_url: str) -> str:
    line = "!" * 78
    return (
        f"{line}\n"
        "!!  OFFLINE MODE: images come from the local Cloudflare EMULATOR\n"
        f"!!  at {base_url}\n"
        "!!  They are labelled test patterns, not model output. To use Cloudflare, set\n"
        "!!  CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN and unset CLOUDFLARE_BASE_URL.\n"
        f"{line}"
    )
