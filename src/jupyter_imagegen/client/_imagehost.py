"""Where an image may be downloaded from, checked before connecting.

An image URL comes from the service's answer, so a hostile or broken service could point the
client at this machine or the local network. Against a real (non-loopback) API the client fetches
only https URLs whose host resolves to public addresses, every redirect hop included, and then
connects to the address it checked (the name still goes in the Host header and the TLS server
name), so a second DNS answer cannot swap in a private address. Against a loopback API (the
emulator) plain http to this machine is allowed, as before, and nothing is resolved.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

from .._exceptions import APIResponseError, ImageDownloadError
from ._offline import is_loopback_host

__all__ = [
    "IDENTITY",
    "Resolver",
    "Target",
    "check_image_url",
    "check_proxied",
    "download_failed",
    "download_retry_delay",
    "pin",
    "redirect_target",
    "refuse_encoded",
    "system_resolver",
]

MAX_REDIRECTS = 5
MAX_DOWNLOAD_DELAY = 4.0
# Compressed answers are refused rather than inflated: a few KB of nested gzip inflate to GBs
# in one decoding step, before a cap on decoded bytes could see them. Images are compressed
# already and JSON answers carry base64 images, which gain little: ask for none, refuse any.
IDENTITY = {"Accept-Encoding": "identity"}

# host, port -> the IP addresses the name resolves to.
Resolver = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """An image URL judged safe: what to request, and the host to name in errors."""

    url: str
    host: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, object] = field(default_factory=dict)


def _unsafe(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return True
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    # is_global is False for private, loopback, link-local, reserved, unspecified and shared space.
    return not ip.is_global or ip.is_multicast


def _refuse(scheme: str, host: str, why: str) -> ImageDownloadError:
    shown = f"[{host}]" if ":" in host else host
    return ImageDownloadError(f"Refusing to download the image from {scheme}://{shown}: {why}.")


def check_image_url(
    url: str, *, local_service: bool, trusted: tuple[str, int] | None = None
) -> tuple[str, int] | None:
    """Refuse an unsafe image URL before connecting; the ``(host, port)`` still to resolve and
    check, or None when nothing needs resolving (a loopback service, or the ``trusted`` plain-http
    service itself, which the user allowed explicitly)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise _refuse(scheme, host, "the URL's port is not a number") from None
    if not host:
        raise ImageDownloadError("Refusing to download the image: its URL names no host.")
    if trusted is not None and scheme == "http" and (host.lower(), port) == trusted:
        return None
    if local_service:
        if scheme == "https" or (scheme == "http" and is_loopback_host(host)):
            return None
        raise _refuse(scheme, host, "only https (or plain http on this machine, for the emulator) is allowed")
    if scheme != "https":
        raise _refuse(scheme, host, "only https is allowed")
    if is_loopback_host(host) or host.endswith(".localhost"):
        raise _refuse(scheme, host, "it is this machine")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return host, port
    if _unsafe(str(literal)):
        raise _refuse(scheme, host, "it is a private, loopback, link-local or reserved address")
    return host, port


def pin(url: str, host: str, port: int, resolver: Resolver) -> Target:
    """The request that fetches ``url`` from an address of ``host`` checked to be public."""
    addresses = list(resolver(host, port))
    if not addresses:
        error = ImageDownloadError(
            f"Could not download the image: the image host {host} does not resolve; check the network."
        )
        error.transient = True  # a name server may fail for a moment; the image is paid for
        raise error
    unsafe = [a for a in addresses if _unsafe(a)]
    if unsafe:
        raise _refuse(
            "https", host, f"it resolves to {unsafe[0]}, a private, loopback, link-local or reserved address"
        )
    address = addresses[0]
    name = f"[{host}]" if ":" in host else host
    parts = urlsplit(url)
    netloc = f"[{address}]" if ":" in address else address
    default = port == 443
    pinned = urlunsplit(("https", netloc if default else f"{netloc}:{port}", parts.path, parts.query, ""))
    return Target(
        pinned,
        host,
        # Connections are pooled by address, and many image hosts share a CDN's addresses: a
        # connection made for one name (its TLS server name) must not carry another's request.
        headers={"Host": name if default else f"{name}:{port}", "Connection": "close"},
        extensions={"sni_hostname": host},
    )


def check_proxied(url: str, host: str, addresses: list[str]) -> Target:
    """The request for ``url`` through a proxy, which resolves ``host`` and connects itself: the
    name is refused if this machine resolves it to a private address, and otherwise goes to the
    proxy as it is (a name this machine cannot resolve is the proxy's to resolve; see
    docs/RELIABILITY.md for what a proxy can and cannot see)."""
    unsafe = [a for a in addresses if _unsafe(a)]
    if unsafe:
        raise _refuse(
            "https", host, f"it resolves to {unsafe[0]}, a private, loopback, link-local or reserved address"
        )
    return Target(url, host)


def redirect_target(url: str, response: httpx.Response, hops: int) -> str:
    """The next hop's URL (checked like the first before it is fetched)."""
    location = response.headers.get("location")
    if not location or hops + 1 >= MAX_REDIRECTS:
        raise ImageDownloadError("The image URL redirected too often or without a target.")
    return str(httpx.URL(url).join(location))


def download_failed(response: httpx.Response, host: str) -> ImageDownloadError:
    if response.status_code >= 500 or response.status_code in (408, 429):
        error = ImageDownloadError(
            f"The image host {host} answered HTTP {response.status_code}; the image was generated, "
            "only its download failed."
        )
        error.transient = True
        return error
    return ImageDownloadError(
        f"The image URL at {host} answered HTTP {response.status_code}: it has probably expired "
        "(image URLs are short-lived); generate the image again."
    )


def download_retry_delay(error: ImageDownloadError, attempt: int, max_retries: int) -> float | None:
    """Seconds before fetching the same image URL again, or None: that costs nothing, unlike
    generating the image again, so only whether it may work counts."""
    if not error.transient or attempt >= max_retries:
        return None
    return min(MAX_DOWNLOAD_DELAY, 0.5 * float(2**attempt))


def refuse_encoded(response: httpx.Response, where: str, download: bool) -> None:
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return
    cls = ImageDownloadError if download else APIResponseError
    raise cls(
        f"{where} answered with a compressed body (Content-Encoding: {encoding[:40]}) although "
        "the client asks for none; it was not read (a compressed answer can hide a huge one)."
    )
