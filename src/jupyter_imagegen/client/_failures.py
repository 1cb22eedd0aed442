"""The errors a request ends with when the wire fails it, built without I/O.

Transport failures and timeouts named by the phase that ran out, the size cap on an answer, the
attempt count on the error that ends a retried request, and the API token scrubbed from every text
an error carries. Both clients reach these through :class:`BaseClient`, which supplies the settings.
"""

from __future__ import annotations

import math
import time

import httpx

from .._exceptions import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    ImageDownloadError,
    ImageGenError,
)
from ._network import Route
from ._redact import redact

__all__ = [
    "attempt_budget",
    "certificate_refused",
    "check_size",
    "download_transport_error",
    "note_attempts",
    "proxy_refused",
    "scrub",
    "total_timeout",
    "transport_error",
]

_TIMEOUT_PHASES = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


def attempt_budget(timeout: httpx.Timeout) -> float:
    """Seconds one attempt may take in all: the sum of its phase timeouts. The read timeout
    alone bounds only each wait, so a server that trickles bytes could otherwise hold a
    request open for ever."""
    phases = (timeout.connect, timeout.read, timeout.write, timeout.pool)
    return sum(seconds for seconds in phases if seconds is not None) or math.inf


def proxy_refused(route: Route, where: str, reason: str) -> APIConnectionError | ConfigurationError:
    """The proxy ``route`` would not carry a request to ``where``: a 407 (credentials) or a
    refused connection, in one line naming the setting to change."""
    if reason.startswith("407"):
        return ConfigurationError(
            f"The proxy {route.shown} asks for credentials (HTTP 407) to reach {where}: put them in "
            f"the proxy URL (http://user:password@host:port) in {route.setting}."
        )
    return APIConnectionError(
        f"Could not go through the proxy {route.shown} to {where}: {reason}; check {route.setting}, "
        "or name the host in NO_PROXY to connect directly."
    )


def certificate_refused(where: str, ca_setting: str) -> ConfigurationError:
    return ConfigurationError(
        f"The TLS certificate of {where} is not trusted by {ca_setting}; if your network inspects "
        "TLS, set IMAGEGEN_CA_BUNDLE (or SSL_CERT_FILE) to its CA certificate file."
    )


def transport_error(
    exc: httpx.HTTPError,
    where: str,
    deadline: float,
    budget: float,
    route: Route | None = None,
    ca_setting: str = "",
) -> APIConnectionError | ConfigurationError:
    """What the HTTP library's ``exc`` means for a request to ``where`` whose attempt had
    ``budget`` seconds, ending at ``deadline`` (monotonic), sent through ``route``'s proxy if any."""
    if time.monotonic() >= deadline:
        return total_timeout(where, budget)
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return certificate_refused(where, ca_setting or "the CA bundle in use")
    if route is not None and isinstance(exc, (httpx.ProxyError, httpx.ConnectError)):
        reason = str(exc).rstrip().rstrip(".") or "connection failed"
        if isinstance(exc, httpx.ConnectError):
            reason = f"connection failed ({reason})"
        return proxy_refused(route, where, reason)
    phase = next((p for cls, p in _TIMEOUT_PHASES.items() if isinstance(exc, cls)), None)
    if phase is not None:
        return APITimeoutError(
            f"No answer from {where} within the {phase} timeout ({type(exc).__name__}); "
            "raise timeout= or IMAGEGEN_TIMEOUT if high-quality images need longer.",
            phase=phase,
        )
    if isinstance(exc, (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL)):
        # The library's text can quote a header value, and a header value can be the token.
        return APIConnectionError(
            f"Could not send the request to {where}: the HTTP library refused it as malformed "
            f"({type(exc).__name__}); check the settings and gateway options."
        )
    reason = str(exc).rstrip().rstrip(".") or "connection failed"
    return APIConnectionError(
        f"Could not talk to {where}: {type(exc).__name__}: {reason}. "
        "Check the network (or that the emulator is running)."
    )


def total_timeout(where: str, budget: float) -> APITimeoutError:
    return APITimeoutError(
        f"The answer from {where} was still arriving after "
        f"{budget:g} s (the sum of the timeouts) and was abandoned; "
        "raise timeout= or IMAGEGEN_TIMEOUT if the connection is that slow.",
        phase="total",
    )


def download_transport_error(cause: APIConnectionError | ConfigurationError) -> ImageGenError:
    """``cause``, a transport error of the image host, as a download failure worth retrying (a
    setting to change stays what it is)."""
    if isinstance(cause, ConfigurationError):
        return cause
    error = ImageDownloadError(
        f"{cause.message.removesuffix(' Check the network (or that the emulator is running).')} "
        "The image was generated; only its download failed."
    )
    error.transient = True
    return error


def check_size(cap: int, declared: str | None, received: int) -> None:
    """Raise once an answer is over ``cap`` bytes, by its Content-Length or by what arrived."""
    size = received if declared is None or not declared.isdigit() else max(int(declared), received)
    if size > cap:
        limit = f"{cap / 1024**2:g} MB" if cap % 1024**2 == 0 else f"{cap:,} bytes"
        raise APIResponseError(
            f"The answer is over the {limit} limit ({size:,} bytes) and was not read; "
            "raise max_image_bytes if that is expected."
        )


def note_attempts(error: ImageGenError, attempts: int) -> None:
    """Make the error that ends a request say how often it was tried, if more than once."""
    if attempts > 1:
        error.message = f"{error.message} (Gave up after {attempts} attempts.)"
        error.args = (error.message, *error.args[1:])


def scrub(error: ImageGenError, token: str) -> ImageGenError:
    """The same error with ``token`` removed from every text it carries."""
    if not token:
        return error
    error.message = redact(error.message, token)
    error.args = tuple(redact(a, token) if isinstance(a, str) else a for a in error.args)
    if isinstance(error, APIStatusError) and error.service_message:
        error.service_message = redact(error.service_message, token)
    if isinstance(error, (APIStatusError, APIResponseError)) and error.log_id:
        error.log_id = redact(error.log_id, token)
    return error
