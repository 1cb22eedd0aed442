"""An emulator shared on a classroom network: plain http to another machine only when the user
says so (``IMAGEGEN_ALLOW_PLAIN_HTTP=1``), and then only that machine's own image URLs.

No packet leaves loopback: the "classroom" host is a name that a routing transport sends to the
emulator on 127.0.0.1, keeping the ``Host`` header the client would send on a real network.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from jupyter_imagegen import Client, ConfigurationError, ImageDownloadError
from jupyter_imagegen.client._config import Settings
from jupyter_imagegen.client._imagehost import check_image_url
from jupyter_imagegen.emulator import Emulator

CLASSROOM = "classroom.test"


class ClassroomRouter(httpx.HTTPTransport):
    """Connects requests for the classroom host to the local emulator; records every host asked
    for and refuses any other, so nothing can leave this machine."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self.hosts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        if request.url.host != CLASSROOM:
            raise httpx.ConnectError(f"not the classroom host: {request.url.host}", request=request)
        request.url = request.url.copy_with(host="127.0.0.1")  # the Host header keeps the name
        return super().handle_request(request)


@pytest.fixture
def classroom() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator._http.wildcard = True  # as with --host 0.0.0.0: URLs name the host the client reached
        yield emulator


def classroom_client(emulator: Emulator, router: ClassroomRouter, **settings: object) -> Client:
    return Client(
        transport=router,
        base_url=f"http://{CLASSROOM}:{emulator.port}/client/v4",
        account_id=emulator.account_id,
        api_token=emulator.token,
        max_retries=0,
        **settings,  # type: ignore[arg-type]
    )


def test_plain_http_to_another_machine_is_refused_unless_allowed() -> None:
    url = "http://192.168.1.50:8787/client/v4"
    with pytest.raises(ConfigurationError, match="IMAGEGEN_ALLOW_PLAIN_HTTP=1"):
        Settings.resolve(env={"CLOUDFLARE_BASE_URL": url})
    allowed = Settings.resolve(env={"CLOUDFLARE_BASE_URL": url, "IMAGEGEN_ALLOW_PLAIN_HTTP": "1"})
    assert allowed.base_url == url and allowed.allow_plain_http
    assert Settings.resolve(base_url=url, allow_plain_http=True).allow_plain_http
    with pytest.raises(
        ConfigurationError, match=r"^IMAGEGEN_ALLOW_PLAIN_HTTP must be 1 or 0, got 'maybe'\.$"
    ):
        Settings.resolve(env={"IMAGEGEN_ALLOW_PLAIN_HTTP": "maybe"})


def test_only_the_trusted_service_itself_is_exempt_from_the_image_checks() -> None:
    trusted = ("192.168.1.50", 8787)
    assert (
        check_image_url("http://192.168.1.50:8787/files/a.png", local_service=False, trusted=trusted) is None
    )
    for url in (
        "http://192.168.1.50:9999/files/a.png",  # another port on that machine
        "http://10.0.0.5:8787/files/a.png",  # another machine
        "http://169.254.169.254/latest/meta-data",  # the cloud metadata address
        "https://192.168.1.51/x.png",  # https to another private address
    ):
        with pytest.raises(ImageDownloadError, match="Refusing to download"):
            check_image_url(url, local_service=False, trusted=trusted)


def test_a_classroom_emulator_works_end_to_end_once_allowed(classroom: Emulator) -> None:
    router = ClassroomRouter(classroom.port)
    with pytest.raises(ConfigurationError, match="plain http"):
        classroom_client(classroom, router)
    assert router.hosts == [] and classroom.requests == []  # refused before anything was sent
    with classroom_client(classroom, router, allow_plain_http=True) as client:
        image = client.generate("a lighthouse on a cliff", quality="low", size="256x256")
    assert image.width == 256 and image.data
    assert set(router.hosts) == {CLASSROOM}
    assert len(classroom.requests) == 1  # one paid generation, then the image from the same host


def test_the_allowance_does_not_extend_to_other_hosts(classroom: Emulator) -> None:
    router = ClassroomRouter(classroom.port)
    classroom.inject("redirect_insecure", location="http://10.0.0.5/x.png")
    with (
        classroom_client(classroom, router, allow_plain_http=True) as client,
        pytest.raises(ImageDownloadError, match=r"Refusing to download the image from http://10\.0\.0\.5"),
    ):
        client.generate("a lighthouse on a cliff", quality="low", size="256x256")
    assert "10.0.0.5" not in router.hosts  # refused before connecting
