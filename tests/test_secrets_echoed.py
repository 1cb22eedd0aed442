"""A server that echoes the token, in any encoding, into what the package keeps or shows: the
AI Gateway log id (provenance, manifests, notebooks, errors) and the live catalog's names,
descriptions and defaults (the panel's synced model info, ``imagegen models``, files on disk)."""

from __future__ import annotations

import base64
import copy
import json
import socket
from pathlib import Path

import pytest

from catalog_support import NEW_MODEL, NEW_MODEL_FILE
from fault_support import TOKEN, Scan, forms
from jupyter_imagegen import Client, ImageGenError, batch
from jupyter_imagegen.cli import main
from jupyter_imagegen.client._redact import redact
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_state import model_info
from jupyter_imagegen.runtime import get_runtime, model_spec
from test_hostile_answers import png, raw_server, response

ECHOES = [*forms(TOKEN), TOKEN[11:23]]


def echoing_server(log_ids: list[str], *, status: str = "200 OK"):  # type: ignore[no-untyped-def]
    """A service whose every answer carries the next of ``log_ids`` as its log id."""
    pending = iter(log_ids * 10)
    image = base64.b64encode(png()).decode()

    def handler(connection: socket.socket, request_line: str) -> None:
        body = json.dumps({"success": status.startswith("200"), "result": {"image": image}}).encode()
        headers = {"content-type": "application/json", "cf-aig-log-id": f"01J-{next(pending)}-end"}
        connection.sendall(response(status, headers, body))

    return raw_server(handler)


def test_redact_masks_every_form_and_keeps_other_text() -> None:
    for form in ECHOES:
        assert redact(f"id {form} here", TOKEN) == "id *** here"
    assert redact("01J8ZK3 a plain id", TOKEN) == "01J8ZK3 a plain id"
    assert redact("anything", "") == "anything"


def test_a_log_id_that_echoes_the_token_is_masked_everywhere_it_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = Scan()
    with echoing_server(ECHOES) as base:
        settings = dict(account_id="acc", api_token=TOKEN, base_url=f"{base}/client/v4", max_retries=0)
        with Client(**settings) as client:
            for form in ECHOES:
                image = client.generate(f"a fox {form[:3]}", model="openai/gpt-image-1.5", size="256x256")
                assert image.log_id is not None and "***" in image.log_id
                scan.add("log id", image.log_id)
                scan.add("provenance", image.to_json_metadata())
                scan.add("display", image._repr_mimebundle_()[1])
                image.save(tmp_path / "saved" / f"fox-{len(scan.items)}.png")
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acc")
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"{base}/client/v4")
        done = batch(["a heron", "an owl"], tmp_path / "batch", rpm=60_000, progress=False, size="256x256")
        assert done.ok, done.summary()
    scan.files(tmp_path)
    scan.assert_clean("echoed log id")


def test_an_error_whose_log_id_echoes_the_token_is_masked() -> None:
    with echoing_server([TOKEN], status="500 Internal Server Error") as base:
        settings = dict(account_id="acc", api_token=TOKEN, base_url=f"{base}/client/v4", max_retries=0)
        with Client(**settings) as client, pytest.raises(ImageGenError) as info:
            client.generate("a fox", model="openai/gpt-image-1.5", size="256x256")
    assert getattr(info.value, "log_id", None) == "01J-***-end"


def test_a_catalog_that_echoes_the_token_keeps_it_out_of_the_panel_the_command_and_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = copy.deepcopy(NEW_MODEL_FILE)
    fields = model["schema"]["input"]["properties"]
    model["description"] = f"made for {TOKEN}"
    fields["prompt"]["description"] = "what to draw, " + " ".join(ECHOES)
    fields["palette"]["enum"].append(base64.b64encode(b"\0" + TOKEN.encode()).decode())
    fields["palette"]["default"] = TOKEN
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "echo.json").write_text(json.dumps(model), encoding="utf-8")
    scan = Scan()
    with Emulator(token=TOKEN, models_dir=folder) as emulator:
        for name, value in emulator.env.items():
            monkeypatch.setenv(name, value)
        model_spec(get_runtime(), NEW_MODEL)  # the panel reads a new model's schema first
        info = model_info(NEW_MODEL)
        assert "palette" in info["parameters"]
        scan.add("model_info trait", info)
        assert main(["models"]) == 0
        scan.add("imagegen models", capsys.readouterr().out)
    catalog = tmp_path / "cache-catalog"  # beside the test's cache folder
    assert any(catalog.rglob("schema-*.json")), "the schema was not saved"
    scan.files(catalog)
    scan.assert_clean("echoed catalog")
