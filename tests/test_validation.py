"""Parameters are checked against the model's published schema before anything is sent."""

from __future__ import annotations

import io
import warnings
from importlib import resources

import pytest
from PIL import Image

from jupyter_imagegen import ImageGenWarning, ImageRequest, ValidationError, get_model, list_models
from jupyter_imagegen.client._validation import coerce_param, schema_problems

FLUX = "@cf/black-forest-labs/flux-1-schnell"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"


def make(prompt: str = "a red fox", model: str = "openai/gpt-image-1.5", **kw: object) -> ImageRequest:
    return ImageRequest.create(prompt, model=model, **kw)


def png_bytes(size: tuple[int, int] = (8, 8), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "blue").save(buffer, format="PNG")
    return buffer.getvalue()


def test_registry_knows_every_shipped_model_default_first() -> None:
    models = list_models()
    assert models[0] == "openai/gpt-image-1.5"
    shipped = resources.files("jupyter_imagegen.client") / "models"
    assert len(models) == len([f for f in shipped.iterdir() if f.name.endswith(".json")]) >= 13
    assert get_model(FLUX).hosting == "hosted" and get_model(FLUX).output_kind == "base64-json"
    assert get_model(SDXL).output_kind == "binary"
    assert get_model("openai/gpt-image-1.5").image_input.field == "images"  # type: ignore[union-attr]


@pytest.mark.parametrize("prompt", ["", "   ", "\n"])
def test_empty_prompt_is_refused_with_an_example(prompt: str) -> None:
    with pytest.raises(ValidationError, match="prompt is empty"):
        make(prompt)


def test_enum_error_lists_values_and_suggests_the_nearest() -> None:
    with pytest.raises(ValidationError) as info:
        make(size="1024")
    text = str(info.value)
    assert "256x256, 512x512, 1024x1024, 1792x1024, 1024x1792" in text
    assert "did you mean '1024x1024'" in text
    with pytest.raises(ValidationError, match="did you mean 'high'"):
        make(quality="HIGH ")


@pytest.mark.parametrize(
    "model,params,said",
    [
        (FLUX, {"steps": 9}, "steps: 9 is out of range: it must be at most 8"),
        ("@cf/leonardo/lucid-origin", {"seed": -1}, "seed: -1 is out of range: it must be at least 0"),
        (
            "@cf/leonardo/phoenix-1.0",
            {"num_steps": 0},
            "num_steps: 0 is out of range: it must be between 1 and 50",
        ),
    ],
)
def test_range_errors_read_as_a_person_says_them(model: str, params: dict[str, int], said: str) -> None:
    with pytest.raises(ValidationError) as info:
        make(model=model, **params)
    assert said in str(info.value) and "inf" not in str(info.value)


def test_numeric_ranges_and_types() -> None:
    with pytest.raises(ValidationError, match="expected integer"):
        make(model=FLUX, steps=2.5)
    with pytest.raises(ValidationError, match="expected integer"):
        make(model=FLUX, steps=True)
    assert make(model=FLUX, steps=4).params == {"steps": 4}


def test_closed_schema_rejects_unknown_parameters_with_a_suggestion() -> None:
    with pytest.raises(ValidationError, match="did you mean 'steps'"):
        make(model=FLUX, step=4)
    # gpt-image-1.5's schema allows extra properties: they pass through, with a warning.
    with pytest.warns(ImageGenWarning, match="'background' is not a parameter of openai/gpt-image-1.5"):
        assert make(background="opaque").params == {"background": "opaque"}


def test_unknown_model_passes_through_with_a_warning() -> None:
    with pytest.warns(ImageGenWarning, match="not a model jupyter-imagegen knows"):
        request = make(model="acme/new-model", anything=1)
    assert request.model_inputs() == {"prompt": "a red fox", "anything": 1}
    assert request.spec.hosting == "proxied"


def test_input_images_are_checked_and_encoded_for_the_model() -> None:
    request = make(images=[png_bytes(), png_bytes((4, 4))])
    wire = request.model_inputs()["images"]
    assert len(wire) == 2 and all(item.startswith("data:image/png;base64,") for item in wire)
    sdxl = make(model=SDXL, images=png_bytes())
    assert isinstance(sdxl.model_inputs()["image_b64"], str)
    with pytest.raises(ValidationError, match="does not take input images"):
        make(model=FLUX, images=png_bytes())
    with pytest.raises(ValidationError, match="at most 16"):
        make(images=[png_bytes()] * 17)
    with pytest.raises(ValidationError, match="not a PNG, JPEG, WebP or GIF"):
        make(images=b"definitely not an image")
    with pytest.raises(ValidationError, match="is an SVG"):
        make(images=b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>')
    with pytest.raises(ValidationError, match="No image file"):
        make(images="no/such/file.png")
    with pytest.raises(ValidationError, match="Cannot use a dict"):
        make(images={"not": "an image"})


def test_images_from_pil_numpy_and_generated_images() -> None:
    np = pytest.importorskip("numpy")
    pil = Image.new("RGBA", (5, 5), (0, 0, 0, 0))
    array = np.zeros((6, 7, 3), dtype="uint8")
    floats = np.ones((3, 3), dtype="float32")
    request = make(images=[pil, array, floats])
    sizes = [Image.open(io.BytesIO(data)).size for data in request.images]
    assert sizes == [(5, 5), (7, 6), (3, 3)]
    with pytest.raises(ValidationError, match="HxW, HxWx3 or HxWx4"):
        make(images=np.zeros((2, 2, 2), dtype="uint8"))


def test_cache_key_depends_on_what_is_asked_not_on_credentials() -> None:
    base = make(size="512x512")
    assert base.cache_key == make(size="512x512").cache_key
    assert base.cache_key != make(size="256x256").cache_key
    assert base.cache_key != base.with_variation(1).cache_key
    assert base.cache_key != make(size="512x512", images=png_bytes()).cache_key


def test_coerce_param_follows_the_schema() -> None:
    flux, sdxl = get_model(FLUX), get_model(SDXL)
    assert coerce_param(flux, "steps", "4") == 4
    assert coerce_param(sdxl, "guidance", "7.5") == 7.5
    assert coerce_param(get_model("openai/gpt-image-1.5"), "size", "512x512") == "512x512"
    with pytest.raises(ValidationError, match="steps: expected integer, got 'four'"):
        coerce_param(flux, "steps", "four")


def test_schema_problems_reports_every_problem() -> None:
    schema = get_model("google/imagen-4").input_schema
    problems = schema_problems(schema, {"aspect_ratio": "2:1", "seed": 3})
    fields = sorted(p.field for p in problems)
    assert fields == ["aspect_ratio", "prompt", "seed"]


def test_valid_requests_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make(quality="low", size="256x256", style="natural")


@pytest.mark.parametrize("model", ["@cf/runwayml/stable-diffusion-v1-5-inpainting", "bria/fibo-edit-1.5"])
def test_a_mask_without_the_image_it_marks_is_refused(model: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make("make it snow", model=model, mask_image=png_bytes())
    assert str(caught.value) == (
        f"A mask marks what to repaint in an input image, and {model} was given none: add the image "
        "(-i SRC, images=... in Python) or leave out the mask."
    )
    make("make it snow", model=model, images=[png_bytes()], mask_image=png_bytes())  # with it: fine
