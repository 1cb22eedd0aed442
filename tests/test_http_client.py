"""``http_client=``: a user's own httpx client (here one that goes through a proxy and carries
credentials of its own) carries every request, and the package still applies its auth, its
deadline and its size cap, and never sends the user client's credentials anywhere."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from jupyter_imagegen import APIResponseError, AsyncClient, Client
from jupyter_imagegen.emulator import Emulator
from proxy_support import ForwardingProxy

URL_MODEL = {"model": "openai/gpt-image-1.5", "size": "256x256", "quality": "low"}
THEIRS = "Bearer the-users-own-credential"


@pytest.fixture
def proxy() -> Iterator[ForwardingProxy]:
    with ForwardingProxy() as server:
        yield server


def check_log(proxy: ForwardingProxy, emulator: Emulator) -> None:
    posts, gets = proxy.requests("POST"), proxy.requests("GET")
    assert len(posts) == len(emulator.requests) == 1 and len(gets) == len(emulator.file_requests) == 1
    assert ("Authorization", f"Bearer {emulator.token}") in posts[0].headers
    for entry in proxy.log:
        assert all(THEIRS not in value for _, value in entry.headers)  # the user's auth stays theirs
    assert not any(name.lower() == "authorization" for name, _ in gets[0].headers)


@pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])
def test_the_users_client_carries_the_requests_with_the_packages_auth(
    emulator_env: Emulator, proxy: ForwardingProxy, run_async: bool
) -> None:
    if run_async:

        async def scenario() -> None:
            async with httpx.AsyncClient(proxy=proxy.url, headers={"X-Team": "a"}, auth=_Theirs()) as theirs:
                async with AsyncClient(http_client=theirs) as client:
                    await client.generate("a fox", **URL_MODEL)
                assert not theirs.is_closed  # theirs to close

        asyncio.run(scenario())
    else:
        with httpx.Client(proxy=proxy.url, auth=_Theirs()) as theirs:
            with Client(http_client=theirs) as client:
                client.generate("a fox", **URL_MODEL)
            assert not theirs.is_closed
    check_log(proxy, emulator_env)


def test_the_size_cap_holds_with_the_users_client(emulator_env: Emulator) -> None:
    with (
        httpx.Client() as theirs,
        Client(http_client=theirs, max_image_bytes=1000, max_retries=0) as client,
        pytest.raises(APIResponseError, match="over the 1,000 bytes limit"),
    ):
        client.generate("a fox", **URL_MODEL)


def test_a_client_of_the_other_kind_is_refused_with_the_right_one_named() -> None:
    with pytest.raises(TypeError, match=r"an httpx\.AsyncClient goes to AsyncClient"):
        Client(http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    with httpx.Client() as blocking, pytest.raises(TypeError, match=r"an httpx\.Client goes to the blocking"):
        AsyncClient(http_client=blocking)  # type: ignore[arg-type]


class _Theirs(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = THEIRS
        yield request
