"""The model registry: what each Cloudflare image model accepts and how it answers.

The schemas are the ones Cloudflare publishes in its model catalog, shipped as package data in
``models/*.json``. A model that is not shipped is looked up in the account's live catalog
(``_catalog``, an explicit step of building a request, never of :func:`get_model`) and its spec
is learned here; one that is in neither still works: it is sent unvalidated on the route its id
implies (``@cf/...`` hosted, anything else proxied) and a warning says so.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from .._exceptions import ValidationError
from ._image_inputs import ImageInput, image_input_of, mask_input_of

__all__ = [
    "DEFAULT_MODEL",
    "ModelSpec",
    "check_model_id",
    "forget_learned",
    "get_model",
    "learn_model",
    "list_models",
    "shipped_model",
]

DEFAULT_MODEL = "openai/gpt-image-1.5"

# docs/cloudflare.md §1: ``@cf/owner/name`` or ``provider/name``, letters, digits, ``.``, ``_``, ``-`` and
# ``/`` separators. The id goes into the URL path of a request that carries the token.
_MODEL_ID = re.compile(r"(@cf/)?[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)+")

Hosting = Literal["proxied", "hosted"]
OutputKind = Literal["url", "base64-json", "binary", "url-array"]
RequestFormat = Literal["json", "multipart"]
# A model's own images-per-request parameters (the package's ``n`` means variations instead).
IMAGES_PER_REQUEST = ("max_images", "num_images", "n")
# What a model that takes no ``prompt`` calls its text, if anything (Bria FIBO Edit).
_PROMPT_FIELDS = ("prompt", "instruction")


@dataclass(frozen=True)
class ModelSpec:
    """One model: its id, the route it is called on, what it answers and its input schema."""

    id: str
    hosting: Hosting
    output_kind: OutputKind
    input_schema: dict[str, Any] = field(repr=False)
    binary_content_type: str | None = None
    pricing: Any = field(default=None, repr=False)
    known: bool = True
    # "shipped" with the package, read from the live "catalog", "unlisted" (the catalog was read
    # and has no such model: refused) or "unknown" (the catalog could not say: sent unchecked).
    origin: str = "shipped"
    # Why a model is unknown when the live catalog could not say (shown with the warning).
    note: str | None = field(default=None, compare=False)
    # JSON (top level for @cf models, {model, input} for others) or multipart/form-data.
    request_format: RequestFormat = "json"
    # True when the answer reports the seed it used (Bria's FIBO models).
    answers_seed: bool = False

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        props: dict[str, dict[str, Any]] = self.input_schema.get("properties", {})
        return props

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        """The schema's properties other than the prompt, the input images and the mask."""
        found = self.image_input
        skip = {*_PROMPT_FIELDS, "mask", "image", "images", *(found.names if found else ())}
        return {k: v for k, v in self.properties.items() if k not in skip}

    @property
    def closed(self) -> bool:
        """True when the schema rejects properties it does not list."""
        return self.input_schema.get("additionalProperties", True) is False

    @property
    def image_input(self) -> ImageInput | None:
        """The field and form the model takes input images in, if it edits."""
        return image_input_of(self.properties)

    @property
    def mask_input(self) -> ImageInput | None:
        return mask_input_of(self.properties)

    @property
    def max_images(self) -> int:
        found = self.image_input
        return 0 if found is None else found.max

    @property
    def prompt_field(self) -> str | None:
        """Where the prompt goes: ``prompt``, else ``instruction``; None for a model without text
        input (background removal). An unknown model is sent a ``prompt``."""
        return next((name for name in _PROMPT_FIELDS if name in self.properties), None)

    @property
    def required(self) -> list[str]:
        """Required parameters besides the prompt and the images (Qwen's ``size``, ...)."""
        names = self.input_schema.get("required", [])
        return [n for n in names if isinstance(n, str) and n in self.parameters]

    @property
    def takes_seed(self) -> bool:
        return "seed" in self.properties

    def images_per_request(self, params: Mapping[str, Any]) -> int:
        """How many images one request may bring back: the model's own count parameter as
        given, else its default, else one."""
        for name in IMAGES_PER_REQUEST:
            rule = self.properties.get(name)
            if rule is None or rule.get("const") == 1:
                continue
            value = params.get(name, rule.get("default", 1))
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return 1

    @classmethod
    def unknown(cls, model_id: str, note: str | None = None) -> ModelSpec:
        hosting: Hosting = "hosted" if model_id.startswith("@cf/") else "proxied"
        schema: dict[str, Any] = {"type": "object", "properties": {"prompt": {"type": "string"}}}
        kind: OutputKind = "base64-json" if hosting == "hosted" else "url"
        return cls(model_id, hosting, kind, schema, known=False, origin="unknown", note=note)

    @classmethod
    def from_file(cls, raw: dict[str, Any]) -> ModelSpec:
        """The spec a shipped (or ``--models DIR``) JSON file describes."""
        return cls(
            id=raw["model"],
            hosting=raw["hosting"],
            output_kind=raw["output_kind"],
            input_schema=raw["input_schema"],
            binary_content_type=raw.get("binary_content_type"),
            pricing=raw.get("pricing"),
            request_format=raw.get("request_format", "json"),
            answers_seed="seed" in (raw.get("output_schema") or {}).get("properties", {}),
        )


@functools.cache
def _registry() -> dict[str, ModelSpec]:
    models: dict[str, ModelSpec] = {}
    folder = resources.files("jupyter_imagegen.client") / "models"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".json"):
            continue
        raw = json.loads(entry.read_text(encoding="utf-8"))
        models[raw["model"]] = ModelSpec.from_file(raw)
    return models


def list_models() -> list[str]:
    """The ids of every model the registry knows, default first."""
    ids = sorted(_registry())
    ids.remove(DEFAULT_MODEL)
    return [DEFAULT_MODEL, *ids]


def shipped_model(model_id: str) -> ModelSpec | None:
    """The spec shipped with the package for ``model_id``, or None."""
    return _registry().get(model_id)


def check_model_id(model_id: object) -> str:
    """``model_id`` when it is a well-formed model id; a ValidationError saying why not."""
    if not isinstance(model_id, str):
        raise ValidationError(f"The model id must be text, got {type(model_id).__name__}.")
    if not _MODEL_ID.fullmatch(model_id) or ".." in model_id:
        shown = model_id if len(model_id) <= 80 else model_id[:77] + "..."
        raise ValidationError(
            f"{shown!r} is not a model id: ids look like @cf/owner/name or provider/name, made of "
            "letters, digits, '.', '_', '-' and '/' (`imagegen models` lists known ones)."
        )
    return model_id


# Specs of models the package does not ship, as the live catalog last described them in this
# process (or why it could not): written by the catalog step, read without any I/O.
_learned: dict[str, ModelSpec] = {}


def learn_model(spec: ModelSpec) -> None:
    """Remember what the live catalog said of a model the package does not ship."""
    _learned[spec.id] = spec


def forget_learned() -> None:
    _learned.clear()


def get_model(model_id: str) -> ModelSpec:
    """The shipped spec for ``model_id``, else the one the live catalog gave in this process, else
    an unvalidated spec. Never touches the network or the disk beyond the shipped schemas: reading
    the catalog is an explicit step (``Client.prepare``, the runtime's request builder)."""
    shipped = _registry().get(model_id)
    if shipped is not None:
        return shipped
    return _learned.get(model_id) or ModelSpec.unknown(model_id)
