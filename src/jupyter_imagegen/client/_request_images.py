"""The input images, mask, prompt and seed of a request: checked before sending, then written in
the form the model's schema asks for (see :mod:`._image_inputs`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._exceptions import ValidationError
from ._image_inputs import ImageInput, encode_images, is_url_source
from ._imagebytes import image_source_bytes
from ._models import ModelSpec, get_model, list_models

__all__ = ["collect_images", "collect_mask", "wire_inputs", "with_placeholders"]

_PLACEHOLDER_URL = "https://example.invalid/image.png"


def _source(spec: ModelSpec, found: ImageInput | None, source: Any, what: str) -> bytes | str:
    """One image the user gave, as bytes, or as the https URL it is for a model that takes URLs."""
    if is_url_source(source):
        if found is not None and not found.accepts_urls and spec.known:
            raise ValidationError(
                f"{spec.id} takes {what} as image data, not URLs: download {source} and give its path."
            )
        return str(source)
    if found is not None and found.url_only:
        raise ValidationError(
            f"{spec.id} takes {what} as https:// URLs only (it cannot receive a file): give a URL, "
            "e.g. -i https://example.com/photo.png."
        )
    return image_source_bytes(source)


def collect_images(images: Any, spec: ModelSpec) -> tuple[bytes | str, ...]:
    """The input images, counted against the schema's maximum before anything is read."""
    if images is None:
        return ()
    sources = list(images) if isinstance(images, (list, tuple)) else [images]
    if not sources:
        return ()
    found = spec.image_input
    if spec.known and found is None:
        editors = [m for m in list_models() if get_model(m).image_input is not None]
        raise ValidationError(
            f"{spec.id} does not take input images; models that edit images: {', '.join(editors)}."
        )
    if spec.known and len(sources) > spec.max_images:
        raise ValidationError(
            f"{spec.id} takes at most {spec.max_images} input image(s); {len(sources)} were given."
        )
    return tuple(_source(spec, found, source, "input images") for source in sources)


def collect_mask(mask: Any, spec: ModelSpec, images: tuple[bytes | str, ...]) -> bytes | str | None:
    """The mask, for a model that takes one and with the input image it marks the parts of."""
    if mask is None:
        return None
    found = spec.mask_input
    if spec.known and found is None:
        raise ValidationError(f"{spec.id} takes no mask: leave out --mask (mask=...).")
    if spec.known and not images:
        raise ValidationError(
            f"A mask marks what to repaint in an input image, and {spec.id} was given none: add "
            "the image (-i SRC, images=... in Python) or leave out the mask."
        )
    return _source(spec, found, mask, "a mask")


def _placeholder(found: ImageInput, source: bytes | str) -> bytes | str:
    # The schema checks the count and type of images, not their content: a stand-in of the
    # right form keeps validation from encoding megabytes.
    if isinstance(source, str):
        return source
    if found.form == "url-object":
        return _PLACEHOLDER_URL
    return source[:3] if found.form == "byte-array" else b"\x89PN"


def with_placeholders(
    spec: ModelSpec,
    prompt: str,
    params: dict[str, Any],
    images: tuple[bytes | str, ...],
    mask: bytes | str | None,
) -> dict[str, Any]:
    """What schema validation sees: the parameters, the prompt in its field, and stand-ins for
    the images and the mask."""
    candidate = dict(params)
    field = spec.prompt_field if spec.known else "prompt"
    if field is None and prompt.strip():
        raise ValidationError(f"{spec.id} takes no prompt (only input images): leave the prompt empty.")
    if field is not None and (prompt or field == "prompt"):
        candidate[field] = prompt
    found = spec.image_input
    if images and found is not None:
        candidate.update(encode_images(found, tuple(_placeholder(found, i) for i in images)))
    mask_input = spec.mask_input
    if mask is not None and mask_input is not None:
        candidate.update(encode_images(mask_input, (_placeholder(mask_input, mask),)))
    return candidate


def wire_inputs(
    spec: ModelSpec,
    prompt: str,
    params: Mapping[str, Any],
    images: tuple[bytes | str, ...],
    mask: bytes | str | None,
    seed: int | None,
) -> dict[str, Any]:
    """The model's inputs as sent: file parts stay bytes (the multipart encoder sends them)."""
    inputs: dict[str, Any] = dict(params)
    field = spec.prompt_field if spec.known else "prompt"
    if field is not None and (prompt or field == "prompt"):
        inputs[field] = prompt
    if seed is not None:
        inputs["seed"] = seed
    found = spec.image_input or ImageInput("images", "data-uri", True, 16, True, False)
    if images:
        inputs.update(encode_images(found, images))
    mask_input = spec.mask_input
    if mask is not None and mask_input is not None:
        inputs.update(encode_images(mask_input, (mask,)))
    return inputs
