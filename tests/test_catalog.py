"""The live model catalog over real loopback HTTP: the emulator started with a model folder
introduces a model the package has never seen; every front end then checks it offline, shows its
parameters and generates with it, and a catalog that cannot be read never stops a generation."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from IPython.core.error import UsageError
from PIL import Image

from catalog_support import (
    NEW_MODEL,
    NEW_MODEL_FILE,
    catalog_reads,
    model_calls,
    new_model_emulator,
    write_model_dir,
)
from jupyter_imagegen import Client, ImageGenPanel, ImageGenWarning, ValidationError, get_model, list_models
from jupyter_imagegen.client._catalog import catalog_model, forget
from jupyter_imagegen.client._model_list import models
from jupyter_imagegen.emulator import Emulator
from magic_support import ipython_shell, run
from panel_support import FrontEnd, fresh_history, until  # noqa: F401 (fresh_history: a fixture)
from panel_support import run as run_panel

SMALL = {"steps": 2, "width": 64, "height": 64}


@pytest.fixture(autouse=True)
def _fresh_catalog_memory() -> Iterator[None]:
    forget()
    yield
    forget()


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An emulator that knows one more model than the package, with the environment on it."""
    with new_model_emulator(tmp_path / "models", monkeypatch) as server:
        yield server


# The shipped Workers AI models and the one added from a file.
LISTED = 1 + len([m for m in list_models() if m.startswith("@cf/")])


def _png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


def test_emulator_serves_search_and_schema_in_the_documented_shape(emulator: Emulator) -> None:
    base = f"{emulator.base_url}/accounts/{emulator.account_id}/ai/models"
    auth = {"authorization": f"Bearer {emulator.token}"}
    with httpx.Client(timeout=10) as http:
        pages = [
            http.get(
                f"{base}/search", params={"task": "Text-to-Image", "per_page": 3, "page": p}, headers=auth
            )
            for p in (1, 2, 3, 4)
        ]
        schema = http.get(f"{base}/schema", params={"model": NEW_MODEL}, headers=auth).json()
        unknown = http.get(f"{base}/schema", params={"model": "@cf/nobody/nothing"}, headers=auth)
        denied = http.get(f"{base}/search", headers={"authorization": "Bearer nope"})
    first = pages[0].json()
    assert set(first) == {"success", "errors", "messages", "result", "result_info"}
    assert first["result_info"] == {"count": 3, "page": 1, "per_page": 3, "total_count": LISTED}
    names = [m["name"] for page in pages for m in page.json()["result"]]
    assert len(names) == LISTED and NEW_MODEL in names and all(n.startswith("@cf/") for n in names)
    listed = next(m for page in pages for m in page.json()["result"] if m["name"] == NEW_MODEL)
    assert (
        listed["task"]["name"] == "Text-to-Image" and listed["description"] == NEW_MODEL_FILE["description"]
    )
    assert schema["success"] is True and schema["result"] == NEW_MODEL_FILE["schema"]
    assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (400, 5007)
    assert (denied.status_code, denied.json()["errors"][0]["code"]) == (401, 10000)


def test_the_official_sdk_reads_the_emulated_catalog(emulator: Emulator) -> None:
    cloudflare = pytest.importorskip("cloudflare")
    with cloudflare.Cloudflare(api_token=emulator.token, base_url=emulator.base_url, max_retries=0) as sdk:
        listed = sdk.ai.models.list(account_id=emulator.account_id, task="Text-to-Image", per_page=2)
        names = [model["name"] for model in listed]  # the SDK turns the pages itself
        schema = sdk.ai.models.schema.get(account_id=emulator.account_id, model=NEW_MODEL)
    assert len(names) == LISTED and NEW_MODEL in names
    assert schema.input.additional_properties is False and schema.input.type == "object"


def test_models_reads_every_page_and_merges_with_the_shipped_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Emulator(models_dir=write_model_dir(tmp_path / "models", extra=60)) as emu:
        for name, value in emu.env.items():
            monkeypatch.setenv(name, value)
        found = models(task="Text-to-Image")
        assert catalog_reads(emu, "search") == 2  # 67 models, at most 50 a page
        assert models() == found and catalog_reads(emu, "search") == 2  # kept on disk
        assert models(refresh=True) == found and catalog_reads(emu, "search") == 4
    shipped = list_models()
    assert found[: len(shipped)] == shipped
    assert found[len(shipped) :] == sorted([NEW_MODEL, *(f"@cf/acme/filler-{i:02d}" for i in range(60))])


def test_a_new_model_is_checked_offline_then_generates_end_to_end(emulator: Emulator) -> None:
    with Client() as client:
        for params, hint in [
            ({"stepz": 3}, "did you mean 'steps'?"),
            ({"steps": 9}, "steps: 9 is out of range"),
            ({"palette": "gamebay"}, "did you mean 'gameboy'?"),
        ]:
            with pytest.raises(ValidationError, match=hint):
                client.prepare("a fox", model=NEW_MODEL, **params)
        assert model_calls(emulator) == 0 and catalog_reads(emulator, "schema") == 1
        image = client.generate("a fox", model=NEW_MODEL, palette="cga", **SMALL)
    assert _png_size(image.data) == (64, 64) and image.model == NEW_MODEL
    spec = get_model(NEW_MODEL)
    assert (spec.known, spec.origin, spec.output_kind, spec.hosting) == (True, "catalog", "binary", "hosted")
    forget()  # a new process: get_model reads nothing; the catalog step reads the disk, not the network
    assert get_model(NEW_MODEL).origin == "unknown"
    assert catalog_model(NEW_MODEL).parameters["steps"]["maximum"] == 8
    assert get_model(NEW_MODEL).parameters["steps"]["maximum"] == 8
    assert catalog_reads(emulator, "schema") == 1


def test_the_answers_content_type_corrects_a_vague_output_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vague = "@cf/acme/vague"
    folder = write_model_dir(tmp_path / "models")
    schema = {"input": {"type": "object", "properties": {"prompt": {"type": "string"}}}, "output": {}}
    model_file = {
        "name": vague,
        "schema": schema,
        "output_kind": "binary",
        "binary_content_type": "image/png",
    }
    (folder / "vague.json").write_text(json.dumps(model_file), encoding="utf-8")
    with Emulator(models_dir=folder) as emu:
        for name, value in emu.env.items():
            monkeypatch.setenv(name, value)
        with Client() as client:
            assert (
                client.prepare("a fox", model=vague).spec.output_kind == "base64-json"
            )  # the schema's guess
            image = client.generate("a fox", model=vague)
    assert image.mime_type == "image/png"
    assert (get_model(vague).output_kind, get_model(vague).binary_content_type) == ("binary", "image/png")
    forget()  # a new process remembers what the answer showed (its catalog step reads the disk)
    assert catalog_model(vague).output_kind == "binary"


def test_the_command_line_lists_checks_and_generates_with_the_new_model(
    emulator: Emulator, tmp_path: Path
) -> None:
    def imagegen(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "jupyter_imagegen", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=dict(os.environ))

    listing = imagegen("models")
    line = next(line for line in listing.stdout.splitlines() if line.startswith(NEW_MODEL))
    assert "binary" in line and "steps" in line and "palette" in line and "[catalog]" in line
    helped = imagegen("generate", "--help", "-m", NEW_MODEL)
    assert (
        "steps: integer 1..8 (default 4)" in helped.stdout and "palette: gameboy|pico-8|cga" in helped.stdout
    )
    refused = imagegen("generate", "-m", NEW_MODEL, "-p", "steps=12", "a fox")
    assert refused.returncode == 2 and "steps: 12 is out of range" in refused.stderr
    assert model_calls(emulator) == 0
    made = imagegen(
        "generate",
        "-m",
        NEW_MODEL,
        "-p",
        "steps=2",
        "-p",
        "width=64",
        "-p",
        "height=64",
        "a fox",
        "-o",
        str(tmp_path / "fox.png"),
    )
    assert made.returncode == 0, made.stderr
    assert _png_size((tmp_path / "fox.png").read_bytes()) == (64, 64)
    searches = catalog_reads(emulator, "search")
    assert catalog_reads(emulator, "schema") == 1  # read once, then from disk by every command
    assert imagegen("models", "--refresh").returncode == 0
    assert catalog_reads(emulator, "search") == searches + 1
    assert catalog_reads(emulator, "schema") == 2  # a refresh reads the schemas again too


def test_the_magic_helps_checks_and_generates_with_the_new_model(emulator: Emulator) -> None:
    with ipython_shell() as shell:
        helped = run(shell, "%imagegen?")
        assert f"{NEW_MODEL}: steps: integer 1..8 (default 4)" in helped.stdout
        refused = run(shell, f"%imagegen -m {NEW_MODEL} -p steps=9 a fox")
        assert isinstance(refused.error, UsageError) and "steps: 9 is out of range" in str(refused.error)
        assert model_calls(emulator) == 0
        made = run(shell, f"%imagegen -m {NEW_MODEL} -p steps=2 -p width=64 -p height=64 a fox")
        assert made.error is None and made.pil().size == (64, 64)


@pytest.mark.usefixtures("fresh_history")
def test_the_panel_offers_the_new_model_with_controls_from_its_schema(emulator: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        await until(lambda: NEW_MODEL in panel.models)  # the live list follows the panel
        front = FrontEnd(panel)
        front.set(model=NEW_MODEL)  # the observer does not wait for the catalog: controls follow
        await until(lambda: panel.model_info["known"])
        controls = panel.model_info["parameters"]
        assert controls["steps"] == NEW_MODEL_FILE["schema"]["input"]["properties"]["steps"]
        assert controls["palette"]["enum"] == ["gameboy", "pico-8", "cga"] and panel.model_info["known"]
        front.generate("a fox", params=dict(SMALL))
        await until(lambda: len(panel.gallery) == 1)
        made = panel.images[0]
        assert made.model == NEW_MODEL and (made.width, made.height) == (64, 64)
        panel.close()

    run_panel(scenario())


def test_a_token_without_workers_ai_read_never_blocks_generation(emulator: Emulator) -> None:
    emulator.catalog_readable = False
    with pytest.warns(ImageGenWarning, match="Workers AI Read") as listed:
        assert models() == list_models()
    assert len(listed) == 1
    with pytest.warns(ImageGenWarning) as sent, Client() as client:
        image = client.generate("a fox", model=NEW_MODEL, **SMALL)
    assert _png_size(image.data) == (64, 64)
    (warning,) = sent
    assert "Workers AI Read" in str(warning.message) and "sent unchecked" in str(warning.message)


def test_a_saved_schema_still_checks_when_the_catalog_cannot_be_read_again(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Client() as client:
        client.prepare("a fox", model=NEW_MODEL, steps=2)
    monkeypatch.setenv("IMAGEGEN_CATALOG_TTL", "0")  # the saved schema is now stale
    emulator.catalog_readable = False
    forget()
    with (
        pytest.warns(ImageGenWarning, match="saved schema.*Workers AI Read"),
        Client() as client,
        pytest.raises(ValidationError, match="steps: 9 is out of range"),
    ):
        client.prepare("a fox", model=NEW_MODEL, steps=9)
    assert catalog_reads(emulator, "schema") == 2


def test_an_unreachable_catalog_falls_back_with_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"http://127.0.0.1:{port}/client/v4")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token")
    with pytest.warns(ImageGenWarning, match="could not be reached") as listed:
        assert models() == list_models()
    assert len(listed) == 1
    with (
        pytest.warns(ImageGenWarning, match="could not be reached.*sent unchecked") as prepared,
        Client() as client,
    ):
        request = client.prepare("a fox", model=NEW_MODEL, anything=1)
    assert len(prepared) == 1 and request.params == {"anything": 1}


def test_the_emulator_command_takes_a_model_folder_and_names_a_bad_file(tmp_path: Path) -> None:
    folder = write_model_dir(tmp_path / "models")
    command = [
        sys.executable,
        "-m",
        "jupyter_imagegen.emulator",
        "--port",
        "0",
        "--quiet",
        "--models",
        str(folder),
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert server.stdout is not None
        base = next(line.split()[-1] for line in server.stdout if "API base URL" in line)
        url = f"{base}/accounts/emulator-account/ai/models/schema"
        answer = httpx.get(
            url, params={"model": NEW_MODEL}, headers={"authorization": "Bearer emulator-token"}
        )
        assert answer.json()["result"]["output"]["contentType"] == "image/png"
    finally:
        server.terminate()
        server.wait(timeout=30)
    (folder / "broken.json").write_text('{"name": "@cf/acme/broken", "input": {"properties": {}}}')
    refused = subprocess.run(
        [*command[:-2], "--models", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and "broken.json" in refused.stderr and "prompt" in refused.stderr
