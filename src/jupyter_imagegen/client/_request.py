"""ImageRequest: one validated request, the unit every front end builds and the client sends.

Building one checks everything that can be checked offline, so a bad parameter fails here with a
fix-it message and no network call. ``cache_key`` identifies the image it asks for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ImageGenWarning, ValidationError
from ._cloudflare import GATEWAY_HEADERS
from ._models import ModelSpec, check_model_id, get_model, list_models
from ._request_images import collect_images, collect_mask, wire_inputs, with_placeholders
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
    """A prompt, a model, its parameters and input images, checked against the model's schema.

    ``images`` holds each input image's bytes, or an ``https://`` URL for a model that takes URLs;
    ``mask`` likewise, for a model that takes one (``mask_image=`` when building; a ``mask``
    parameter is the model's own field, sent as given)."""

    prompt: str
    model: str
    params: Mapping[str, Any] = field(default_factory=dict)
    images: tuple[bytes | str, ...] = field(default=(), repr=False)
    gateway: GatewayOptions = NO_GATEWAY_OPTIONS
    variation: int = 0
    mask: bytes | str | None = field(default=None, repr=False)

    @classmethod
    def create(
        cls,
        prompt: str,
        *,
        model: str,
        images: Any = None,
        gateway: GatewayOptions | None = None,
        variation: int = 0,
        mask_image: Any = None,
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
        reserved = {"prompt", "images", "image", "image_input", "image_b64"}
        found = spec.image_input
        reserved.update(found.names if found else ())
        for name in sorted(reserved & set(clean)):
            raise ValidationError(
                "Pass the prompt once, as the first argument."
                if name == "prompt"
                else f"Pass input images with images=..., not as the {name!r} parameter."
            )
        image_sources = collect_images(images, spec)
        mask_source = collect_mask(mask_image, spec, image_sources)
        validate_params(spec, with_placeholders(spec, prompt, clean, image_sources, mask_source))
        _warn_unlisted_params(spec, clean)
        gateway = gateway or NO_GATEWAY_OPTIONS
        return cls(prompt, model, clean, image_sources, gateway, variation, mask_source)

    @property
    def spec(self) -> ModelSpec:
        return get_model(self.model)

    @property
    def image_hashes(self) -> tuple[str, ...]:
        return tuple(_digest(source) for source in self.images)

    @property
    def expected_images(self) -> int:
        """How many images this request may bring back (a model's own count parameter)."""
        return self.spec.images_per_request(self.params)

    @property
    def cache_key(self) -> str:
        """A stable id for the image this request asks for: never includes credentials."""
        identity: dict[str, Any] = {
            "model": self.model,
            "prompt": self.prompt,
            "params": dict(sorted(self.params.items())),
            "images": list(self.image_hashes),
            "variation": self.variation,
        }
        if self.mask is not None:  # absent otherwise: keys of earlier entries stay the same
            identity["mask"] = _digest(self.mask)
        text = json.dumps(identity, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def model_inputs(self, seed: int | None = None) -> dict[str, Any]:
        """The model's inputs as they go on the wire (file parts as bytes), with ``seed`` when
        the client picked one."""
        return wire_inputs(self.spec, self.prompt, self.params, self.images, self.mask, seed)

    def with_variation(self, variation: int) -> ImageRequest:
        return dataclasses.replace(self, variation=variation)


def _digest(source: bytes | str) -> str:
    return hashlib.sha256(source if isinstance(source, bytes) else source.encode("utf-8")).hexdigest()


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
