"""The pieces of a comparison, one function at a time: splitting an option's values, the matrix's
layout and labels, planning against the shipped schemas (nothing is sent: no emulator needed
beyond its address), and the Comparison result's indexing and table."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import pytest

from jupyter_imagegen import Comparison, GeneratedImage, ValidationError
from jupyter_imagegen.client._models import get_model
from jupyter_imagegen.client._validation import coerce_param
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._matrix_layout import cell_caption, footer_text, groups_of
from jupyter_imagegen.runtime._compare import first_value, plan_requests, split_values
from jupyter_imagegen.runtime._options import add_request_options
from jupyter_imagegen.runtime._runtime import get_runtime
from jupyter_imagegen.runtime._templating import GridCell


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("low,high", ["low", "high"]),
        ("low, high ,low", ["low", "high"]),  # spaces around values go; a repeat is one value
        ("512x512", ["512x512"]),
        ("[1,2]", ["[1,2]"]),  # JSON is one value
        ('{"a": [1, 2], "b": "x,y"},[3]', ['{"a": [1, 2], "b": "x,y"}', "[3]"]),
        ('["a]", "b"]', ['["a]", "b"]']),  # a bracket inside a JSON string does not close
        ('"a,b",c', ["a,b", "c"]),  # quotes keep a comma
        ("'a,b'", ["a,b"]),
        ("don't", ["don't"]),  # a quote inside a value is just a character
        ("", [""]),
    ],
)
def test_split_values(text: str, values: list[str]) -> None:
    assert split_values(text) == values


@pytest.mark.parametrize("text", ["low,", ",low", "low,,high", '"a,b', '"a"b'])
def test_split_values_refuses_empty_values_and_open_quotes_in_one_line(text: str) -> None:
    with pytest.raises(ValidationError) as failure:
        split_values(text, "-q")
    assert str(failure.value).startswith(f"-q {text}") and "\n" not in str(failure.value)


def test_first_value_never_raises() -> None:
    assert first_value("a/b,c/d") == "a/b" and first_value('"x') == '"x'


def test_a_json_parameter_becomes_its_schema_type() -> None:
    spec = get_model("@cf/bytedance/stable-diffusion-xl-lightning")
    assert coerce_param(spec, "image", "[1, 2]") == [1, 2]
    with pytest.raises(ValidationError, match="expected a JSON array"):
        coerce_param(spec, "image", "[1,")


def test_layouts_one_axis_two_axes_and_groups() -> None:
    (row,) = groups_of([("a", "b", "c")], 3)
    assert row.columns == ("a", "b", "c") and row.rows == () and row.across == 3
    (wrapped,) = groups_of([tuple(str(i) for i in range(9))], 9)
    assert wrapped.columns == () and wrapped.across == 4  # the labels go into the captions
    (matrix,) = groups_of([("m1", "m2"), ("low", "high")], 4)
    assert matrix.title == "" and matrix.rows == ("m1", "m2") and matrix.columns == ("low", "high")
    groups = groups_of([("m1", "m2"), ("s1", "s2", "s3"), ("low", "high")], 12)
    assert [g.title for g in groups] == ["m1", "m2"]
    assert groups[1].indices == tuple(range(6, 12)) and groups[1].rows == ("s1", "s2", "s3")


def _image(cached: bool = False, usd: float | None = 0.0123, **params: Any) -> GeneratedImage:
    return GeneratedImage(
        b"", "image/png", "a fox", "m", params, elapsed=1.25, cached=cached, estimated_cost_usd=usd
    )


def test_captions_and_footer_say_time_cost_and_cached() -> None:
    assert cell_caption(_image()) == "1.2 s · ~$0.0123"
    assert cell_caption(_image(cached=True, usd=0.0)) == "cached"
    assert cell_caption(_image(usd=None)) == "1.2 s · cost unknown"
    assert cell_caption(None, running=True) == "…" and cell_caption(ValueError()) == "failed"
    several = dataclasses.replace(_image(cached=True), others=(_image(), _image()))
    assert cell_caption(several) == "cached · +2 more"  # the cell shows the answer's first image
    footer = footer_text([_image(), _image(cached=True, usd=0.0), ValueError()])
    assert (
        footer
        == "2 of 3 images · 1 cached (free) · 1 generated, longest 1.2 s · ~$0.0123 estimated · 1 failed"
    )


def _args(*words: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_request_options(parser, "openai/gpt-image-1.5", get_runtime())
    return parser.parse_args(list(words))


def test_planning_crosses_every_option_in_order(emulator_env: Emulator) -> None:
    args = _args(
        "-m", "openai/gpt-image-1.5,openai/gpt-image-2", "-q", "low,high", "-s", "1024x1024", "-n", "2"
    )
    matrix = plan_requests(get_runtime(), args, [GridCell("a fox", ())], command="cmd")
    assert [a.name for a in matrix.axes] == ["model", "quality", "variation"]
    assert matrix.varying and len(matrix.requests) == 8
    first, last = matrix.requests[0], matrix.requests[-1]
    assert (first.model, first.params["quality"], first.variation) == ("openai/gpt-image-1.5", "low", 0)
    assert (last.model, last.params["quality"], last.variation) == ("openai/gpt-image-2", "high", 1)
    assert matrix.cell_labels(3) == ("openai/gpt-image-1.5", "quality=high", "#2")
    assert matrix.dimensions() == "2 model x 2 quality x 2 variation"
    assert emulator_env.requests == []


def test_planning_a_single_request_is_no_comparison(emulator_env: Emulator) -> None:
    matrix = plan_requests(get_runtime(), _args("-q", "low"), [GridCell("a fox", ())])
    assert not matrix.varying and matrix.axes == [] and len(matrix.requests) == 1


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (
            ("-m", "openai/gpt-image-1.5,@cf/black-forest-labs/flux-1-schnell", "-q", "low"),
            "@cf/black-forest-labs/flux-1-schnell does not take quality",
        ),
        (
            ("-m", "openai/gpt-image-1.5,openai/gpt-image-2", "-s", "1024x1024,1536x1024"),
            "Invalid input for openai/gpt-image-1.5: size: '1536x1024' is not allowed",
        ),
        (
            (
                "-m",
                "@cf/black-forest-labs/flux-1-schnell,@cf/lykon/dreamshaper-8-lcm",
                "--param",
                "steps=4,8",
            ),
            "@cf/lykon/dreamshaper-8-lcm does not take steps",
        ),
    ],
)
def test_a_value_a_model_does_not_take_is_one_line(
    emulator_env: Emulator, words: tuple[str, ...], says: str
) -> None:
    with pytest.raises(ValidationError) as failure:
        plan_requests(get_runtime(), _args(*words), [GridCell("a fox", ())])
    assert says in str(failure.value) and "\n" not in str(failure.value)


def test_the_image_limit_counts_the_whole_matrix_with_its_cost(emulator_env: Emulator) -> None:
    get_runtime().config.max_images = 3
    with pytest.raises(ValidationError) as failure:
        plan_requests(get_runtime(), _args("-q", "low,high", "-s", "1024x1024,512x512"), [GridCell("a", ())])
    text = str(failure.value)
    assert "asks for 4 images; the limit is 3" in text and "~$" in text and "nothing was sent" in text


def test_a_comparison_result_is_indexed_by_its_values(emulator_env: Emulator) -> None:
    args = _args("-q", "low,high", "--param", "style=vivid,natural")
    matrix = plan_requests(get_runtime(), args, [GridCell("a fox", ())])
    images = [_image(quality=r.params["quality"], style=r.params["style"], seed=7) for r in matrix.requests]
    result = Comparison.of(matrix, [*images[:3], ValueError("refused")])
    assert result.names == ["quality", "style"] and len(result) == 4 and len(result.images) == 3
    assert result["low", "natural"] is images[1]
    assert result[{"quality": "high", "style": "vivid"}] is images[2]
    assert result.where(quality="low") == images[:2]
    with pytest.raises(KeyError, match="No image"):
        result["high", "natural"]  # that one failed
    with pytest.raises(KeyError, match="does not vary"):
        result.where(size="1024x1024")
    table = result.to_pandas()
    assert list(table.columns[:2]) == ["quality", "style"] and len(table) == 4
    assert table["seed"].tolist()[:3] == [7, 7, 7] and table["error"].tolist()[3] == "refused"
    assert table["seconds"].tolist()[0] == 1.25 and bool(table["cached"].tolist()[0]) is False


def test_every_shipped_model_can_be_compared(emulator_env: Emulator) -> None:
    from jupyter_imagegen import list_models
    from jupyter_imagegen.client import get_model

    # The models a prompt alone is enough for (others require a size, a resolution or an image).
    def prompt_alone(model: str) -> bool:
        spec = get_model(model)
        found = spec.image_input
        needs_image = found is not None and found.field in spec.input_schema.get("required", [])
        return not spec.required and spec.prompt_field == "prompt" and not needs_image

    models = [m for m in list_models() if prompt_alone(m)]
    matrix = plan_requests(get_runtime(), _args("-m", ",".join(models)), [GridCell("a fox", ())])
    assert [r.model for r in matrix.requests] == models and matrix.labels == [tuple(models)]
    assert matrix.cost_text().startswith("~$") and "of unknown cost" in matrix.cost_text()
