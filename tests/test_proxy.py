"""Every front end through a real forwarding proxy on 127.0.0.1, as on a network where every
connection must go through one: the API calls and the image downloads, and what the proxy sees.

httpx (like curl) sends loopback addresses through ``HTTP_PROXY`` unless ``NO_PROXY`` names them,
so the emulator on 127.0.0.1 stands for a remote service here; ``NO_PROXY=127.0.0.1`` makes the
same requests go direct.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import jupyter_imagegen
from jupyter_imagegen import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    AsyncClient,
    Client,
    ConfigurationError,
    ImageDownloadError,
    ImageGenPanel,
)
from jupyter_imagegen.emulator import Emulator
from magic_support import ipython_shell
from magic_support import run as run_cell
from panel_support import FrontEnd, run
from proxy_support import ForwardingProxy
from test_hostile_answers import BINARY_MODEL, raw_server, response, trickled_head
from test_hostile_answers import generate as hostile_generate
from test_hostile_answers import options as hostile_options

URL_MODEL = {"model": "openai/gpt-image-1.5", "size": "256x256", "quality": "low"}


@pytest.fixture
def proxy() -> Iterator[ForwardingProxy]:
    with ForwardingProxy() as server:
        yield server


@pytest.fixture
def proxied(
    emulator_env: Emulator, proxy: ForwardingProxy, monkeypatch: pytest.MonkeyPatch
) -> ForwardingProxy:
    """The emulator's environment with HTTP_PROXY pointing at the proxy."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    return proxy


def assert_went_through(proxy: ForwardingProxy, emulator: Emulator, images: int) -> None:
    """Every API call (the catalog's included) and image download the emulator saw came through
    the proxy, and the token shows only in the Authorization header of API calls."""
    api = [entry for entry in proxy.log if "/client/v4/" in entry.line]
    downloads = [entry for entry in proxy.log if entry not in api]
    assert len(api) == len(emulator.requests) and len(proxy.requests("POST")) == images
    assert len(downloads) == len(emulator.file_requests) == images  # the URL model's downloads
    assert all(
        entry.line.split(" ")[1].startswith(f"http://127.0.0.1:{emulator.port}/") for entry in proxy.log
    )
    for entry in proxy.log:
        assert emulator.token not in entry.line
        for name, value in entry.headers:
            if emulator.token in value:
                assert name.lower() == "authorization" and entry in api, (entry.line, name)
    assert all(not any(n.lower() == "authorization" for n, _ in entry.headers) for entry in downloads)
    assert all(
        ("Accept-Encoding", "identity") in entry.headers for entry in proxy.requests("POST") + downloads
    )


@pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])
def test_the_clients_go_through_the_environments_proxy(
    proxied: ForwardingProxy, emulator_env: Emulator, run_async: bool
) -> None:
    if run_async:

        async def scenario() -> None:
            async with AsyncClient() as client:
                await client.generate("a fox", **URL_MODEL)

        asyncio.run(scenario())
    else:
        with Client() as client:
            client.generate("a fox", **URL_MODEL)
    assert_went_through(proxied, emulator_env, 1)


def test_generate_goes_through_the_proxy_and_no_proxy_goes_direct(
    proxied: ForwardingProxy, emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    jupyter_imagegen.generate("a fox", **URL_MODEL)
    assert_went_through(proxied, emulator_env, 1)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    jupyter_imagegen.generate("a heron", **URL_MODEL)
    assert len(proxied.log) == 2 and len(emulator_env.requests) == 2  # the second went direct


def test_imagegen_proxy_beats_the_environment_and_the_keyword_beats_both(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardingProxy() as chosen, ForwardingProxy() as environment, ForwardingProxy() as keyword:
        monkeypatch.setenv("HTTP_PROXY", environment.url)
        monkeypatch.setenv("IMAGEGEN_PROXY", chosen.url)
        with Client() as client:
            client.generate("a fox", **URL_MODEL)
        with Client(proxy=keyword.url) as client:
            client.generate("a heron", **URL_MODEL)
        assert [len(chosen.log), len(environment.log), len(keyword.log)] == [2, 0, 2]


def test_a_proxy_asking_for_credentials_is_one_line_naming_the_setting(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardingProxy(credentials="ada:s3cret") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with Client() as client, pytest.raises(ConfigurationError) as refused:
            client.generate("a fox", **URL_MODEL)
        message = str(refused.value)
        assert "asks for credentials (HTTP 407)" in message and "HTTP_PROXY" in message
        assert "\n" not in message and "Gave up" not in message and len(proxy.log) == 1  # not retried
        monkeypatch.setenv("HTTP_PROXY", f"http://ada:s3cret@127.0.0.1:{proxy.port}")
        with Client() as client:
            client.generate("a fox", **URL_MODEL)
        assert len(emulator_env.requests) == 1 and len(emulator_env.file_requests) == 1


def test_a_proxy_that_refuses_connections_is_named_without_its_password(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: the connection is refused
    monkeypatch.setenv("IMAGEGEN_PROXY", f"http://ada:s3cret@127.0.0.1:{port}")
    with Client(max_retries=0) as client, pytest.raises(APIConnectionError) as refused:
        client.generate("a fox", **URL_MODEL)
    message = str(refused.value)
    assert f"through the proxy http://127.0.0.1:{port} " in message and "IMAGEGEN_PROXY" in message
    assert "s3cret" not in message and "\n" not in message
    assert emulator_env.requests == []


def test_a_panel_job_goes_through_the_proxy(proxied: ForwardingProxy, emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a red fox in snow", params={"size": "256x256", "quality": "low"})
        await panel.wait()
        assert front.states() == ["done"]
        panel.close()

    run(scenario())
    assert_went_through(proxied, emulator_env, 1)


def _command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_imagegen", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_commands_go_through_the_proxy(
    proxied: ForwardingProxy, emulator_env: Emulator, tmp_path: Path
) -> None:
    env = dict(os.environ)
    done = _command(
        "generate", "a fox", "-s", "256x256", "-q", "low", "-o", str(tmp_path / "fox.png"), env=env
    )
    assert done.returncode == 0, done.stderr
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a heron\na boat\n")
    done = _command(
        "batch", str(prompts), "--out", str(tmp_path / "out"), "-s", "256x256", "-q", "low", env=env
    )
    assert done.returncode == 0, done.stderr
    assert_went_through(proxied, emulator_env, 3)


@pytest.mark.slow
def test_a_magic_cell_in_a_real_kernel_goes_through_the_proxy(
    proxied: ForwardingProxy, emulator_env: Emulator, tmp_path: Path
) -> None:
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=dict(os.environ))
    try:
        for code in ("%load_ext jupyter_imagegen", "%%imagegen -s 256x256 -q low\na fox"):
            reply = client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert_went_through(proxied, emulator_env, 1)


# -- hostile answers and image URLs, through the proxy --------------------------------------


def test_trickled_headers_and_compressed_answers_through_the_proxy(
    proxy: ForwardingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attempt's deadline and the refusal of compressed bodies hold through the proxy (it
    passes the headers on as they are)."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    stop = threading.Event()
    with raw_server(trickled_head(stop)) as base:
        try:
            with pytest.raises(APITimeoutError) as info:
                hostile_generate(hostile_options(base, timeout=0.25), BINARY_MODEL, False)
        finally:
            stop.set()
    # This proxy holds an answer's head until it is whole, so the client hears nothing and its
    # read timeout ends the attempt; a proxy that passes bytes on at once meets the deadline.
    assert info.value.phase in ("read", "total") and len(proxy.requests("POST")) == 1

    def gzipped(connection: socket.socket, line: str) -> None:
        body = gzip.compress(b'{"result": {"image": "AAAA"}}')
        connection.sendall(
            response("200 OK", {"content-type": "application/json", "content-encoding": "gzip"}, body)
        )

    with raw_server(gzipped) as base, pytest.raises(APIResponseError, match="compressed body"):
        hostile_generate(hostile_options(base, max_retries=0), BINARY_MODEL, True)
    assert len(proxy.requests("POST")) == 2


def test_through_a_proxy_an_image_host_is_checked_and_asked_for_by_name() -> None:
    """Unit test of the check: the proxy connects, so the client refuses a name that resolves to
    a private address and otherwise names the host to the proxy (a pinned address would fail the
    TLS name check at the far end of a CONNECT tunnel)."""
    settings = dict(account_id="a", api_token="t", base_url="https://api.example.test/v4")
    with Client(proxy="http://proxy.example.test:3128", **settings) as client:  # type: ignore[arg-type]
        url = "https://img.example.test/a.png"
        with pytest.raises(ImageDownloadError, match=r"resolves to 10\.0\.0\.5, a private"):
            client._pin(url, ("img.example.test", 443), ["10.0.0.5"])
        target = client._pin(url, ("img.example.test", 443), ["93.184.216.34"])
        assert (target.url, target.headers) == (url, {})
        assert client._pin(url, ("img.example.test", 443), []).url == url  # the proxy resolves it
    with Client(**settings) as direct:  # type: ignore[arg-type]
        assert (
            direct._pin(url, ("img.example.test", 443), ["93.184.216.34"]).url
            == "https://93.184.216.34/a.png"
        )


def test_config_beats_the_environment_and_a_magic_cell_follows_it(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardingProxy() as configured, ForwardingProxy() as environment, ipython_shell() as shell:
        monkeypatch.setenv("IMAGEGEN_PROXY", environment.url)
        run_cell(shell, "%load_ext jupyter_imagegen")
        run_cell(shell, f'%config ImageGenMagics.proxy = "{configured.url}"')
        ran = run_cell(shell, "%%imagegen -s 256x256 -q low\na fox")
        assert ran.error is None, ran.error
        assert (len(configured.requests("POST")), len(environment.log)) == (1, 0)


def test_the_size_cap_holds_through_the_proxy(proxied: ForwardingProxy, emulator_env: Emulator) -> None:
    with Client(max_image_bytes=1000, max_retries=0) as client, pytest.raises(APIResponseError) as over:
        client.generate("a fox", **URL_MODEL)
    assert "over the 1,000 bytes limit" in str(over.value) and len(proxied.requests("POST")) == 1
