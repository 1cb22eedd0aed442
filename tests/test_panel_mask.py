"""The control panel's mask, driven as its front end drives it: an inpainting model gets the input
image and the mask on the wire, a model that takes no mask hides and drops it (and gets it back
on switching back), bad masks are one line before any request, "reuse settings" restores it, and
its bytes stay in the kernel (never in the widget state a notebook saves)."""

from __future__ import annotations

import base64

import pytest

from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_state import model_info
from panel_support import FrontEnd, api_requests, fresh_history, png_bytes, run

pytestmark = pytest.mark.usefixtures(fresh_history.__name__)
INPAINTING = "@cf/runwayml/stable-diffusion-v1-5-inpainting"
SIZE = {"width": 256, "height": 256}


def test_which_models_offer_a_mask_upload() -> None:
    assert model_info(INPAINTING)["mask"] == "upload"
    assert model_info("bria/fibo-edit-1.5")["mask"] == "upload"
    assert model_info("xai/grok-imagine-image")["mask"] == "url"  # URLs only: from Python
    assert model_info("openai/gpt-image-1.5")["mask"] is None


def test_inpainting_sends_the_image_and_the_mask_and_keeps_the_mask_out_of_the_saved_state(
    emulator_env: Emulator,
) -> None:
    photo, mask = png_bytes((64, 64), "orange"), png_bytes((64, 64), "white")

    async def scenario() -> None:
        panel = ImageGenPanel(model=INPAINTING, params=SIZE)
        front = FrontEnd(panel)
        front.send({"type": "add_input", "name": "photo.png"}, [photo])
        front.send({"type": "set_mask", "name": "mask.png"}, [mask])
        assert panel.mask["name"] == "mask.png" and panel.mask["size"] == len(mask)
        assert panel.mask["thumb"][:3] == b"\xff\xd8\xff"  # a small preview, not the upload
        front.generate("a red door")
        await panel.wait()
        assert front.states() == ["done"] and panel.error == ""
        assert panel.gallery[0]["mask"] is True and panel.gallery[0]["inputs"] == 1
        state, _paths, buffers = front.saved_state()
        assert all(mask not in buffer for buffer in buffers)
        assert base64.b64encode(mask).decode() not in state and str(list(mask[:64]))[1:-1] not in state
        front.send({"type": "remove_mask"})
        assert panel.mask == {}
        panel.close()

    run(scenario())
    (sent,) = api_requests(emulator_env)
    assert sent.json["mask"] == list(mask)
    assert base64.b64decode(sent.json["image_b64"]) == photo


def test_a_model_without_a_mask_drops_it_and_switching_back_brings_it_back(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model=INPAINTING, prompt="a red door", params=SIZE)
        front = FrontEnd(panel)
        front.send({"type": "add_input", "name": "photo.png"}, [png_bytes()])
        front.send({"type": "set_mask", "name": "mask.png"}, [png_bytes(color="white")])
        front.set(model="openai/gpt-image-1.5")
        assert panel.mask == {} and panel.model_info["mask"] is None
        assert panel.validity["valid"] is True, panel.validity  # no mask is sent to it
        front.send({"type": "set_mask", "name": "mask.png"}, [png_bytes()])  # a stale page
        assert panel.error == "openai/gpt-image-1.5 takes no mask; choose a model that does (inpainting)."
        assert panel.mask == {}
        front.set(model=INPAINTING)
        assert panel.mask["name"] == "mask.png" and panel.validity["valid"] is True
        front.set(model="@cf/bytedance/stable-diffusion-xl-lightning")  # also takes one: carried over
        assert panel.mask["name"] == "mask.png"
        front.set(model="xai/grok-imagine-image")  # URLs only: no upload to carry
        assert panel.mask == {}
        panel.close()

    run(scenario())
    assert api_requests(emulator_env) == []


def test_bad_masks_are_one_line_before_any_request(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model=INPAINTING, prompt="a red door", params=SIZE)
        front = FrontEnd(panel)
        front.send({"type": "set_mask", "name": "notes.txt"}, [b"just some text"])
        assert panel.mask == {}
        assert panel.error.startswith("Mask notes.txt: ") and "not a PNG, JPEG" in panel.error
        front.send({"type": "set_mask", "name": "mask.png"}, [png_bytes()])
        assert panel.validity["valid"] is False
        assert panel.validity["reason"].startswith("A mask marks what to repaint in an input image")
        front.send({"type": "generate"})
        assert panel.jobs == []
        front.send({"type": "add_input", "name": "photo.png"}, [png_bytes()])
        assert panel.validity == {"valid": True, "reason": ""}
        panel.close()

    run(scenario())
    assert api_requests(emulator_env) == []


def test_reuse_settings_restores_the_mask_and_an_image_without_one_clears_it(emulator_env: Emulator) -> None:
    mask = png_bytes((64, 64), "white")

    async def scenario() -> None:
        panel = ImageGenPanel(model=INPAINTING, params=SIZE)
        front = FrontEnd(panel)
        front.generate("a plain door")
        await panel.wait()
        plain = panel.gallery[0]
        assert plain["mask"] is False
        front.send({"type": "add_input", "name": "photo.png"}, [png_bytes((64, 64))])
        front.send({"type": "set_mask", "name": "mask.png"}, [mask])
        front.generate("a red door")
        await panel.wait()
        masked = panel.gallery[0]
        front.send({"type": "reuse", "id": plain["id"]})
        assert panel.mask == {} and panel.inputs == []
        front.send({"type": "reuse", "id": masked["id"]})
        assert panel.mask["name"] == "mask" and len(panel.inputs) == 1 and panel.prompt == "a red door"
        front.generate()
        await panel.wait()
        assert front.states() == ["done", "done", "done"]
        panel.close()

    run(scenario())
    assert [("mask" in r.json) for r in api_requests(emulator_env)] == [False, True, True]
    assert api_requests(emulator_env)[-1].json["mask"] == list(mask)


def test_a_comparison_sends_the_mask_to_every_model_and_its_code_says_so(emulator_env: Emulator) -> None:
    lightning = "@cf/bytedance/stable-diffusion-xl-lightning"
    mask = png_bytes((64, 64), "white")

    async def scenario() -> None:
        panel = ImageGenPanel(model=INPAINTING, prompt="a red door", params=SIZE)
        front = FrontEnd(panel)
        front.send({"type": "add_input", "name": "photo.png"}, [png_bytes((64, 64))])
        front.send({"type": "set_mask", "name": "mask.png"}, [mask])
        front.set(compare={"model": [INPAINTING, lightning]})
        assert panel.validity["valid"] is True, panel.validity
        front.send({"type": "generate"})
        await panel.wait()
        assert front.states() == ["done", "done"]
        (message, _), *_ = [m for m in reversed(front.received) if m[0].get("type") == "comparison"]
        assert message["code"]["inputs"] == 1 and message["code"]["mask"] is True
        front.set(compare={"model": [INPAINTING, "openai/gpt-image-1.5"]})  # takes no mask: refused whole
        assert panel.validity["valid"] is False
        assert panel.validity["reason"] == "openai/gpt-image-1.5 takes no mask: leave out --mask (mask=...)."
        panel.close()

    run(scenario())
    assert sorted(r.path.rsplit("/run/", 1)[1] for r in api_requests(emulator_env)) == sorted(
        [INPAINTING, lightning]
    )
    assert all(r.json["mask"] == list(mask) for r in api_requests(emulator_env))
