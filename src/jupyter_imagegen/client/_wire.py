"""What a transfer's failures mean, for both clients: the attempt's deadline and size cap, the
proxy a URL goes through, and the one-line error each failure of the wire ends with (worded in
:mod:`._failures`)."""

from __future__ import annotations

import time

import httpx

from .._exceptions import APIConnectionError, APITimeoutError, ConfigurationError, ImageGenError
from ._config import Settings
from ._failures import (
    attempt_budget,
    check_size,
    download_transport_error,
    proxy_refused,
    total_timeout,
    transport_error,
)
from ._network import Network, Route, ca_source

__all__ = ["WireFailures"]


class WireFailures:
    """Mixed into :class:`BaseClient`, which sets the attributes below."""

    settings: Settings
    network: Network
    # False when a transport or an httpx client of the caller's decides the routes.
    _own_routes: bool

    def _route(self, url: str | httpx.URL) -> Route | None:
        """The proxy ``url`` goes through (None: direct, or routes the caller's client decides)."""
        return self.network.route(url) if self._own_routes else None

    def _check_proxy_answer(self, response: httpx.Response, where: str) -> None:
        """A plain-http request through a proxy gets the proxy's own 407 as its answer."""
        route = self._route(response.request.url) if response.status_code == 407 else None
        if route is not None:
            raise proxy_refused(route, where, "407 Proxy Authentication Required")

    def _transport_error(
        self, exc: httpx.HTTPError, deadline: float, where: str | None = None
    ) -> APIConnectionError | ConfigurationError:
        url = exc.request.url if _has_request(exc) else self.settings.base_url
        return transport_error(
            exc,
            where or self.settings.base_url,
            deadline,
            self._attempt_budget(),
            route=self._route(url),
            ca_setting=ca_source(self.network.ca_bundle)[0],
        )

    def _download_transport_error(self, exc: httpx.HTTPError, host: str, deadline: float) -> ImageGenError:
        return download_transport_error(self._transport_error(exc, deadline, where=f"the image host {host}"))

    def _total_timeout(self, where: str) -> APITimeoutError:
        return total_timeout(where, self._attempt_budget())

    def _attempt_budget(self) -> float:
        return attempt_budget(self.settings.timeout)

    def _deadline(self) -> float:
        return time.monotonic() + self._attempt_budget()

    def _check_deadline(self, deadline: float, where: str | None = None) -> None:
        if time.monotonic() > deadline:
            raise self._total_timeout(where or self.settings.base_url)

    def _check_size(self, declared: str | None, received: int) -> None:
        check_size(self.settings.max_image_bytes, declared, received)


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request  # noqa: B018 - raises when the error carries no request
    except RuntimeError:
        return False
    return True
