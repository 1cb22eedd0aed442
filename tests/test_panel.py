"""The control panel against the emulator, driven the way its front end drives it: state updates
and custom messages through ipywidgets' message handler, on a running event loop (as in a
kernel). Generation, cancelling, queueing, model switching and validation."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_state import HISTORY
from panel_support import FrontEnd, api_requests, fresh_history, run, until

pytestmark = pytest.mark.usefixtures(fresh_history.__name__)


def test_generate_from_the_front_end_shows_the_image(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a red fox in snow", params={"size": "256x256", "quality": "low"}, variations=2)
        assert front.states() == ["queued", "queued"]  # returned at once: nothing blocked
        await panel.wait()
        assert front.states() == ["done", "done"]
        assert [item["prompt"] for item in panel.gallery] == ["a red fox in snow"] * 2
        assert sorted(item["variation"] for item in panel.gallery) == [0, 1]
        item = panel.gallery[0]
        assert item["thumb"][:3] == b"\xff\xd8\xff" and item["thumb_mime"] == "image/jpeg"
        assert item["params"] == {"size": "256x256", "quality": "low"}
        assert [image.prompt for image in panel.images] == ["a red fox in snow"] * 2
        panel.close()

    run(scenario())
    bodies = [r.json for r in api_requests(emulator_env)]
    assert len(bodies) == 2
    assert all(b["model"] == "openai/gpt-image-1.5" and b["input"]["size"] == "256x256" for b in bodies)


def test_thumbnails_travel_as_binary_buffers_not_base64(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a blue square", params={"size": "256x256"})
        await panel.wait()
        [(message, [thumb])] = front.replies("gallery")
        assert thumb.startswith(b"\xff\xd8\xff")
        assert "thumb" not in message["items"][0]  # a buffer, not base64 inlined in the JSON
        _, _, buffers = front.saved_state()
        assert buffers == []  # the gallery lives in the kernel, not in the saved widget state
        panel.close()

    run(scenario())


def test_generate_is_disabled_with_the_reason_while_the_form_is_invalid(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        assert panel.validity["valid"] is False
        assert "prompt is empty" in panel.validity["reason"]
        assert panel.validity["blank"] is True  # the front end says nothing of it until Generate
        front.set(prompt="a fox", params={"size": "13x13"})
        assert panel.validity["valid"] is False
        assert "size" in panel.validity["reason"] and "1024x1024" in panel.validity["reason"]
        front.send({"type": "generate"})  # Ctrl+Enter does not look at the button
        assert panel.jobs == []
        front.set(params={"size": "512x512"}, variations=9)
        assert panel.validity == {"valid": False, "reason": "Variations must be 1 to 8, got 9."}
        front.set(variations=8)  # exactly the cap is allowed
        assert panel.validity == {"valid": True, "reason": ""}
        front.set(variations=1)
        assert panel.validity == {"valid": True, "reason": ""}
        assert panel.error == ""
        panel.close()

    run(scenario())
    assert api_requests(emulator_env) == []


def test_switching_the_model_rebuilds_the_controls(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(prompt="a fox")
        front = FrontEnd(panel)
        assert set(panel.model_info["parameters"]) == {"quality", "size", "style"}
        assert panel.model_info["edits"] is True
        front.set(params={"quality": "low", "size": "256x256"})
        front.set(model="openai/gpt-image-2")  # 256x256 is not a gpt-image-2 size: back to default
        assert panel.params == {"quality": "low"}
        assert "background" in panel.model_info["parameters"]
        front.set(model="@cf/black-forest-labs/flux-1-schnell")
        assert panel.model_info["parameters"] == {
            "steps": {
                "type": "integer",
                "maximum": 8,
                "description": panel.model_info["parameters"]["steps"]["description"],
            }
        }
        assert panel.model_info["edits"] is False and panel.params == {}
        front.set(model="openai/gpt-image-1.5")  # back: what was set for it returns
        assert panel.params == {"quality": "low", "size": "256x256"}
        front.set(model="@cf/black-forest-labs/flux-1-schnell")
        front.set(model="@cf/stabilityai/stable-diffusion-xl-base-1.0")
        parameters = panel.model_info["parameters"]
        assert parameters["width"]["minimum"] == 256 and parameters["width"]["maximum"] == 2048
        assert (panel.model_info["edits"], panel.model_info["max_images"]) == (True, 1)
        front.generate(params={"width": 512, "height": 512, "num_steps": 4})
        await panel.wait()
        assert front.states() == ["done"]
        assert panel.images[0].model == "@cf/stabilityai/stable-diffusion-xl-base-1.0"
        assert panel.images[0].params == {"width": 512, "height": 512, "num_steps": 4}
        panel.close()

    run(scenario())


def test_cancel_stops_running_and_queued_requests(emulator_env: Emulator) -> None:
    emulator_env.inject("hang", times=8, seconds=30)

    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a slow fox", params={"size": "256x256"}, variations=6)
        await until(lambda: front.states().count("running") == 4)
        assert front.states().count("queued") == 2  # four at a time, the rest wait their turn
        await until(lambda: len(api_requests(emulator_env)) == 4)
        front.send({"type": "cancel"})
        await panel.wait()
        assert front.states() == ["cancelled"] * 6
        assert panel.gallery == [] and panel.error == ""
        panel.close()

    run(scenario())
    assert len(api_requests(emulator_env)) == 4  # the queued ones never reached the service


def test_closing_the_panel_cancels_its_requests_quietly(emulator_env: Emulator) -> None:
    emulator_env.inject("hang", times=2, seconds=30)

    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a fox", params={"size": "256x256"}, variations=2)
        await until(lambda: front.states() == ["running", "running"])
        panel.close()  # e.g. the cell is re-run or the notebook closed
        await panel.wait()
        assert [job.state for job in panel._runner.jobs] == ["cancelled", "cancelled"]

    run(scenario())


def test_cancel_one_job_leaves_the_others(emulator_env: Emulator) -> None:
    emulator_env.inject("latency", times=2, seconds=1.0)

    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("two foxes", params={"size": "256x256"}, variations=2)
        first = panel.jobs[-1]["id"]
        front.send({"type": "cancel", "job": first})
        await panel.wait()
        by_id = {job["id"]: job["state"] for job in panel.jobs}
        assert by_id.pop(first) == "cancelled"
        assert list(by_id.values()) == ["done"]
        panel.close()

    run(scenario())


def test_several_runs_queue_and_other_work_goes_on(emulator_env: Emulator) -> None:
    emulator_env.inject("latency", times=3, seconds=0.5)

    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("first run", params={"size": "256x256"})
        front.generate("second run", params={"size": "256x256"}, variations=2)
        ticks = 0
        while any(job["state"] in ("queued", "running") for job in panel.jobs):
            ticks += 1  # the loop keeps turning while the panel generates
            await asyncio.sleep(0.01)
        assert ticks > 5
        assert front.states() == ["done", "done", "done"]
        assert [item["prompt"] for item in panel.gallery].count("second run") == 2
        panel.close()

    run(scenario())


def test_generate_again_gives_new_variations_and_copies_find_theirs(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a fox", params={"size": "256x256"})
        await panel.wait()
        front.send({"type": "generate"})
        await panel.wait()
        assert [item["variation"] for item in panel.gallery] == [1, 0]
        assert panel.images[0].data != panel.images[1].data
        assert not any(item["cached"] for item in panel.gallery)
        panel.close()

    run(scenario())
    assert len(api_requests(emulator_env)) == 2


def test_the_disk_cache_is_shared_and_can_be_bypassed(emulator_env: Emulator) -> None:
    from fetch_support import fetch
    from jupyter_imagegen import Client
    from jupyter_imagegen.runtime import ImageCache

    with Client() as client:  # what an identical %%imagegen cell left in the cache
        fetch(client, client.prepare("a cached fox", size="256x256"), ImageCache.default())
    assert len(api_requests(emulator_env)) == 1

    async def scenario() -> None:
        HISTORY.clear()
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a cached fox", params={"size": "256x256"})
        await panel.wait()
        assert panel.jobs[0]["cached"] is True and panel.gallery[0]["cached"] is True
        HISTORY.clear()
        front.generate(use_cache=False)
        await panel.wait()
        assert panel.jobs[0]["cached"] is False
        panel.close()

    run(scenario())
    assert len(api_requests(emulator_env)) == 2


def test_advanced_gateway_options_reach_the_request(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        gateway = dict(panel.gateway, gateway_id="my-gateway", skip_cache=True, cache_ttl=600)
        front.generate("a fox", params={"size": "256x256"}, gateway=gateway)
        await panel.wait()
        assert front.states() == ["done"]
        assert panel.gallery[0]["gateway"]["gateway_id"] == "my-gateway"
        front.set(gateway=dict(gateway, cache_ttl=5))
        assert panel.validity["valid"] is False and "cache_ttl" in panel.validity["reason"]
        front.set(gateway=dict(gateway, cache_ttl=60.5))
        assert "whole number" in panel.validity["reason"]
        panel.close()

    run(scenario())
    headers = api_requests(emulator_env)[0].headers
    assert headers["cf-aig-gateway-id"] == "my-gateway"
    assert headers["cf-aig-skip-cache"] == "true" and headers["cf-aig-cache-ttl"] == "600"


def test_generate_uses_the_prompt_in_its_message_when_the_last_update_is_late(emulator_env: Emulator) -> None:
    """A fast typist: the state update with the last keystrokes arrives after Generate."""

    async def scenario() -> None:
        panel = ImageGenPanel(params={"size": "256x256", "quality": "low"})
        front = FrontEnd(panel)
        front.set(prompt="a fast typist's lighthous")
        front.send({"type": "generate", "prompt": "a fast typist's lighthouse"})
        front.set(prompt="a fast typist's lighthouse")  # the held-back update, now harmless
        await panel.wait()
        assert [item["prompt"] for item in panel.gallery] == ["a fast typist's lighthouse"]
        assert panel.prompt == "a fast typist's lighthouse"
        panel.close()

    run(scenario())
    assert [r.json["input"]["prompt"] for r in api_requests(emulator_env)] == ["a fast typist's lighthouse"]
