"""The core: one request to Cloudflare and back. Settings, models and their schemas, validation,
the HTTP clients, safe image downloads, and the image they return (saved with its provenance,
shown as one compact preview). It imports nothing of the package but the exceptions.

The layers above import from here, never a private module. Names load on first use, so importing
one light name (a loopback check at ``%load_ext``) does not pull in httpx or Pillow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

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
    from ._network import Network
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
    "Network",
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


# Type checkers read the imports above instead, so a name missing there is an error, not Any.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "._async_client": ["AsyncClient"],
            "._base_client": ["BaseClient"],
            "._catalog": ["catalog_model", "is_model_id"],
            "._client": ["Client"],
            "._cloudflare": ["MAX_IMAGES", "MAX_VARIATIONS"],
            "._config": ["Settings", "environment_fingerprint"],
            "._display": [
                "DISPLAY_FORMATS",
                "PreviewStore",
                "encode_preview",
                "has_transparency",
                "image_bundle",
                "image_info",
                "output_bundle",
            ],
            "._files": [
                "provenance_bytes",
                "read_provenance",
                "safe_filename",
                "unique_path",
                "write_atomic",
                "write_new_file",
            ],
            "._image_inputs": ["is_url_source"],
            "._imagebytes": ["image_source_bytes", "sniff_mime"],
            "._model_list": ["ModelList", "models", "read_models"],
            "._model_schema": ["describe_parameter", "spec_from_schema"],
            "._network": ["Network"],
            "._models": ["DEFAULT_MODEL", "ModelSpec", "get_model", "list_models", "shipped_model"],
            "._offline": ["emulator_banner", "is_loopback_host", "uses_local_service"],
            "._pricing": ["estimate_cost", "estimate_total"],
            "._redact": ["redact"],
            "._request": ["GatewayOptions", "ImageRequest", "NO_GATEWAY_OPTIONS"],
            "._result": ["GeneratedImage"],
            "._results": ["GenerationResults"],
            "._retry": ["RetryPolicy", "retry_delay"],
            "._svg": ["SVG_MIME", "is_svg"],
            "._terminal": ["printable"],
            "._validation": ["MAX_PROMPT_CHARS", "check_prompt_length", "coerce_param", "schema_problems"],
        },
        __all__,
    )
