"""The request builder's catalog step: the spec of a model the package does not ship is read from
the account's live catalog here, explicitly, on the runtime's loop and with its own time limit,
never inside :func:`~jupyter_imagegen.client.get_model` (which reads nothing) and never while a
panel's trait observer waits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..client import catalog_model, get_model

if TYPE_CHECKING:
    from ..client import ModelSpec
    from ._runtime import Runtime

__all__ = ["CATALOG_WAIT", "learn_model_soon", "model_spec"]

# How long building a request waits for the live catalog before the model goes as the catalog last
# described it (or unchecked, with one warning); the read goes on and serves the next request.
CATALOG_WAIT = 20.0


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
