"""A panel opens at once, whatever the live catalog does: it offers what is known without the
network, and the catalog's list of models and a new model's schema follow when they arrive.

The catalog here is a real HTTP server on loopback that holds every answer until the test opens
its gate, so a panel that waited for the catalog could not be made before the gate opens."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from catalog_support import NEW_MODEL, NEW_MODEL_FILE
from jupyter_imagegen import ImageGenPanel, list_models
from jupyter_imagegen.client._catalog import forget
from panel_support import fresh_history, run, until

pytestmark = pytest.mark.usefixtures(fresh_history.__name__)
LISTED = "@cf/acme/listed-only"


class HeldCatalog(ThreadingHTTPServer):
    """The account's model catalog, answering once ``gate`` is set (or with ``status``)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.gate = threading.Event()
        self.status = 200
        self.paths: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HeldCatalog

    def do_GET(self) -> None:
        if self.path.startswith("/__emulator__/"):  # the usage ledger asks what it is: not an emulator
            self.send_error(404)
            return
        self.server.paths.append(self.path)
        self.server.gate.wait(60)  # only keeps a broken test from hanging
        if "/ai/models/search" in self.path:
            body: dict[str, Any] = {"success": True, "result": [{"name": LISTED}, {"name": NEW_MODEL}]}
        else:
            body = {"success": True, "result": NEW_MODEL_FILE["schema"]}
        data = json.dumps(body if self.server.status == 200 else {"success": False}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldCatalog]:
    server = HeldCatalog()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/client/v4")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-for-the-held-catalog")
    forget()
    try:
        yield server
    finally:
        server.gate.set()
        server.shutdown()
        server.server_close()
        forget()


def test_a_panel_opens_before_the_catalog_answers_and_follows_it(catalog: HeldCatalog) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model=NEW_MODEL)  # made while every catalog answer is held
        assert panel.models == [*list_models(), NEW_MODEL]  # what is known without the network
        assert not panel.model_info["known"] and panel.error == ""
        await until(lambda: len(catalog.paths) == 2)  # both reads are under way, unanswered
        catalog.gate.set()
        await until(lambda: LISTED in panel.models and panel.model_info["known"])
        assert panel.models[: len(list_models())] == list_models() and panel.models.count(NEW_MODEL) == 1
        assert "palette" in panel.model_info["parameters"] and panel.error == ""
        panel.close()

    run(scenario())
    assert sorted(path.split("?")[0].rsplit("/", 1)[-1] for path in catalog.paths) == ["schema", "search"]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (500, "the live model catalog answered HTTP 500"),
        (403, "the API token may not read the live model catalog: give it the Workers AI Read permission"),
    ],
)
def test_a_catalog_that_fails_says_so_in_the_panel_and_keeps_what_is_known(
    catalog: HeldCatalog, status: int, reason: str
) -> None:
    catalog.status = status

    async def scenario() -> None:
        panel = ImageGenPanel()
        catalog.gate.set()
        await until(lambda: panel.error != "")
        assert panel.error == f"Listing shipped models only: {reason}."
        assert panel.models == list_models() and "token-for-the-held-catalog" not in panel.error
        panel.close()

    run(scenario())


def test_a_panel_closed_before_the_catalog_answers_takes_the_answer_quietly(catalog: HeldCatalog) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        await until(lambda: len(catalog.paths) == 1)  # the list read is under way
        panel.close()
        catalog.gate.set()
        await until(lambda: not any(t.name == "imagegen-catalog-list" for t in threading.enumerate()))
        await asyncio.sleep(0)  # the answer, handed to the loop before the thread ended, is taken
        assert LISTED in panel.models and panel.comm is None

    run(scenario())  # fails on anything the loop reports (an exception in the callback)
