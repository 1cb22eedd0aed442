"""The panel with today's shapes, driven as its front end drives it: a multipart FLUX.2 model and
its controls, a model answering three images to one request, a model without a prompt, and the
seed an image was made with restored by "reuse settings" (docs/cloudflare.md §8)."""

from __future__ import annotations

import pytest

from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_state import model_info
from panel_support import FrontEnd, api_requests, fresh_history, png_bytes, run

pytestmark = pytest.mark.usefixtures(fresh_history.__name__)
KLEIN = "@cf/black-forest-labs/flux-2-klein-9b"


def test_a_multipart_model_gets_its_form_fields_as_controls() -> None:
    info = model_info(KLEIN)
    assert list(info["parameters"]) == ["guidance", "width", "height", "seed"]
    assert info["parameters"]["width"]["maximum"] == 1920 and info["edits"] and info["max_images"] == 4


def test_three_images_of_one_answer_each_reach_the_gallery(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model="alibaba/qwen-image-3.0-pro")
        front = FrontEnd(panel)
        front.generate("three foxes", params={"size": "256x256", "n": 3})
        await panel.wait()
        assert front.states() == ["done"] and len(panel.gallery) == 3
        assert len({image.data for image in panel.images}) == 3
        panel.close()

    run(scenario())
    (sent,) = api_requests(emulator_env)
    assert sent.json["input"]["n"] == 3


def test_flux2_from_the_panel_then_reuse_settings_restores_its_seed(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model=KLEIN)
        front = FrontEnd(panel)
        front.send({"type": "add_input", "name": "photo.png"}, [png_bytes()])
        front.generate("a fox", params={"width": 256, "height": 256})
        await panel.wait()
        item = panel.gallery[0]
        assert isinstance(item["seed"], int) and item["params"]["seed"] == item["seed"]
        front.send({"type": "reuse", "id": item["id"]})
        assert panel.params == {"width": 256, "height": 256, "seed": item["seed"]}
        panel.close()

    run(scenario())
    (sent,) = api_requests(emulator_env)
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert sent.form is not None and set(sent.form) == {"prompt", "width", "height", "seed", "input_image_0"}


def test_a_model_without_a_prompt_works_from_the_panel_with_an_empty_prompt(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model="bria/remove-background")
        front = FrontEnd(panel)
        front.send({"type": "add_input", "name": "photo.png"}, [png_bytes()])
        front.generate("")
        await panel.wait()
        assert front.states() == ["done"]
        panel.close()

    run(scenario())
    (sent,) = api_requests(emulator_env)
    assert set(sent.json["input"]) == {"image"}


def test_a_required_parameter_is_marked_and_sent_at_the_default_its_control_shows(
    emulator_env: Emulator,
) -> None:
    info = model_info("klingai/kling-v3-image")
    assert info["required"] == ["resolution", "aspect_ratio"] and info["prompt"] is True

    async def scenario() -> None:
        panel = ImageGenPanel(model="klingai/kling-v3-image")
        FrontEnd(panel).generate("a fox")
        await panel.wait()
        panel.close()

    run(scenario())
    (sent,) = api_requests(emulator_env)
    assert sent.json["input"] == {"prompt": "a fox", "resolution": "1k", "aspect_ratio": "16:9"}
