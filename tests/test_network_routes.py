"""Unit tests of the routes: which proxy a URL goes through, by httpx's (and curl's) rules for
the proxy variables, and the explicit proxy over them. The requests themselves are tested through
a real proxy in test_proxy.py."""

from __future__ import annotations

import pytest

from jupyter_imagegen import ConfigurationError
from jupyter_imagegen.client._network import Network


def shown(network: Network, url: str) -> str | None:
    route = network.route(url)
    return None if route is None else f"{route.shown} ({route.setting})"


def test_the_standard_variables_by_scheme_and_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://plain.proxy:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://ada:s3cret@secure.proxy:3129")
    monkeypatch.setenv("NO_PROXY", ".internal.example, example.org, 10.1.2.3, localhost")
    network = Network.resolve()
    assert shown(network, "http://api.example.com/x") == "http://plain.proxy:3128 (HTTP_PROXY)"
    assert shown(network, "https://api.example.com/x") == "http://secure.proxy:3129 (HTTPS_PROXY)"
    assert shown(network, "https://a.internal.example/x") is None  # a leading dot: subdomains
    assert shown(network, "https://internal.example/x") is not None
    assert (
        shown(network, "https://example.org/x") is None
        and shown(network, "https://cdn.example.org/x") is None
    )
    assert shown(network, "https://notexample.org/x") is not None
    assert (
        shown(network, "http://10.1.2.3:8787/x") is None and shown(network, "http://localhost:8787/") is None
    )


def test_the_explicit_proxy_covers_every_scheme_and_no_proxy_star_turns_all_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://secure.proxy:3129")
    monkeypatch.setenv("IMAGEGEN_PROXY", "corp.proxy:8080")  # no scheme: http, as curl reads it
    network = Network.resolve()
    assert shown(network, "https://api.example.com/") == "http://corp.proxy:8080 (IMAGEGEN_PROXY (or proxy=))"
    assert shown(Network.resolve(proxy="http://kw.proxy:1"), "http://x.example/") is not None
    monkeypatch.setenv("NO_PROXY", "*")
    assert Network.resolve().routes == ()


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("ftp://proxy.example:21", "IMAGEGEN_PROXY"),
        ("http://ada:s3cret@proxy.example:port", "IMAGEGEN_PROXY"),
    ],
)
def test_a_malformed_proxy_is_named_without_its_password(
    value: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=f"^{name} must be a proxy URL") as refused:
        Network.resolve()
    assert "s3cret" not in str(refused.value) and "\n" not in str(refused.value)


def test_http2_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEGEN_HTTP2", "maybe")
    with pytest.raises(ConfigurationError, match="IMAGEGEN_HTTP2 must be 1 or 0, got 'maybe'"):
        Network.resolve()
    assert Network.resolve(http2=False).http2 is False
