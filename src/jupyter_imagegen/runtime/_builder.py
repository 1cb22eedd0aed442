"""The one request builder: every front end's options become :class:`ImageRequest` objects here.

The magic, ``imagegen generate``, the panel (its form checked on every change, and Generate),
``generate()``/``generate_many()`` and each row of a batch give it a model, parameters, input
images, gateway options and a number of variations; it reads the model's spec, turns
``NAME=VALUE`` texts into the schema's types, fills the configured defaults (quality, size,
style) and builds each request, which validates itself against the schema.

The spec of a model the package does not ship is read from the account's live catalog here,
explicitly, on the runtime's loop and with its own time limit, never inside
:func:`~jupyter_imagegen.client.get_model` (which reads nothing) and never while a panel's trait
observer waits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._exceptions import ValidationError
from ..client import NO_GATEWAY_OPTIONS, GatewayOptions, ImageRequest, catalog_model, coerce_param, get_model

if TYPE_CHECKING:
    from ..client import BaseClient, ModelSpec
    from ._runtime import Runtime

__all__ = [
    "CATALOG_WAIT",
    "GATEWAY_KEYS",
    "build_call",
    "build_requests",
    "learn_model_soon",
    "model_spec",
    "parse_param_texts",
]

# How long building a request waits for the live catalog before the model goes as the catalog last
# described it (or unchecked, with one warning); the read goes on and serves the next request.
CATALOG_WAIT = 20.0
# Keyword arguments of a call (generate(), a batch's columns) that are gateway options, not parameters.
GATEWAY_KEYS = ("gateway_id", "skip_cache", "cache_ttl", "cache_key", "metadata", "request_timeout_ms")


def _read(runtime: Runtime, model: str) -> concurrent.futures.Future[ModelSpec]:
    client = runtime.client()  # its settings: the credentials and service the catalog is read from
    # The catalog client blocks: it runs in a worker thread started from the runtime's loop.
    return asyncio.run_coroutine_threadsafe(
        asyncio.to_thread(catalog_model, model, client), runtime.loop.loop()
    )


def model_spec(runtime: Runtime, model: str, *, wait: float = CATALOG_WAIT) -> ModelSpec:
    """The spec requests for ``model`` are built and checked with: the shipped one, one the catalog
    gave earlier in this process, else the live catalog's, waited for at most ``wait`` seconds."""
    known = get_model(model)
    if known.origin != "unknown":
        return known
    try:
        return _read(runtime, model).result(wait)
    except concurrent.futures.TimeoutError:
        return get_model(model)


def learn_model_soon(runtime: Runtime, model: str, then: Callable[[ModelSpec], None]) -> None:
    """The catalog step without waiting (a panel's model switch): ``then(spec)`` is called, from a
    worker thread, once a model the package does not ship has been read; never for a shipped one."""
    if get_model(model).origin == "shipped":
        return
    _read(runtime, model).add_done_callback(lambda done: None if done.exception() else then(done.result()))


def parse_param_texts(spec: ModelSpec, texts: Sequence[str]) -> dict[str, Any]:
    """Each ``NAME=VALUE`` (``--param``) in the schema's type; ValidationError for a malformed one."""
    params: dict[str, Any] = {}
    for item in texts:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"--param takes NAME=VALUE (e.g. --param steps=4), got {item!r}.")
        params[name.strip()] = coerce_param(spec, name.strip(), text.strip())
    return params


def build_requests(
    runtime: Runtime,
    prompts: Sequence[str],
    *,
    model: str | None = None,
    params: Mapping[str, Any] | None = None,
    param_texts: Sequence[str] = (),
    images: Any = None,
    mask: Any = None,
    variations: int = 1,
    first_variation: int = 0,
    gateway: Mapping[str, Any] | None = None,
    defaults: bool = True,
    wait: float = CATALOG_WAIT,
    planner: BaseClient | None = None,
) -> list[ImageRequest]:
    """``variations`` requests of each prompt, in that order, validated against the model's schema.

    ``model``: else the client's default (``planner``, else the runtime's client). ``params`` are
    typed values; ``param_texts`` are ``NAME=VALUE`` texts, typed by the schema; ``defaults``
    fills the configured quality, size and style the call leaves out (a form that shows them
    already passes False). ``wait``: how long the catalog step may take; 0 builds with what is
    known now (a form checked on every keystroke).
    """
    chosen_model = model or (planner or runtime.client()).model
    spec = model_spec(runtime, chosen_model, wait=wait) if wait > 0 else get_model(chosen_model)
    values = {**(params or {}), **parse_param_texts(spec, param_texts)}
    if defaults:
        values = runtime.model_defaults(chosen_model, values)
    options = GatewayOptions(**gateway) if gateway else NO_GATEWAY_OPTIONS
    return [
        ImageRequest.create(
            prompt,
            model=chosen_model,
            images=images,
            mask_image=mask,
            gateway=options,
            variation=first_variation + i,
            **values,
        )
        for prompt in prompts
        for i in range(variations)
    ]


def build_call(
    runtime: Runtime, item: Any, common: Mapping[str, Any], *, planner: BaseClient | None = None
) -> ImageRequest:
    """One request from a call's item (a prompt, a dict with a ``prompt`` key, or a ready
    :class:`ImageRequest`) and its keyword arguments: ``generate()``, ``generate_many()``, a batch row."""
    if isinstance(item, ImageRequest):
        return item
    if isinstance(item, str):
        fields = {**common, "prompt": item}
    elif isinstance(item, Mapping):
        fields = {**common, **item}
        if "prompt" not in fields:
            raise ValidationError(f"A request dict needs a 'prompt' key; got keys {sorted(fields)}.")
    else:
        raise TypeError(f"Expected a prompt, a dict or an ImageRequest, got {type(item).__name__}.")
    prompt = fields.pop("prompt")
    model, images, mask, variation = (
        fields.pop("model", None),
        fields.pop("images", None),
        fields.pop("mask", None),
        fields.pop("variation", 0),
    )
    gateway = {key: fields.pop(key) for key in GATEWAY_KEYS if key in fields}
    (request,) = build_requests(
        runtime,
        [prompt],
        model=model,
        params=fields,
        images=images,
        mask=mask,
        first_variation=variation,
        gateway={key: value for key, value in gateway.items() if value is not None},
        planner=planner,
    )
    return request
