"""HTTP/2 on request, against a real HTTP/2 server (Hypercorn over TLS on loopback, offering h2 by
ALPN): the server's own record of each request's HTTP version shows what was negotiated, for the
blocking and async clients, the runtime that every front end shares and a magic cell; with
HTTP/2 off the same server sees HTTP/1.1, and image downloads stay on HTTP/1.1 either way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import trustme

import jupyter_imagegen as ig
from http2_support import FLUX, GPT_IMAGE, IMAGE_PATH, JPEG, PNG, Http2Server
from jupyter_imagegen import AsyncClient, Client
from jupyter_imagegen.runtime import get_runtime
from magic_support import ipython_shell, run
from proxy_support import ForwardingProxy


@pytest.fixture
def server(authority: trustme.CA) -> Iterator[Http2Server]:
    with Http2Server(authority) as running:
        yield running


def _settings(server: Http2Server, ca_file: str, http2: bool) -> dict[str, object]:
    return {
        "account_id": server.account_id,
        "api_token": server.api_token,
        "base_url": server.base_url,
        "ca_bundle": ca_file,
        "http2": http2,
    }


@pytest.mark.parametrize(("http2", "version"), [(True, "2"), (False, "1.1")])
def test_the_client_speaks_http2_when_asked_and_http11_otherwise(
    server: Http2Server, ca_file: str, http2: bool, version: str
) -> None:
    with Client(**_settings(server, ca_file, http2)) as client:  # type: ignore[arg-type]
        image = client.generate("a fox", model=FLUX)
    assert image.data == JPEG and image.mime_type == "image/jpeg"
    assert [(r.method, r.path, r.http_version) for r in server.requests] == [
        ("POST", server.run_path(FLUX), version)
    ]


@pytest.mark.parametrize(("http2", "version", "connections"), [(True, "2", 1), (False, "1.1", 4)])
def test_concurrent_requests_share_one_http2_connection(
    authority: trustme.CA, ca_file: str, http2: bool, version: str, connections: int
) -> None:
    async def generate_four() -> ig.GenerationResults:
        async with AsyncClient(**_settings(server, ca_file, http2)) as client:  # type: ignore[arg-type]
            return await client.generate_many([f"fox {n}" for n in range(4)], concurrency=4, model=FLUX)

    # The server holds each answer until all four are in flight: they overlap for certain.
    with Http2Server(authority, answer_together=4) as server:
        results = asyncio.run(generate_four())
    assert results.ok and [image.data for image in results.images] == [JPEG] * 4
    assert server.most_in_flight == 4
    seen = server.requests
    assert [r.http_version for r in seen] == [version] * 4
    assert len({r.client_port for r in seen}) == connections


def _environment(server: Http2Server, ca_file: str, http2: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "CLOUDFLARE_ACCOUNT_ID": server.account_id,
        "CLOUDFLARE_API_TOKEN": server.api_token,
        "CLOUDFLARE_BASE_URL": server.base_url,
        "IMAGEGEN_CA_BUNDLE": ca_file,
        "IMAGEGEN_HTTP2": http2,
    }.items():
        monkeypatch.setenv(name, value)


def test_the_environment_turns_http2_on_for_the_runtime(
    server: Http2Server, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(server, ca_file, "1", monkeypatch)
    try:
        image = ig.generate("a fox", model=FLUX)
    finally:
        get_runtime().close()  # before the server stops: it waits for open connections
    assert image.data == JPEG
    assert [(r.path, r.http_version) for r in server.requests] == [(server.run_path(FLUX), "2")]


def test_config_turns_http2_on_for_a_magic_cell_over_the_environment(
    server: Http2Server, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(server, ca_file, "0", monkeypatch)
    with ipython_shell() as shell:
        try:
            run(shell, "%config ImageGenMagics.http2 = True")
            ran = run(shell, f"%%imagegen -m {FLUX}\na fox")
        finally:
            get_runtime().close()
    assert ran.error is None, ran.error
    assert len(ran.images) == 1
    assert [(r.path, r.http_version) for r in server.requests] == [(server.run_path(FLUX), "2")]


def test_an_image_url_is_downloaded_over_http11_while_the_api_call_is_http2(
    server: Http2Server, ca_file: str
) -> None:
    with Client(**_settings(server, ca_file, True)) as client:  # type: ignore[arg-type]
        image = client.generate("a fox", model=GPT_IMAGE)
    assert image.data == PNG
    assert [(r.method, r.path, r.http_version) for r in server.requests] == [
        ("POST", server.run_path(), "2"),
        ("GET", IMAGE_PATH, "1.1"),
    ]


def test_http2_goes_through_a_proxys_tunnel(server: Http2Server, ca_file: str) -> None:
    """On a company network: the proxy carries a CONNECT tunnel, and TLS inside it still
    negotiates HTTP/2 with the service (the proxy sees the host and port, never the request)."""
    with ForwardingProxy() as proxy:
        with Client(**_settings(server, ca_file, True), proxy=proxy.url) as client:  # type: ignore[arg-type]
            image = client.generate("a fox", model=FLUX)
        tunnels = [entry.line for entry in proxy.requests("CONNECT")]
    assert image.data == JPEG
    assert [(r.path, r.http_version) for r in server.requests] == [(server.run_path(FLUX), "2")]
    port = server.base_url.split(":")[2].split("/")[0]
    assert tunnels == [f"CONNECT 127.0.0.1:{port} HTTP/1.1"]
