"""The control panel's inputs, gallery actions, errors and history, driven as its front end
drives it: uploads, "use as input", "reuse settings", originals on demand, errors shown in the
panel, history across panels, ``save`` and keeping the token out of the widget state."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.client._files import read_provenance
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_state import HISTORY
from panel_support import FrontEnd, api_requests, fresh_history, png_bytes, run

pytestmark = pytest.mark.usefixtures(fresh_history.__name__)


def test_edit_with_an_uploaded_image(emulator_env: Emulator) -> None:
    upload = png_bytes()

    async def scenario() -> None:
        panel = ImageGenPanel(prompt="make it blue")
        front = FrontEnd(panel)
        front.send({"type": "add_input", "name": "photo.png"}, [upload])
        assert [item["name"] for item in panel.inputs] == ["photo.png"]
        assert panel.inputs[0]["thumb"][:3] == b"\xff\xd8\xff"
        front.generate(params={"size": "256x256"})
        await panel.wait()
        assert front.states() == ["done"]
        assert panel.gallery[0]["inputs"] == 1
        front.send({"type": "remove_input", "index": 0})
        assert panel.inputs == []
        panel.close()

    run(scenario())
    sent = api_requests(emulator_env)[0].json["input"]["images"]
    assert sent == ["data:image/png;base64," + base64.b64encode(upload).decode("ascii")]


def test_a_bad_upload_or_a_model_that_cannot_edit_is_explained(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(prompt="edit this")
        front = FrontEnd(panel)
        front.send({"type": "add_input", "name": "notes.txt"}, [b"just some text"])
        assert panel.inputs == []
        assert panel.error.startswith("notes.txt: ")
        front.send({"type": "add_input", "name": "photo.png"}, [png_bytes()])
        front.set(model="@cf/black-forest-labs/flux-1-schnell")
        assert panel.validity["valid"] is False
        assert "does not take input images" in panel.validity["reason"]
        panel.close()

    run(scenario())


def test_use_as_input_and_reuse_settings(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        gateway = dict(panel.gateway, gateway_id="gw-1")
        front.generate("a castle", params={"size": "256x256", "style": "natural"}, gateway=gateway)
        await panel.wait()
        made = panel.gallery[0]
        front.set(model="google/imagen-4", prompt="something else", gateway=dict(gateway, gateway_id=""))
        front.send({"type": "reuse", "id": made["id"]})
        assert (panel.model, panel.prompt) == ("openai/gpt-image-1.5", "a castle")
        assert panel.params == {"size": "256x256", "style": "natural"}
        assert panel.gateway["gateway_id"] == "gw-1"
        assert panel.validity["valid"] is True
        front.send({"type": "use_as_input", "id": made["id"]})
        assert [item["name"] for item in panel.inputs] == ["a-castle.png"]
        front.generate("the castle at night")
        await panel.wait()
        assert panel.gallery[0]["inputs"] == 1
        front.send({"type": "reuse", "id": panel.gallery[0]["id"]})  # restores the input too
        assert len(panel.inputs) == 1
        panel.close()

    run(scenario())
    edit = api_requests(emulator_env)[-1].json["input"]
    assert edit["prompt"] == "the castle at night" and len(edit["images"]) == 1


def test_originals_are_sent_on_demand_with_provenance_for_downloads(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a lighthouse", params={"size": "256x256"})
        await panel.wait()
        item_id = panel.gallery[0]["id"]
        assert front.replies("original") == []  # nothing but thumbnails until asked
        front.send({"type": "original", "id": item_id, "request": "r1", "purpose": "view"})
        front.send({"type": "original", "id": item_id, "request": "r2", "purpose": "download"})
        (view, [view_bytes]), (download, [download_bytes]) = front.replies("original")
        assert view == {
            "type": "original",
            "request": "r1",
            "id": item_id,
            "mime": "image/png",
            "filename": "a-lighthouse.png",
        }
        assert view_bytes == panel.images[0].data
        assert download["request"] == "r2"
        saved = tmp_path / download["filename"]
        saved.write_bytes(download_bytes)
        assert read_provenance(saved)["prompt"] == "a lighthouse"
        front.send({"type": "original", "id": "gone", "request": "r3"})
        assert "no longer in the gallery" in panel.error
        panel.close()

    run(scenario())


def test_service_errors_show_per_request_with_the_service_message(emulator_env: Emulator) -> None:
    emulator_env.inject("moderation")

    async def scenario() -> None:
        panel = ImageGenPanel(params={"size": "256x256"})
        front = FrontEnd(panel)
        front.generate("a fox")
        await panel.wait()
        [job] = panel.jobs
        assert job["state"] == "failed"
        assert job["message"] and "moderation" in job["message"].lower()
        front.send({"type": "generate"})  # the next one goes through
        await panel.wait()
        assert [job["state"] for job in panel.jobs] == ["done", "failed"]
        panel.close()

    run(scenario())


def test_missing_credentials_fail_the_request_then_work_once_set(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(params={"size": "256x256"})
        front = FrontEnd(panel)
        front.generate("a fox")
        await panel.wait()
        assert panel.jobs[0]["state"] == "failed"
        assert "CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN not set" in panel.jobs[0]["message"]
        for name, value in emulator.env.items():  # as a user does in a cell, panel still open
            monkeypatch.setenv(name, value)
        front.send({"type": "generate"})
        await panel.wait()
        assert panel.jobs[0]["state"] == "done"
        panel.close()

    run(scenario())


def test_exceptions_in_callbacks_appear_in_the_panel(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.send({"type": "no-such-action"})
        assert "unknown message 'no-such-action'" in panel.error
        front.set(error="")  # the front end's dismiss button
        front.set(variations="many")
        assert "variations" in panel.error and isinstance(panel.last_error, Exception)
        front.set(error="")
        front.send({"type": "reuse", "id": "nope"})
        assert "no longer in the gallery" in panel.error
        panel.close()

    run(scenario())


def test_history_survives_a_new_panel_and_panels_share_it(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        first = ImageGenPanel()
        front = FrontEnd(first)
        front.generate("a heron", params={"size": "256x256"})
        await first.wait()
        second = ImageGenPanel()  # %imagegen --panel again, or the cell re-run
        assert [item["id"] for item in second.gallery] == [item["id"] for item in first.gallery]
        assert second.images[0].data == first.images[0].data
        FrontEnd(second).generate("a crane", params={"size": "256x256"})
        await second.wait()
        assert [item["prompt"] for item in first.gallery] == ["a crane", "a heron"]
        first.close()
        second.close()

    run(scenario())


def test_selected_and_save_with_provenance(emulator_env: Emulator, tmp_path: Path) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a moth", params={"size": "256x256"}, variations=3)
        await panel.wait()
        ids = [item["id"] for item in panel.gallery]
        front.set(selected_ids=[ids[2], ids[0]])
        images = panel.images
        assert [image.data for image in panel.selected] == [images[0].data, images[2].data]
        written = panel.save(tmp_path / "all")
        assert sorted(Path(p).name for p in written) == ["a-moth-2.png", "a-moth-3.png", "a-moth.png"]
        assert all(read_provenance(p)["prompt"] == "a moth" for p in written)
        again = panel.save(tmp_path / "all", selected_only=True)  # never overwrites
        assert len(again) == 2 and not set(again) & set(written)
        HISTORY.clear()
        assert panel.gallery == [] and panel.selected_ids == []
        panel.close()

    run(scenario())


def test_the_token_is_never_in_the_widget_state(emulator_env: Emulator) -> None:
    token = emulator_env.token
    emulator_env.inject("server_error", status=500)

    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a fox", params={"size": "256x256"})
        await panel.wait()
        front.send({"type": "generate"})
        await panel.wait()
        text, _, buffers = front.saved_state()
        assert token not in text and token not in repr(panel)
        assert not any(token.encode() in blob for blob in buffers)
        every_update = json.dumps([dict(u) for u in front.updates], default=repr)
        assert token not in every_update
        assert "api_token" not in panel.keys and "token" not in json.loads(text)
        panel.close()

    run(scenario())


def test_without_a_running_loop_the_reason_is_shown(emulator_env: Emulator) -> None:
    panel = ImageGenPanel(prompt="a fox", params={"size": "256x256"})
    FrontEnd(panel).send({"type": "generate"})
    assert "event loop" in panel.error and panel.jobs == []
    panel.close()
