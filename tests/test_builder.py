"""The one request builder: what every front end's options become, and its catalog step."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

import jupyter_imagegen as ig
from catalog_support import NEW_MODEL, NEW_MODEL_FILE
from jupyter_imagegen import ImageGenPanel, ImageGenWarning, ValidationError
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.runtime import build_call, build_requests, get_runtime, model_spec
from panel_support import FrontEnd, fresh_history, until  # noqa: F401 (fresh_history: a fixture)
from panel_support import run as run_panel

GPT = "openai/gpt-image-1.5"
FLUX = "@cf/black-forest-labs/flux-1-schnell"


def test_variations_of_each_prompt_in_order_with_defaults_and_typed_texts(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_QUALITY", "medium")
    built = build_requests(
        get_runtime(), ["a fox", "an owl"], model=FLUX, param_texts=["steps=2"], variations=2
    )
    assert [(r.prompt, r.variation) for r in built] == [
        ("a fox", 0),
        ("a fox", 1),
        ("an owl", 0),
        ("an owl", 1),
    ]
    assert all(r.params == {"steps": 2} for r in built)  # flux takes no quality: not filled
    (gpt,) = build_requests(get_runtime(), ["a fox"], model=GPT, gateway={"skip_cache": True})
    assert gpt.params == {"quality": "medium"} and gpt.gateway.skip_cache
    (told,) = build_requests(get_runtime(), ["a fox"], model=GPT, params={"quality": "low"})
    assert told.params == {"quality": "low"}  # an option beats the configured default
    with pytest.raises(ValidationError, match="NAME=VALUE"):
        build_requests(get_runtime(), ["a fox"], model=FLUX, param_texts=["steps"])


def test_a_call_item_splits_into_model_images_gateway_and_parameters(emulator_env: Emulator) -> None:
    request = build_call(
        get_runtime(), {"prompt": "a fox", "variation": 3}, {"model": FLUX, "steps": 2, "gateway_id": "gw"}
    )
    assert (request.model, request.variation, request.params) == (FLUX, 3, {"steps": 2})
    assert request.gateway.gateway_id == "gw"
    with pytest.raises(ValidationError, match="'prompt' key"):
        build_call(get_runtime(), {"model": FLUX}, {})


def test_generate_takes_the_configured_defaults_like_every_front_end(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_QUALITY", "low")
    ig.generate("a fox", size="1024x1024")
    assert emulator_env.requests[-1].json["input"]["quality"] == "low"


@pytest.fixture
def silent_catalog(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A loopback service that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"http://127.0.0.1:{port}/client/v4")
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token")
        yield server


def test_the_catalog_step_has_its_own_time_limit(silent_catalog: socket.socket) -> None:
    spec = model_spec(get_runtime(), NEW_MODEL, wait=0.2)
    assert spec.origin == "unknown"  # built without the catalog's answer, which never came
    silent_catalog.settimeout(30)
    connection, _ = silent_catalog.accept()  # the read was under way all along
    connection.close()
    with pytest.warns(ImageGenWarning, match="sent unchecked"):
        (request,) = build_requests(get_runtime(), ["a fox"], model=NEW_MODEL, params={"any": 1}, wait=0.2)
    assert request.params == {"any": 1}


@pytest.mark.usefixtures("fresh_history")
def test_the_panel_never_waits_on_the_catalog_when_the_model_changes(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario(server: socket.socket) -> None:
        panel = ImageGenPanel()  # made against the emulator; then the catalog falls silent
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"http://127.0.0.1:{server.getsockname()[1]}/client/v4")
        FrontEnd(panel).set(model=NEW_MODEL)  # returns while the catalog has not answered
        assert panel.model == NEW_MODEL and not panel.model_info["known"]
        server.settimeout(30)
        connection, _ = server.accept()  # the read is under way, unanswered
        with connection:
            connection.recv(65536)  # the schema request
            body = json.dumps({"success": True, "result": NEW_MODEL_FILE["schema"]}).encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            connection.sendall(head.encode() + body)
            # The controls follow the answer: had the switch waited for the catalog, the answer
            # would have found nobody listening.
            await until(lambda: panel.model_info["known"])
        assert "palette" in panel.model_info["parameters"]
        panel.close()

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        run_panel(scenario(server))
