"""How the clients reach the network: proxies, the CA bundle and HTTP/2, built only from httpx's
public API (transport constructors and ``mounts=``).

The routes are worked out here rather than left to httpx's ``trust_env``: httpx reads the proxy
variables only when no transport is given, and knowing which proxy a URL goes through lets an
error name the proxy and the setting to change. The rules are httpx's (and curl's): an explicit
proxy (keyword, ``%config`` or ``IMAGEGEN_PROXY``) for every URL, else ``HTTP_PROXY``,
``HTTPS_PROXY`` and ``ALL_PROXY``; ``NO_PROXY`` names the hosts reached directly (``*``: all).
"""

from __future__ import annotations

import importlib
import os
import re
import ssl
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from .._exceptions import ConfigurationError

__all__ = ["DEFAULT_CONNECTIONS", "NETWORK_ENVIRONMENT", "Network", "Route", "pool_limits"]

DEFAULT_CONNECTIONS = 20  # httpx's own default of connections kept alive

# Every environment variable the network settings read (the shared clients are rebuilt when one
# changes); the proxy variables in both cases, as urllib reads them.
NETWORK_ENVIRONMENT = (
    "IMAGEGEN_PROXY",
    "IMAGEGEN_CA_BUNDLE",
    "IMAGEGEN_HTTP2",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    *(f"{name}_PROXY" for name in ("HTTP", "HTTPS", "ALL", "NO")),
    *(f"{name}_proxy" for name in ("http", "https", "all", "no")),
)
_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def pool_limits(connections: int) -> httpx.Limits:
    """A pool that keeps ``connections`` alive between requests and never refuses one over it
    (an image download may briefly need another connection while the answer's is closing)."""
    return httpx.Limits(
        max_connections=max(100, 2 * connections), max_keepalive_connections=connections, keepalive_expiry=5.0
    )


@dataclass(frozen=True)
class Route:
    """The proxy a URL goes through, shown without its credentials, and the setting it came from."""

    proxy: str
    shown: str
    setting: str


def _shown(proxy: str) -> str:
    """The proxy URL without its credentials (a password must never reach a message)."""
    parts = urlsplit(proxy)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}"


def _check_proxy(url: str, setting: str) -> str:
    url = url if "://" in url else f"http://{url}"
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme.lower() not in _PROXY_SCHEMES or not parts.hostname or not port_ok:
        raise ConfigurationError(
            f"{setting} must be a proxy URL such as http://proxy.example.com:3128, got {_shown(url)!r}; "
            "fix or unset it."
        )
    return url


def _host_pattern(host: str) -> str:
    """A ``NO_PROXY`` entry as an httpx mount pattern (curl's rules, as httpx reads them)."""
    if "://" in host:
        return host
    if re.fullmatch(r"[0-9.]+", host) or host.lower() == "localhost":
        return f"all://{host}"
    if ":" in host:
        return f"all://[{host}]"
    return f"all://*{host}"


def _matches(pattern: str, url: httpx.URL) -> bool:
    scheme, _, host = pattern.partition("://")
    if scheme != "all" and scheme != url.scheme:
        return False
    target = url.host.lower()
    host = host.lower().strip("[]").split(":")[0] if not host.startswith("[") else host.lower()[1:-1]
    if not host:
        return True
    if host.startswith("*."):
        return target.endswith(host[1:])
    if host.startswith("*"):
        return target == host[1:] or target.endswith("." + host[1:].lstrip("."))
    return target == host


def _rules(proxy: str | None) -> dict[str, Route | None]:
    """httpx mount patterns and the proxy each goes through (None: direct)."""
    found = urllib.request.getproxies()  # the environment (and the system's, as httpx does)
    routes: dict[str, Route | None] = {}
    if proxy is not None:
        routes["all://"] = Route(proxy, _shown(proxy), "IMAGEGEN_PROXY (or proxy=)")
    else:
        for scheme in ("http", "https", "all"):
            if found.get(scheme):
                setting = f"{scheme.upper()}_PROXY"
                url = _check_proxy(found[scheme], setting)
                routes[f"{scheme}://"] = Route(url, _shown(url), setting)
    for host in (entry.strip() for entry in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if host:
            routes[_host_pattern(host)] = None
    return routes


@dataclass(frozen=True)
class Network:
    """Proxy, CA bundle and HTTP/2, resolved once: keyword beats ``%config`` (the runtime passes
    it as a keyword) beats environment beats default."""

    proxy: str | None = None
    ca_bundle: str | None = None
    http2: bool = False
    # httpx mount patterns and the proxy each goes through (None: direct), read when resolved,
    # as httpx reads the environment when a client is made.
    routes: tuple[tuple[str, Route | None], ...] = ()

    @classmethod
    def resolve(
        cls,
        *,
        proxy: str | None = None,
        ca_bundle: str | None = None,
        http2: bool | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Network:
        source = os.environ if env is None else env
        if proxy:
            proxy = _check_proxy(proxy.strip(), "proxy")
        elif source.get("IMAGEGEN_PROXY", "").strip():
            proxy = _check_proxy(source["IMAGEGEN_PROXY"].strip(), "IMAGEGEN_PROXY")
        ca_bundle = ca_bundle or source.get("IMAGEGEN_CA_BUNDLE", "").strip() or None
        if http2 is None:
            word = source.get("IMAGEGEN_HTTP2", "").strip().lower()
            if word not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
                raise ConfigurationError(f"IMAGEGEN_HTTP2 must be 1 or 0, got {word!r}.")
            http2 = word in ("1", "true", "yes", "on")
        return cls(proxy or None, ca_bundle, bool(http2), tuple(_rules(proxy or None).items()))

    # Routes ------------------------------------------------------------------------------
    def rules(self) -> dict[str, Route | None]:
        return dict(self.routes)

    def route(self, url: str | httpx.URL) -> Route | None:
        """The proxy ``url`` goes through, or None when it goes direct (the most specific rule
        wins, as in httpx: a host rule before a scheme rule before ``all://``)."""
        target = httpx.URL(url)
        rules = self.rules()
        for pattern in sorted(rules, key=lambda p: (-len(p.partition("://")[2]), p.startswith("all"))):
            if _matches(pattern, target):
                return rules[pattern]
        return None

    # Clients -----------------------------------------------------------------------------
    def async_client(
        self, timeout: httpx.Timeout, connections: int, *, http2: bool | None = None
    ) -> httpx.AsyncClient:
        """An httpx client that follows the routes above, with this CA bundle and pool size."""
        context = ssl_context(self.ca_bundle)
        use_http2 = self.http2 if http2 is None else http2
        if use_http2:
            _require_h2()
        limits = pool_limits(connections)

        def transport(route: Route | None) -> httpx.AsyncHTTPTransport:
            proxy = None if route is None else httpx.Proxy(route.proxy)
            return httpx.AsyncHTTPTransport(verify=context, http2=use_http2, limits=limits, proxy=proxy)

        try:
            mounts = {pattern: transport(route) if route else None for pattern, route in self.rules().items()}
            return httpx.AsyncClient(
                transport=transport(None),
                mounts=mounts,
                timeout=timeout,
                follow_redirects=False,
                trust_env=False,  # the routes are above; and no .netrc credentials on image hosts
            )
        except ValueError as exc:  # a proxy scheme httpx cannot use (socks without socksio)
            raise ConfigurationError(
                f"The proxy cannot be used: {exc}; fix IMAGEGEN_PROXY or the *_PROXY variables."
            ) from None


def _require_h2() -> None:
    """httpx checks for h2 only when a client (not a transport) is asked for HTTP/2."""
    try:
        importlib.import_module("h2")
    except ImportError:
        raise ConfigurationError(
            "HTTP/2 (IMAGEGEN_HTTP2=1 or http2=True) needs the h2 package: "
            "pip install 'jupyter-imagegen[http2]', or turn it off."
        ) from None


def ca_source(ca_bundle: str | None) -> tuple[str, str | None]:
    """The setting the CA certificates come from, and its path (None: the bundled certifi set)."""
    if ca_bundle:
        return "IMAGEGEN_CA_BUNDLE (or ca_bundle=)", ca_bundle
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if os.environ.get(name):
            return name, os.environ[name]
    return "the bundled certificates (certifi)", None


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying context for the CA bundle in use, made once per bundle: loading one costs tens
    of milliseconds, once per client otherwise (a batch makes one per run)."""
    setting, path = ca_source(ca_bundle)
    if path is not None and not os.path.exists(path):
        raise ConfigurationError(
            f"{setting.split(' ')[0]} points at {path}, which does not exist: give the path of a "
            "PEM file (or folder) of CA certificates, or unset it."
        )
    with _contexts_lock:
        context = _contexts.get(path)
        if context is None:
            try:
                if path is None:
                    context = httpx.create_ssl_context(trust_env=False)
                elif os.path.isdir(path):
                    context = ssl.create_default_context(capath=path)
                else:
                    context = ssl.create_default_context(cafile=path)
            except (ssl.SSLError, OSError) as exc:
                raise ConfigurationError(
                    f"{setting.split(' ')[0]} at {path} holds no usable CA certificate ({exc}); "
                    "give a PEM file of CA certificates."
                ) from None
            _contexts[path] = context
    return context


_contexts: dict[str | None, ssl.SSLContext] = {}
_contexts_lock = threading.Lock()
