"""A comparison in ``%%imagegen``, in a real InteractiveShell against the emulator: several values
of an option run as one matrix, shown as one labelled output that fills in as images arrive,
kept by ``-o`` as a Comparison and written by ``--save`` as a contact sheet; ``--dry-run`` sends
nothing; a JSON value and a quoted value are one value."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from jupyter_imagegen import Comparison
from jupyter_imagegen.emulator import Emulator
from magic_support import IMAGE_TYPES, ipython_shell, run

MODELS = "openai/gpt-image-1.5,openai/gpt-image-2"


@pytest.fixture
def shell(emulator_env: Emulator) -> Iterator[InteractiveShell]:
    with ipython_shell() as ipython:
        yield ipython


def sent(emulator: Emulator) -> list[dict[str, Any]]:
    """Each API request's input, with the model it was sent to."""
    return [
        {**r.json["input"], "model": r.json.get("model")} for r in emulator.requests if "/ai/run" in r.path
    ]


def test_two_models_by_two_qualities_is_one_labelled_matrix(
    shell: InteractiveShell, emulator: Emulator, tmp_path: Path
) -> None:
    ran = run(
        shell, f"%%imagegen -m {MODELS} -q low,high -s 1024x1024 -o cmp --save {tmp_path}/sheet\na fox\n"
    )
    assert ran.error is None, ran.stderr
    assert sorted((b["model"], b["quality"]) for b in sent(emulator)) == sorted(
        (m, q) for m in MODELS.split(",") for q in ("low", "high")
    )
    assert len(ran.images) == 1  # one output for the whole matrix
    info = ran.info()
    assert info["comparison"] and info["rows"] == MODELS.split(",")
    assert info["columns"] == ["quality=low", "quality=high"]
    assert all(" s · " in caption for caption in info["captions"])  # time and cost in every cell
    assert "4 images · 4 generated" in info["footer"]
    text = ran.images[0].data["text/plain"]
    assert "openai/gpt-image-2 · quality=high: " in text and "total: 4 images" in text
    result = shell.user_ns["cmp"]
    assert isinstance(result, Comparison) and result.names == ["model", "quality"]
    assert result["openai/gpt-image-2", "low"].params["quality"] == "low"
    sheet = tmp_path / "sheet" / "index.html"
    assert sheet.exists() and len(list((tmp_path / "sheet").glob("*.png"))) == 4
    assert result.to_pandas()["path"].notna().all()

    again = run(shell, f"%%imagegen -m {MODELS} -q low,high -s 1024x1024\na fox\n")
    assert again.error is None and len(sent(emulator)) == 4
    assert again.info()["captions"] == ["cached"] * 4 and "all cached" in again.status


def test_prompt_grid_models_and_variations_make_labelled_groups(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    shell.user_ns["animals"] = ["a fox", "an owl"]
    ran = run(shell, f"%%imagegen --grid -m {MODELS} -s 1024x1024 -q low -n 2\n{{animals}} in snow\n")
    assert ran.error is None, ran.stderr
    info = ran.info()
    assert [a["name"] for a in info["axes"]] == ["model", "animals", "variation"]
    assert info["groups"] == MODELS.split(",") and info["rows"] == ["a fox", "an owl"]
    assert len(sent(emulator)) == 8 and len(ran.images) == 1


def test_images_arrive_into_the_matrix_while_one_still_runs(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    emulator.inject("hang", seconds=120)
    outcome: dict[str, Any] = {}
    with capture_output() as captured:
        cell = threading.Thread(
            target=lambda: outcome.update(
                result=shell.run_cell(f"%%imagegen -m {MODELS} -q low,high\na fox\n")
            )
        )
        cell.start()
        give_up = time.monotonic() + 60  # a guard against a hang of the test, not a timing check
        live = None
        while time.monotonic() < give_up and live is None:
            for output in list(captured.outputs):
                info = output.metadata.get("jupyter_imagegen", {}) if output.metadata else {}
                if any(k in output.data for k in IMAGE_TYPES) and info.get("images", [1]).count(None) == 1:
                    live = info
            time.sleep(0.05)
        emulator.stop()  # ends the hang: that request fails and the cell ends
        cell.join(60)
    assert live is not None and live["running"] and live["comparison"]
    assert sum(c == "…" for c in live["captions"]) == 1
    assert isinstance(outcome["result"].error_in_exec, UsageError)


def test_dry_run_prints_the_matrix_and_sends_nothing(shell: InteractiveShell, emulator: Emulator) -> None:
    ran = run(shell, f"%%imagegen -m {MODELS} -q low,high -s 1024x1024 --dry-run\na fox\n")
    assert ran.error is None and emulator.requests == [] and ran.images == []
    assert "dry run: 4 requests (2 model x 2 quality), 4 to send, 0 expected cache hits" in ran.stdout
    assert "nothing was sent" in ran.stdout and ran.stdout.count("openai/gpt-image-2 quality=") == 2


def test_a_value_one_model_does_not_take_fails_the_cell_in_one_line(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    ran = run(
        shell, "%%imagegen -m openai/gpt-image-1.5,@cf/black-forest-labs/flux-1-schnell -q low,high\na fox\n"
    )
    assert isinstance(ran.error, UsageError) and emulator.requests == []
    assert "@cf/black-forest-labs/flux-1-schnell does not take quality" in str(ran.error)
    assert "\n" not in str(ran.error)


def test_json_and_quoted_values_are_one_value(shell: InteractiveShell, emulator: Emulator) -> None:
    model = "@cf/bytedance/stable-diffusion-xl-lightning"
    ran = run(shell, f'%%imagegen -m {model} --param negative_prompt="blur,noise",dust --dry-run\na fox\n')
    assert ran.error is None, ran.stderr
    assert "negative_prompt=blur,noise " in ran.stdout and "negative_prompt=dust" in ran.stdout
    assert ran.stdout.startswith("dry run: 2 requests (2 negative_prompt)")
    ran = run(shell, f"%%imagegen -m {model} --param mask=[1,2] --dry-run\na fox\n")
    assert "dry run: 1 request (one combination)" in ran.stdout and "mask=[1, 2]" in ran.stdout


def test_the_panel_takes_one_value_per_option(shell: InteractiveShell, emulator: Emulator) -> None:
    ran = run(shell, f"%imagegen --panel -m {MODELS} a fox")
    assert isinstance(ran.error, UsageError) and "--panel takes one value" in str(ran.error)


def test_a_comparison_shows_its_matrix_again(shell: InteractiveShell, emulator: Emulator) -> None:
    assert run(shell, f"%%imagegen -m {MODELS} -s 1024x1024 -q low -o cmp\na fox\n").error is None
    again = run(shell, "from IPython.display import display\ndisplay(cmp)")
    assert len(again.images) == 1 and again.info()["rows"] == []
    assert again.info()["columns"] == MODELS.split(",") and again.info()["captions"] == [
        f"{image.elapsed:.1f} s · ~${image.estimated_cost_usd:.4f}"
        if image.estimated_cost_usd is not None
        else f"{image.elapsed:.1f} s · cost unknown"
        for image in shell.user_ns["cmp"].images
    ]
