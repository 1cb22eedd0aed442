"""https to an emulator whose certificate comes from a test CA (``trustme``), as on a network that
inspects TLS with its own CA: refused in one line by default, accepted once the CA bundle setting
or SSL_CERT_FILE names that CA; and through a proxy's CONNECT tunnel, which sees no token."""

from __future__ import annotations

import ssl
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from jupyter_imagegen import Client, ConfigurationError
from jupyter_imagegen.emulator import Emulator
from proxy_support import ForwardingProxy, TlsFront

FLUX = {"model": "@cf/black-forest-labs/flux-1-schnell"}  # base64 in the answer: no download


@pytest.fixture
def https_base(emulator: Emulator, authority: trustme.CA) -> Iterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    with TlsFront(context, emulator.port) as front:
        yield f"https://localhost:{front.port}/client/v4"


def _client(emulator: Emulator, base_url: str, **settings: object) -> Client:
    return Client(account_id=emulator.account_id, api_token=emulator.token, base_url=base_url, **settings)  # type: ignore[arg-type]


def test_an_untrusted_certificate_is_one_line_naming_the_setting(emulator: Emulator, https_base: str) -> None:
    with _client(emulator, https_base) as client, pytest.raises(ConfigurationError) as refused:
        client.generate("a fox", **FLUX)
    message = str(refused.value)
    assert "TLS certificate of" in message and "is not trusted" in message
    assert "IMAGEGEN_CA_BUNDLE" in message and "\n" not in message and "Gave up" not in message
    assert emulator.requests == []


def test_the_ca_bundle_setting_trusts_the_test_ca(emulator: Emulator, https_base: str, ca_file: str) -> None:
    with _client(emulator, https_base, ca_bundle=ca_file) as client:
        image = client.generate("a fox", **FLUX)
    assert image.mime_type.startswith("image/") and len(emulator.requests) == 1


@pytest.mark.parametrize("variable", ["IMAGEGEN_CA_BUNDLE", "SSL_CERT_FILE"])
def test_the_environment_names_the_ca_bundle(
    emulator: Emulator, https_base: str, ca_file: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, ca_file)
    with _client(emulator, https_base) as client:
        client.generate("a fox", **FLUX)
    assert len(emulator.requests) == 1


def test_a_ca_bundle_that_does_not_exist_is_refused_before_any_request(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.pem"
    monkeypatch.setenv("IMAGEGEN_CA_BUNDLE", str(missing))
    with pytest.raises(ConfigurationError) as refused:
        _client(emulator, emulator.base_url)
    assert str(refused.value).startswith(f"IMAGEGEN_CA_BUNDLE points at {missing}, which does not exist")
    monkeypatch.delenv("IMAGEGEN_CA_BUNDLE")
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    with pytest.raises(ConfigurationError, match=r"^SSL_CERT_FILE points at .*, which does not exist"):
        _client(emulator, emulator.base_url)
    assert emulator.requests == []


def test_https_through_a_proxy_tunnel_shows_the_proxy_no_token(
    emulator: Emulator, https_base: str, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardingProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with _client(emulator, https_base, ca_bundle=ca_file) as client:
            client.generate("a fox", **FLUX)
    assert [entry.line.split(" ")[:2] for entry in proxy.log] == [["CONNECT", https_base.split("/")[2]]]
    assert all(emulator.token not in value for entry in proxy.log for _, value in entry.headers)
    assert len(emulator.requests) == 1


def test_http2_on_request_works_and_without_h2_says_what_to_install(
    emulator: Emulator, https_base: str, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _client(emulator, https_base, ca_bundle=ca_file, http2=True) as client:
        client.generate("a fox", **FLUX)  # the emulator speaks HTTP/1.1: ALPN settles on it
    assert len(emulator.requests) == 1
    monkeypatch.setitem(sys.modules, "h2", None)  # as if the extra were not installed
    monkeypatch.setenv("IMAGEGEN_HTTP2", "1")
    with pytest.raises(
        ConfigurationError, match=r"needs the h2 package: pip install 'jupyter-imagegen\[http2\]'"
    ):
        _client(emulator, https_base)
