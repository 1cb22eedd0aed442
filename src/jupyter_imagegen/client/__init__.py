"""The core: one request to Cloudflare and back. Settings, models and their schemas, validation,
the HTTP clients, safe image downloads, and the image they return (saved with its provenance,
shown as one compact preview). It imports nothing of the package but the exceptions.

The layers above import from here, never a private module. Names load on first use, so importing
one light name (a loopback check at ``%load_ext``) does not pull in httpx or Pillow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._async_client import AsyncClient
    from ._base_client import BaseClient
    from ._catalog import catalog_model, is_model_id
    from ._client import Client
    from ._cloudflare import MAX_IMAGES, MAX_VARIATIONS
    from ._config import Settings, environment_fingerprint
    from ._display import (
        DISPLAY_FORMATS,
        PreviewStore,
        encode_preview,
        has_transparency,
        image_bundle,
        image_info,
        output_bundle,
    )
    from ._files import (
        provenance_bytes,
        read_provenance,
        safe_filename,
        unique_path,
        write_atomic,
        write_new_file,
    )
    from ._image_inputs import is_url_source
    from ._imagebytes import image_source_bytes, sniff_mime
    from ._model_list import ModelList, models, read_models
    from ._model_schema import describe_parameter, spec_from_schema
    from ._models import DEFAULT_MODEL, ModelSpec, get_model, list_models, shipped_model
    from ._offline import emulator_banner, is_loopback_host, uses_local_service
    from ._pricing import estimate_cost, estimate_total
    from ._redact import redact
    from ._request import NO_GATEWAY_OPTIONS, GatewayOptions, ImageRequest
    from ._result import GeneratedImage
    from ._results import GenerationResults
    from ._retry import RetryPolicy, retry_delay
    from ._svg import SVG_MIME, is_svg
    from ._terminal import printable
    from ._validation import MAX_PROMPT_CHARS, check_prompt_length, coerce_param, schema_problems

_LAZY = {
    "AsyncClient": "._async_client",
    "BaseClient": "._base_client",
    "models": "._model_list",
    "read_models": "._model_list",
    "ModelList": "._model_list",
    "catalog_model": "._catalog",
    "is_model_id": "._catalog",
    "redact": "._redact",
    "printable": "._terminal",
    "MAX_PROMPT_CHARS": "._validation",
    "check_prompt_length": "._validation",
    "Client": "._client",
    "MAX_IMAGES": "._cloudflare",
    "MAX_VARIATIONS": "._cloudflare",
    "Settings": "._config",
    "environment_fingerprint": "._config",
    "DISPLAY_FORMATS": "._display",
    "PreviewStore": "._display",
    "encode_preview": "._display",
    "has_transparency": "._display",
    "image_bundle": "._display",
    "image_info": "._display",
    "output_bundle": "._display",
    "provenance_bytes": "._files",
    "read_provenance": "._files",
    "safe_filename": "._files",
    "unique_path": "._files",
    "write_atomic": "._files",
    "write_new_file": "._files",
    "is_url_source": "._image_inputs",
    "image_source_bytes": "._imagebytes",
    "sniff_mime": "._imagebytes",
    "describe_parameter": "._model_schema",
    "spec_from_schema": "._model_schema",
    "DEFAULT_MODEL": "._models",
    "ModelSpec": "._models",
    "get_model": "._models",
    "list_models": "._models",
    "shipped_model": "._models",
    "emulator_banner": "._offline",
    "is_loopback_host": "._offline",
    "uses_local_service": "._offline",
    "estimate_cost": "._pricing",
    "estimate_total": "._pricing",
    "GatewayOptions": "._request",
    "NO_GATEWAY_OPTIONS": "._request",
    "ImageRequest": "._request",
    "GeneratedImage": "._result",
    "GenerationResults": "._results",
    "RetryPolicy": "._retry",
    "retry_delay": "._retry",
    "SVG_MIME": "._svg",
    "is_svg": "._svg",
    "coerce_param": "._validation",
    "schema_problems": "._validation",
}

__all__ = [
    "DEFAULT_MODEL",
    "DISPLAY_FORMATS",
    "MAX_IMAGES",
    "MAX_PROMPT_CHARS",
    "MAX_VARIATIONS",
    "NO_GATEWAY_OPTIONS",
    "SVG_MIME",
    "AsyncClient",
    "BaseClient",
    "Client",
    "GatewayOptions",
    "GeneratedImage",
    "GenerationResults",
    "ImageRequest",
    "ModelList",
    "ModelSpec",
    "PreviewStore",
    "RetryPolicy",
    "Settings",
    "catalog_model",
    "check_prompt_length",
    "coerce_param",
    "describe_parameter",
    "emulator_banner",
    "encode_preview",
    "environment_fingerprint",
    "estimate_cost",
    "estimate_total",
    "get_model",
    "has_transparency",
    "image_bundle",
    "image_info",
    "image_source_bytes",
    "is_loopback_host",
    "is_model_id",
    "is_svg",
    "is_url_source",
    "list_models",
    "models",
    "output_bundle",
    "printable",
    "provenance_bytes",
    "read_models",
    "read_provenance",
    "redact",
    "retry_delay",
    "safe_filename",
    "schema_problems",
    "shipped_model",
    "sniff_mime",
    "spec_from_schema",
    "unique_path",
    "uses_local_service",
    "write_atomic",
    "write_new_file",
]


def __getattr__(name: str) -> Any:  # each name's module is imported on first use
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name], __name__), name)
