"""Every %%imagegen option, templating and grids, -o, --save and %config precedence, checked on
what reaches the emulator and what the cell displays."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from PIL import Image
from traitlets.config import Config

from jupyter_imagegen import GeneratedImage
from jupyter_imagegen.client._files import read_provenance
from jupyter_imagegen.emulator import Emulator
from magic_support import ipython_shell, run


@pytest.fixture
def shell(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    monkeypatch.chdir(tmp_path)
    with ipython_shell() as ipython:
        yield ipython


def inputs(emulator: Emulator, index: int = -1) -> dict[str, Any]:
    """The model inputs of a recorded request (proxied models wrap them in ``input``)."""
    body: dict[str, Any] = emulator.requests[index].json
    return body.get("input", body)  # type: ignore[no-any-return]


def prompts(emulator: Emulator) -> list[str]:
    return sorted(inputs(emulator, i)["prompt"] for i in range(len(emulator.requests)))


def test_quality_size_style_reach_the_model(shell: InteractiveShell, emulator: Emulator) -> None:
    ran = run(shell, "%%imagegen -q low -s 1792x1024 --style natural -o wide\na wide valley\n")
    assert ran.error is None
    assert inputs(emulator) == {
        "prompt": "a wide valley",
        "quality": "low",
        "size": "1792x1024",
        "style": "natural",
    }
    assert (shell.user_ns["wide"].width, shell.user_ns["wide"].height) == (1792, 1024)
    width, height = ran.pil().size  # the preview may be smaller, to stay under the budget
    assert abs(width / height - 1.75) < 0.01


def test_model_and_param_are_coerced_to_the_schema_type(shell: InteractiveShell, emulator: Emulator) -> None:
    run(shell, "%%imagegen -m @cf/black-forest-labs/flux-1-schnell --param steps=4 -o img\na fox\n")
    assert emulator.requests[-1].path.endswith("/@cf/black-forest-labs/flux-1-schnell")
    assert inputs(emulator) == {"prompt": "a fox", "steps": 4}
    assert shell.user_ns["img"].model == "@cf/black-forest-labs/flux-1-schnell"


def test_bad_param_is_a_usage_error(shell: InteractiveShell, emulator: Emulator) -> None:
    for cell in (
        "%%imagegen -p steps\nx",
        "%%imagegen -m @cf/black-forest-labs/flux-1-schnell -p steps=many\nx",
    ):
        ran = run(shell, cell)
        assert isinstance(ran.error, UsageError), cell
    assert "NAME=VALUE" in run(shell, "%%imagegen -p steps\nx").stderr
    assert len(emulator.requests) == 0


def test_an_empty_param_value_is_a_usage_error(shell: InteractiveShell, emulator: Emulator) -> None:
    for cell in (
        "%%imagegen -m @cf/lykon/dreamshaper-8-lcm -p negative_prompt=\nx",
        "%%imagegen -m @cf/black-forest-labs/flux-1-schnell --param steps=\nx",
    ):
        ran = run(shell, cell)
        assert isinstance(ran.error, UsageError), cell
        assert "has no value: write " in str(ran.error), ran.error
    assert len(emulator.requests) == 0


def test_variations_are_distinct_samples_in_one_grid(shell: InteractiveShell, emulator: Emulator) -> None:
    ran = run(shell, "%%imagegen -q low -s 1024x1024 -n 3 -o foxes\na fox\n")
    foxes = shell.user_ns["foxes"]
    assert len(emulator.requests) == 3 and len({f.data for f in foxes}) == 3
    assert [f.variation for f in foxes] == [0, 1, 2]
    assert len(ran.images) == 1 and len(ran.image_types()) == 1  # one composed picture
    assert [c.split(" · ")[0] for c in ran.info()["captions"]] == ["#1", "#2", "#3"]
    assert len(ran.info()["images"]) == 3 and ran.status.startswith("openai/gpt-image-1.5 · 3 images")


def test_templating_fills_names_unescapes_and_refuses_an_unknown_name_before_sending(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    shell.user_ns.update(animal="otter", n=3)
    run(shell, "%%imagegen -q low\n{n} {animal}s, {{literal}}\n")
    assert inputs(emulator)["prompt"] == "3 otters, {literal}"
    sent = len(emulator.requests)
    ran = run(shell, "%%imagegen -q low\n{n} {animl}s\n")
    assert isinstance(ran.error, UsageError)
    assert "there is no variable 'animl'; did you mean {animal}?" in str(ran.error)
    assert "\n" not in str(ran.error) and len(emulator.requests) == sent


def test_line_magic_prompt_is_the_rest_of_the_line_filled_by_the_magic(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    shell.user_ns["animal"] = "badger"
    run(shell, "%imagegen -q low a {animal}'s den,  at night")
    assert inputs(emulator)["prompt"] == "a badger's den, at night"
    run(shell, '%imagegen -q low "quoted prompt"')
    assert inputs(emulator)["prompt"] == "quoted prompt"


def test_grid_expands_lists_into_a_labelled_grid(shell: InteractiveShell, emulator: Emulator) -> None:
    shell.user_ns.update(animals=["cat", "owl"], styles=("ink", "oil", "clay"))
    ran = run(shell, "%%imagegen --grid -q low -s 1024x1024 -o grid\na {animals} in {styles}\n")
    assert ran.error is None
    assert prompts(emulator) == sorted(
        f"a {a} in {s}" for a in ("cat", "owl") for s in ("ink", "oil", "clay")
    )
    info = ran.info()
    assert info["rows"] == ["cat", "owl"] and info["columns"] == ["ink", "oil", "clay"]
    assert [g.prompt for g in shell.user_ns["grid"]][:3] == ["a cat in ink", "a cat in oil", "a cat in clay"]
    assert len(ran.images) == 1 and ran.pil().width > ran.pil().height  # 3 across, 2 down


def test_the_image_cap_allows_exactly_the_limit(shell: InteractiveShell, emulator: Emulator) -> None:
    shell.run_line_magic("config", "ImageGenMagics.max_images = 3")
    over = run(shell, "%%imagegen -s 256x256 -n 4\na fox\n")
    assert isinstance(over.error, UsageError) and "-n must be 1 to 3, got 4" in over.stderr
    assert len(emulator.requests) == 0
    shell.user_ns["two"] = ["ink", "oil"]
    assert isinstance(run(shell, "%%imagegen -s 256x256 -n 2 --grid\na fox in {two}\n").error, UsageError)
    assert len(emulator.requests) == 0
    assert run(shell, "%%imagegen -s 256x256 -n 3 -o three\na fox\n").error is None
    assert len(shell.user_ns["three"]) == 3 and len(emulator.requests) == 3


def test_grid_limits_and_line_form(shell: InteractiveShell, emulator: Emulator) -> None:
    shell.user_ns.update(many=list(range(9)), more=list(range(9)))
    ran = run(shell, "%%imagegen --grid\n{many} {more}\n")
    assert isinstance(ran.error, UsageError) and "81 images; the limit is 64" in ran.stderr
    assert isinstance(run(shell, "%imagegen --grid a {many}").error, UsageError)
    assert isinstance(run(shell, "%%imagegen extra words\na fox").error, UsageError)
    assert isinstance(run(shell, "%%imagegen -n 0\na fox").error, UsageError)
    assert len(emulator.requests) == 0


@pytest.mark.parametrize("kind", ["generated", "pil", "numpy", "bytes", "path"])
def test_image_option_edits_from_a_variable_or_a_file(
    shell: InteractiveShell, emulator: Emulator, tmp_path: Path, kind: str
) -> None:
    picture = Image.new("RGB", (64, 64), (200, 30, 30))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    (tmp_path / "input.png").write_bytes(buffer.getvalue())
    sources: dict[str, Any] = {"pil": picture, "numpy": np.asarray(picture), "bytes": buffer.getvalue()}
    if kind == "generated":
        run(shell, "%imagegen -q low -o src a red square")
    else:
        shell.user_ns["src"] = sources.get(kind)
    ref = "input.png" if kind == "path" else "src"
    ran = run(shell, f"%%imagegen -q low -i {ref} -o edited\nmake it blue\n")
    assert ran.error is None, ran.stderr
    assert len(inputs(emulator)["images"]) == 1 and inputs(emulator)["images"][0].startswith("data:image/")
    assert len(shell.user_ns["edited"].input_images) == 1


def test_image_option_takes_a_list_and_repeats(shell: InteractiveShell, emulator: Emulator) -> None:
    run(shell, "%imagegen -q low -n 2 -o pair two foxes")
    run(shell, "%imagegen -q low -o third an owl")
    ran = run(shell, "%%imagegen -q low -i pair -i third -o merged\nput them together\n")
    assert ran.error is None, ran.stderr
    assert len(inputs(emulator)["images"]) == 3 and len(shell.user_ns["merged"].input_images) == 3


def test_image_option_names_what_is_missing(shell: InteractiveShell) -> None:
    ran = run(shell, "%%imagegen -i nowhere.png\nx\n")
    assert isinstance(ran.error, UsageError) and "no such file" in ran.stderr and "no variable" in ran.stderr


def test_out_holds_one_image_or_a_list(shell: InteractiveShell, emulator: Emulator) -> None:
    run(shell, "%imagegen -q low -o one a fox")
    run(shell, "%imagegen -q low -n 2 -o two a fox")
    assert isinstance(shell.user_ns["one"], GeneratedImage)
    assert isinstance(shell.user_ns["two"], list) and len(shell.user_ns["two"]) == 2
    assert isinstance(run(shell, "%imagegen -o 'not a name' a fox").error, UsageError)
    emulator.inject("moderation")
    assert isinstance(run(shell, "%imagegen -q low -o one a different fox").error, UsageError)
    assert isinstance(shell.user_ns["one"], GeneratedImage)  # a failed cell leaves -o alone


def test_save_writes_originals_with_provenance_and_never_overwrites(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    run(shell, "%%imagegen -q low --save out -o fox\na fox / on ../ a hill\n")
    run(shell, "%%imagegen -q low --save out\na fox / on ../ a hill\n")  # cached, saved again
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["a-fox-on-a-hill-2.png", "a-fox-on-a-hill.png"]
    provenance = read_provenance(tmp_path / "out" / "a-fox-on-a-hill.png")
    assert provenance is not None
    assert provenance["prompt"] == "a fox / on ../ a hill" and provenance["params"] == {"quality": "low"}
    assert (tmp_path / "out" / "a-fox-on-a-hill.png").read_bytes() != b""
    assert len(Image.open(tmp_path / "out" / "a-fox-on-a-hill.png").getbands()) >= 3


def test_save_to_an_unusable_folder_is_a_usage_error_after_display(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    ran = run(shell, "%imagegen -q low --save taken/sub -o img a fox")
    assert isinstance(ran.error, UsageError) and "Could not save to taken/sub" in ran.stderr
    assert len(ran.images) == 1 and isinstance(shell.user_ns["img"], GeneratedImage)


def test_no_display_and_display_formats(shell: InteractiveShell) -> None:
    ran = run(shell, "%imagegen -q low --no-display -o img a fox")
    assert ran.images == [] and isinstance(shell.user_ns["img"], GeneratedImage)
    for fmt, mime in (("png", "image/png"), ("jpeg", "image/jpeg"), ("webp", "image/webp")):
        ran = run(shell, f"%imagegen -q low --display-format {fmt} a fox")
        assert ran.image_types() == [mime]
    assert run(shell, "%imagegen -q low --display-format png a fox").pil().size == (1024, 1024)


def test_gateway_options_become_headers(shell: InteractiveShell, emulator: Emulator) -> None:
    run(shell, "%imagegen -q low --gateway my-gw --skip-gateway-cache a fox")
    headers = emulator.requests[-1].headers
    assert headers["cf-aig-gateway-id"] == "my-gw" and headers["cf-aig-skip-cache"] == "true"


def test_precedence_option_over_config_over_environment(
    shell: InteractiveShell, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_QUALITY", "medium")
    run(shell, "%imagegen a")
    assert inputs(emulator)["quality"] == "medium"
    shell.run_line_magic("config", 'ImageGenMagics.quality = "low"')
    run(shell, "%imagegen b")
    assert inputs(emulator)["quality"] == "low"
    run(shell, "%imagegen -q high c")
    assert inputs(emulator)["quality"] == "high"
    run(shell, "%imagegen -m @cf/black-forest-labs/flux-1-schnell d")  # takes no quality: not sent
    assert "quality" not in inputs(emulator)


def test_config_file_sets_defaults(emulator_env: Emulator) -> None:
    config = Config()
    config.ImageGenMagics.quality = "low"
    config.ImageGenMagics.display_format = "png"
    with ipython_shell(config) as ipython:
        ran = run(ipython, "%imagegen a fox")
    assert inputs(emulator_env)["quality"] == "low" and ran.image_types() == ["image/png"]


def test_model_default_from_environment_and_config(
    shell: InteractiveShell, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_MODEL", "@cf/black-forest-labs/flux-1-schnell")
    run(shell, "%imagegen -o a a fox")
    assert shell.user_ns["a"].model == "@cf/black-forest-labs/flux-1-schnell"
    shell.run_line_magic("config", 'ImageGenMagics.model = "openai/gpt-image-1.5"')
    run(shell, "%imagegen -o b a fox")
    assert shell.user_ns["b"].model == "openai/gpt-image-1.5"


def test_the_help_examples_read_right() -> None:
    from jupyter_imagegen.notebook._magic import ImageGenMagics

    text = ImageGenMagics.imagegen.__doc__ or ""
    assert '"an owl"' in text and "a {animals}" not in text
    assert not re.search(r"\ba [aeiou]", text.replace("a red fox", "")), "an article before a vowel"
