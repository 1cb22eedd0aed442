"""Generate images from Jupyter with Cloudflare Workers AI.

``%load_ext jupyter_imagegen`` adds the ``%%imagegen`` magic; ``ImageGenPanel()`` shows the
control panel; ``generate(...)``, :class:`Client` and :class:`AsyncClient` are the Python API.
Names are imported on first use so ``import jupyter_imagegen`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
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
from ._lazy import lazy_exports
from ._version import __version__

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .batches import BatchResult, abatch, batch
    from .client import (
        AsyncClient,
        Client,
        GatewayOptions,
        GeneratedImage,
        GenerationResults,
        ImageRequest,
        ModelSpec,
        get_model,
        list_models,
        models,
    )
    from .notebook import Comparison, ImageGenPanel
    from .runtime import Usage

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BatchResult",
    "BudgetExceededError",
    "Client",
    "Comparison",
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
    "Usage",
    "ValidationError",
    "__version__",
    "abatch",
    "batch",
    "generate",
    "generate_many",
    "get_model",
    "list_models",
    "models",
    "usage",
]


# Type checkers read the imports above instead, so a name missing there is an error, not Any.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            ".batches": ["BatchResult", "abatch", "batch"],
            ".client": [
                "AsyncClient",
                "Client",
                "GatewayOptions",
                "GeneratedImage",
                "GenerationResults",
                "ImageRequest",
                "ModelSpec",
                "get_model",
                "list_models",
                "models",
            ],
            ".notebook": ["Comparison", "ImageGenPanel"],
            ".runtime": ["Usage"],
        },
        __all__,
    )


def generate(prompt: str | ImageRequest, *, refresh: bool = False, **params: Any) -> GeneratedImage:
    """One image from the process's runtime (configured by %config and the environment); the
    parameters are those of Client.generate. A new sample each call unless the API cache is on
    (``api_cache``), then an identical earlier request is reused; ``refresh=True`` always asks
    for a new one."""
    from .client import ImageRequest
    from .runtime import build_call, get_runtime

    runtime = get_runtime()
    request = build_call(runtime, prompt if isinstance(prompt, ImageRequest) else {"prompt": prompt}, params)
    ran = runtime.run([request], refresh=refresh, api=True)
    (outcome,) = ran.outcomes
    if ran.interrupted or outcome is None:
        raise KeyboardInterrupt("The image was cancelled before it arrived.")
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def generate_many(
    items: Any, *, concurrency: int | None = None, refresh: bool = False, **common: Any
) -> GenerationResults:
    """Many images from the process's client, at most ``concurrency`` at once (default: the
    runtime's); results keep the input order and a failed item holds its error. Uses the cache
    as :func:`generate` does."""
    from collections.abc import Mapping

    from .client import GenerationResults, ImageRequest
    from .runtime import build_call, get_runtime

    runtime = get_runtime()
    if isinstance(items, (str, ImageRequest, Mapping)):
        items = [items]
    requests = [build_call(runtime, item, common) for item in items]
    if concurrency is not None and concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}.")
    ran = runtime.run(requests, refresh=refresh, api=True, concurrency=concurrency)
    if ran.interrupted:
        raise KeyboardInterrupt(
            f"{ran.finished} of {len(requests)} images finished; the rest were cancelled."
        )
    outcomes = [outcome for outcome in ran.outcomes if outcome is not None]
    return GenerationResults(requests, outcomes)


def usage() -> Usage:
    """What this user generated, per UTC day and model (images, requests, cache hits, estimated
    USD), from the ledger every kernel and command shares, with today's budgets."""
    from .runtime import get_runtime

    return get_runtime().meter().usage()


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext jupyter_imagegen``: register the ``%%imagegen`` / ``%imagegen`` magics."""
    from .notebook import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    from .notebook import unload_ipython_extension as unload

    unload(ipython)
