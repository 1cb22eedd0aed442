"""The panel's comparisons against the emulator, driven as its front end drives it: the
``compare`` trait, its checks, Generate planning the magic's matrix (one action for the budget),
and the ``{"type": "comparison"}`` message the gallery draws its labelled matrix from."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import traitlets

from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.runtime import get_runtime
from panel_support import FrontEnd, api_requests, fresh_history, run

pytestmark = pytest.mark.usefixtures(fresh_history.__name__)

GPT, GPT2 = "openai/gpt-image-1.5", "openai/gpt-image-2"
FLUX = "@cf/black-forest-labs/flux-1-schnell"
TWO_BY_TWO = {"model": [GPT, GPT2], "quality": ["low", "high"]}


def last_comparison(front: FrontEnd) -> dict[str, Any]:
    return front.replies("comparison")[-1][0]


def test_two_models_by_two_qualities_make_one_labelled_matrix(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model=GPT, params={"size": "256x256", "quality": "low"})
        front = FrontEnd(panel)
        front.set(prompt="a lighthouse", compare=TWO_BY_TWO)
        assert panel.validity["valid"], panel.validity
        assert panel.validity["reason"].startswith("Compares 2 model x 2 quality: 4 images, ~$")
        front.send({"type": "generate"})
        await panel.wait()
        message = last_comparison(front)
        assert message["title"] == "2 model x 2 quality" and not message["running"]
        [group] = message["groups"]
        assert (group["rows"], group["columns"]) == ([GPT, GPT2], ["quality=low", "quality=high"])
        assert [cell["labels"] for cell in message["cells"]] == [
            [GPT, "quality=low"],
            [GPT, "quality=high"],
            [GPT2, "quality=low"],
            [GPT2, "quality=high"],
        ]
        gallery = {item["id"]: item for item in panel.gallery}
        for cell in message["cells"]:
            assert cell["state"] == "done" and re.fullmatch(
                r"\d+\.\d s · (~\$\d\.\d{4}|cost unknown)", cell["caption"]
            )
            item = gallery[cell["entry"]]  # the thumbnail travels once, with the gallery
            assert [item["model"], f"quality={item['params']['quality']}"] == cell["labels"]
        assert message["footer"].startswith("4 images · 4 generated")
        # What "copy as code" writes: size fits one of the two models only, so it is left out.
        code = message["code"]
        assert code["models"] == [GPT, GPT2] and code["compare"] == {"quality": ["low", "high"]}
        assert code["params"] == {} and code["left_out"] == ["size"]
        # A cell's settings reused: that one combination, compared no more.
        front.send({"type": "reuse", "id": message["cells"][3]["entry"]})
        assert (panel.model, panel.params["quality"], panel.compare) == (GPT2, "high", {})
        front.set(compare=TWO_BY_TWO, model=GPT, params={"size": "256x256", "quality": "low"})
        # The same comparison again is the same matrix: every cell from the cache, nothing sent.
        front.send({"type": "generate"})
        await panel.wait()
        again = last_comparison(front)
        assert again["id"] != message["id"]
        assert [cell["caption"] for cell in again["cells"]] == ["cached"] * 4
        panel.close()

    run(scenario())
    bodies = [r.json for r in api_requests(emulator_env)]
    assert sorted((b["model"], b["input"]["quality"]) for b in bodies) == sorted(
        (m, q) for m in (GPT, GPT2) for q in ("low", "high")
    )
    assert [b["input"].get("size") for b in bodies if b["model"] == GPT] == ["256x256"] * 2


def test_a_new_view_gets_the_comparisons_with_the_lists(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model=GPT, params={"size": "256x256"})
        front = FrontEnd(panel)
        front.generate("a kite", compare={"quality": ["low", "medium", "high"]})
        await panel.wait()
        front.received.clear()
        front.send({"type": "sync"})
        [(message, _)] = front.replies("comparison")
        assert message["title"] == "3 quality" and [c["labels"] for c in message["cells"]] == [
            ["quality=low"],
            ["quality=medium"],
            ["quality=high"],
        ]
        panel.close()

    run(scenario())


def test_a_value_a_compared_model_does_not_take_sends_nothing(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model=GPT, params={"size": "256x256"})
        front = FrontEnd(panel)
        front.generate("a kite", compare={"model": [GPT, FLUX], "quality": ["low", "high"]})
        await asyncio.sleep(0)
        reason = panel.validity["reason"]
        assert not panel.validity["valid"] and FLUX in reason and "quality" in reason
        assert "\n" not in reason and panel.jobs == []
        # Only the model and the form's enum parameters compare, with values they offer.
        front.set(compare={"model": [GPT, FLUX]})  # quality given by the form: FLUX goes without
        assert panel.validity["valid"], panel.validity
        front.set(compare={"quality": ["low"]})  # a compare ticked with one value is not yet one
        assert (
            panel.validity["reason"]
            == "Tick two or more values of quality to compare (or untick its compare)."
        )
        front.send({"type": "generate"})
        assert panel.jobs == []
        front.set(compare={"quality": ["low", "ultra"]})
        assert "'ultra' is not one of the values" in panel.validity["reason"]
        front.set(compare={"prompt": ["a", "b"]})
        assert "has no prompt with a list of values" in panel.validity["reason"]
        front.set(compare={"model": [GPT, "someone/not-offered"]})
        assert "is not one of the values" in panel.validity["reason"]
        with pytest.raises(traitlets.TraitError, match="at most 4 values of quality"):
            panel.compare = {"quality": ["low", "medium", "high", "auto", "x"]}
        # A model without the compared parameter drops it from the comparison.
        front.set(compare={"quality": ["low", "high"]}, model=FLUX)
        assert panel.compare == {}
        panel.close()

    run(scenario())
    assert api_requests(emulator_env) == []


def test_the_matrix_is_one_action_for_the_budget_and_max_images(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "3")

    async def scenario() -> None:
        panel = ImageGenPanel(model=GPT, params={"size": "256x256"})
        front = FrontEnd(panel)
        front.generate("a kite", compare=TWO_BY_TWO)
        await asyncio.sleep(0)
        assert "Daily image budget" in panel.error and "this asks for 4 and 3 are left" in panel.error
        assert "The comparison: 4 images (2 model x 2 quality)" in panel.error
        assert "\n" not in panel.error and panel.jobs == []
        # Over the per-action limit: said before Generate, with the count and the cost.
        get_runtime().config.max_images = 3
        front.set(compare={"quality": ["low", "medium", "high", "auto"]})
        assert not panel.validity["valid"]
        assert "This asks for 4 images; the limit is 3 (they would cost ~$" in panel.validity["reason"]
        panel.close()

    run(scenario())
    assert api_requests(emulator_env) == []


def test_a_cancelled_comparison_says_so_in_each_cell(emulator_env: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model=GPT, params={"size": "256x256"})
        front = FrontEnd(panel)
        front.generate("a kite", compare={"quality": ["low", "high"]})
        front.send({"type": "cancel"})  # before any task has run: nothing is sent
        await panel.wait()
        message = last_comparison(front)
        assert [cell["state"] for cell in message["cells"]] == ["cancelled"] * 2
        assert [cell["caption"] for cell in message["cells"]] == ["cancelled"] * 2
        assert message["footer"] == "0 of 2 images · nothing made" and not message["running"]
        panel.close()

    run(scenario())
    assert api_requests(emulator_env) == []
