"""ImageRequest: one validated request, the unit every front end builds and the client sends.

Building one checks everything that can be checked offline, so a bad parameter fails here with a
fix-it message and no network call. ``cache_key`` identifies the image it asks for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ImageGenWarning, ValidationError
from ._cloudflare import GATEWAY_HEADERS
from ._imagebytes import image_source_bytes, sniff_mime
from ._models import ModelSpec, check_model_id, get_model, list_models
from ._validation import validate_params

__all__ = ["GatewayOptions", "ImageRequest"]

# What every front end of the package calls the number of variations (one request each): never a
# model parameter by accident. A model whose schema lists one of them still gets it as its own.
VARIATION_NAMES = ("n", "count")
# (model, parameter) pairs already warned about as not in the model's schema: one warning each.
_warned_extra: set[tuple[str, str]] = set()

_CACHE_TTL_RANGE = (60, 2_592_000)


@dataclass(frozen=True)
class GatewayOptions:
    """Per-request AI Gateway settings, sent as ``cf-aig-*`` headers (docs/cloudflare.md §1)."""

    gateway_id: str | None = None
    skip_cache: bool = False
    cache_ttl: int | None = None
    cache_key: str | None = None
    metadata: Mapping[str, str | int | float | bool] | None = None
    request_timeout_ms: int | None = None

    def __post_init__(self) -> None:
        low, high = _CACHE_TTL_RANGE
        if self.cache_ttl is not None and not low <= self.cache_ttl <= high:
            raise ValidationError(f"cache_ttl must be {low}..{high} seconds, got {self.cache_ttl}.")
        if self.metadata is not None:
            if len(self.metadata) > 5:
                raise ValidationError(f"Gateway metadata takes at most 5 entries, got {len(self.metadata)}.")
            for key, value in self.metadata.items():
                if not isinstance(value, (str, int, float, bool)):
                    raise ValidationError(
                        f"Gateway metadata values must be strings, numbers or booleans; {key!r} is a {type(value).__name__}."
                    )
        if self.request_timeout_ms is not None and self.request_timeout_ms <= 0:
            raise ValidationError(f"request_timeout_ms must be positive, got {self.request_timeout_ms}.")

    def headers(self, default_gateway: str) -> dict[str, str]:
        headers = {GATEWAY_HEADERS["gateway_id"]: self.gateway_id or default_gateway}
        if self.skip_cache:
            headers[GATEWAY_HEADERS["skip_cache"]] = "true"
        if self.cache_ttl is not None:
            headers[GATEWAY_HEADERS["cache_ttl"]] = str(self.cache_ttl)
        if self.cache_key:
            headers[GATEWAY_HEADERS["cache_key"]] = self.cache_key
        if self.metadata:
            headers[GATEWAY_HEADERS["metadata"]] = json.dumps(dict(self.metadata), separators=(",", ":"))
        if self.request_timeout_ms is not None:
            headers[GATEWAY_HEADERS["request_timeout"]] = str(self.request_timeout_ms)
        return headers


NO_GATEWAY_OPTIONS = GatewayOptions()  # immutable: one shared by every request that sets none


# Slots: a batch holds one request per input row, and each then needs no instance dict.
@dataclass(frozen=True, slots=True)
class ImageRequest:
    """A prompt, a model, its parameters and input images, checked against the model's schema."""

    prompt: str
    model: str
    params: Mapping[str, Any] = field(default_factory=dict)
    images: tuple[bytes, ...] = field(default=(), repr=False)
    gateway: GatewayOptions = NO_GATEWAY_OPTIONS
    variation: int = 0

    @classmethod
    def create(
        cls,
        prompt: str,
        *,
        model: str,
        images: Any = None,
        gateway: GatewayOptions | None = None,
        variation: int = 0,
        **params: Any,
    ) -> ImageRequest:
        """Validate and build; raises :class:`ValidationError` naming the fix."""
        if not isinstance(prompt, str):
            raise ValidationError(f"The prompt must be text, got {type(prompt).__name__}.")
        spec = get_model(check_model_id(model))
        if spec.origin == "unlisted":
            raise ValidationError(_unlisted_message(model))
        if not spec.known:
            known = ", ".join(list_models())
            why = f" ({spec.note})" if spec.note else ""
            warnings.warn(
                f"{model!r} is not a model jupyter-imagegen knows ({known}){why}; "
                "its parameters are sent unchecked.",
                ImageGenWarning,
                stacklevel=3,
            )
        clean = {k: v for k, v in params.items() if v is not None}
        for name in VARIATION_NAMES:
            if name in clean and name not in spec.properties:
                raise ValidationError(
                    f"{name}={clean[name]!r}: one call makes one image; for variations use "
                    f"generate_many([prompt] * {clean[name]!r}) in Python, or -n in %%imagegen and imagegen."
                )
        for reserved in ("prompt", "images", "image", "image_input", "image_b64"):
            if reserved in clean:
                raise ValidationError(
                    f"Pass input images with images=..., not as the {reserved!r} parameter."
                    if reserved != "prompt"
                    else "Pass the prompt once, as the first argument."
                )
        image_bytes = _collect_images(images, spec)
        candidate = dict(clean, prompt=prompt)
        if image_bytes:  # placeholders: the schema checks count and type, not content
            name, is_list = spec.image_field or ("images", True)
            candidate[name] = ["<image>"] * len(image_bytes) if is_list else "<image>"
        validate_params(spec, candidate)
        _warn_unlisted_params(spec, clean)
        return cls(prompt, model, clean, image_bytes, gateway or NO_GATEWAY_OPTIONS, variation)

    @property
    def spec(self) -> ModelSpec:
        return get_model(self.model)

    @property
    def image_hashes(self) -> tuple[str, ...]:
        return tuple(hashlib.sha256(data).hexdigest() for data in self.images)

    @property
    def cache_key(self) -> str:
        """A stable id for the image this request asks for: never includes credentials."""
        identity = {
            "model": self.model,
            "prompt": self.prompt,
            "params": dict(sorted(self.params.items())),
            "images": list(self.image_hashes),
            "variation": self.variation,
        }
        text = json.dumps(identity, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def model_inputs(self) -> dict[str, Any]:
        """The model's input object as it goes on the wire."""
        inputs: dict[str, Any] = {"prompt": self.prompt, **self.params}
        if self.images:
            inputs.update(_image_field(self.spec, self.images))
        return inputs

    def with_variation(self, variation: int) -> ImageRequest:
        return ImageRequest(self.prompt, self.model, self.params, self.images, self.gateway, variation)


def _unlisted_message(model: str) -> str:
    from ._validation import nearest

    guess = nearest(model, list_models())
    hint = f"did you mean {guess}? " if guess is not None else ""
    return (
        f"{model!r} is not a model: the live catalog does not list it; {hint}(`imagegen models` lists them)."
    )


def _warn_unlisted_params(spec: ModelSpec, params: Mapping[str, Any]) -> None:
    """Once per model and name: a parameter the schema does not list (an open schema lets it
    through, and the service may ignore it without a word)."""
    if not spec.known:
        return
    for name in params:
        if name in spec.properties or (spec.id, name) in _warned_extra:
            continue
        _warned_extra.add((spec.id, name))
        takes = ", ".join(sorted(spec.parameters)) or "no parameters besides the prompt"
        warnings.warn(
            f"{name!r} is not a parameter of {spec.id} (it takes: {takes}); it is sent, and the "
            "model may ignore it.",
            ImageGenWarning,
            stacklevel=4,
        )


def _collect_images(images: Any, spec: ModelSpec) -> tuple[bytes, ...]:
    if images is None:
        return ()
    many = isinstance(images, (list, tuple))
    sources = list(images) if many else [images]
    if not sources:
        return ()
    if spec.known and spec.image_field is None:
        editors = [m for m in list_models() if get_model(m).image_field is not None]
        raise ValidationError(
            f"{spec.id} does not take input images; models that edit images: {', '.join(editors)}."
        )
    if spec.known and len(sources) > spec.max_images:
        raise ValidationError(
            f"{spec.id} takes at most {spec.max_images} input image(s); {len(sources)} were given."
        )
    return tuple(image_source_bytes(source) for source in sources)


def _image_field(spec: ModelSpec, images: tuple[bytes, ...]) -> dict[str, Any]:
    name, is_list = spec.image_field or ("images", True)
    if not is_list:
        return {name: base64.b64encode(images[0]).decode("ascii")}
    return {name: [_data_uri(data) for data in images]}


def _data_uri(data: bytes) -> str:
    mime = sniff_mime(data) or "image/png"
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
