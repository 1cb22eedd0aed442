"""Generate images from Jupyter with Cloudflare Workers AI.

``%load_ext jupyter_imagegen`` adds the ``%%imagegen`` magic; ``ImageGenPanel()`` shows the
control panel; ``generate(...)``, :class:`Client` and :class:`AsyncClient` are the Python API.
Names are imported on first use so ``import jupyter_imagegen`` stays cheap.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContentPolicyError,
    ImageDownloadError,
    ImageGenError,
    ImageGenWarning,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from ._version import __version__

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ._batch import abatch, batch
    from ._batch_result import BatchResult
    from ._catalog import models
    from ._client import AsyncClient, Client
    from ._models import ModelSpec, get_model, list_models
    from ._panel import ImageGenPanel
    from ._request import GatewayOptions, ImageRequest
    from ._result import GeneratedImage
    from ._results import GenerationResults

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BatchResult",
    "Client",
    "ConfigurationError",
    "ContentPolicyError",
    "GatewayOptions",
    "GeneratedImage",
    "GenerationResults",
    "ImageDownloadError",
    "ImageGenError",
    "ImageGenPanel",
    "ImageGenWarning",
    "ImageRequest",
    "InsufficientCreditsError",
    "ModelSpec",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ValidationError",
    "__version__",
    "abatch",
    "batch",
    "generate",
    "generate_many",
    "get_model",
    "list_models",
    "models",
]

_LAZY = {
    "AsyncClient": "._client",
    "BatchResult": "._batch_result",
    "Client": "._client",
    "GatewayOptions": "._request",
    "GeneratedImage": "._result",
    "GenerationResults": "._results",
    "ImageGenPanel": "._panel",
    "ImageRequest": "._request",
    "ModelSpec": "._models",
    "abatch": "._batch",
    "batch": "._batch",
    "get_model": "._models",
    "list_models": "._models",
    "models": "._catalog",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'jupyter_imagegen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


_default_client: Client | None = None
_default_lock = threading.Lock()


def _shared_client() -> Client:
    """The shared client behind :func:`generate`, created on first use from the environment."""
    global _default_client
    with _default_lock:
        if _default_client is None:
            from ._client import Client

            _default_client = Client()
        return _default_client


def generate(prompt: str, **params: Any) -> GeneratedImage:
    """One image from the default client (configured by the environment); see Client.generate."""
    return _shared_client().generate(prompt, **params)


def generate_many(items: Any, *, concurrency: int = 4, **common: Any) -> GenerationResults:
    """Many images from the default client; see Client.generate_many."""
    return _shared_client().generate_many(items, concurrency=concurrency, **common)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext jupyter_imagegen``: register the ``%%imagegen`` / ``%imagegen`` magics."""
    from ._magic import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    from ._magic import unload_ipython_extension as unload

    unload(ipython)
