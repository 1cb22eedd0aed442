"""The panel's catalog steps: the list of models, and the schema of a model the package does not
ship, are read from the live catalog in the background, so neither making a panel nor a trait
observer ever waits on the network."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from .._exceptions import ImageGenError
from ..client import ModelList, read_models
from ..runtime import learn_model_soon

if TYPE_CHECKING:
    from ..client import ModelSpec, Network, Settings
    from ..runtime import Runtime

__all__ = ["follow_catalog", "follow_models", "known_models"]

T = TypeVar("T")
_log = logging.getLogger(__name__)


def _on_callers_loop(arrived: Callable[[T], None]) -> Callable[[T], None]:
    """``arrived`` made callable from any thread: it runs on the caller's running loop (the
    kernel's, where widgets are updated) if there is one, else where it is called."""
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None

    def deliver(value: T) -> None:
        if loop is None:
            arrived(value)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(arrived, value)

    return deliver


def follow_catalog(runtime: Runtime, model: str, arrived: Callable[[str], None]) -> None:
    """Read ``model`` from the live catalog without waiting; ``arrived(model)`` runs once it is
    read (see :func:`_on_callers_loop`)."""
    deliver = _on_callers_loop(arrived)

    def read(spec: ModelSpec) -> None:
        deliver(spec.id)

    learn_model_soon(runtime, model, read)


def known_models() -> list[str]:
    """The models known without the network: shipped, and what an earlier read saved."""
    return read_models(network=False).ids


@dataclass(frozen=True)
class _Service:
    """The settings and network to read the catalog with, without the client's own connections:
    the read opens its own and closes it, so a panel leaves no connection behind."""

    settings: Settings
    network: Network


def follow_models(runtime: Runtime, arrived: Callable[[ModelList], None]) -> None:
    """Read the live catalog's list of models in a thread of its own (it ends with the read) and
    hand it to ``arrived`` (see :func:`_on_callers_loop`), its problems as notes rather than
    warnings from another thread. Nothing is read when the settings are malformed (the form
    says why)."""
    deliver = _on_callers_loop(arrived)
    try:
        client = runtime.client()  # its settings: the credentials, service and network to read with
    except ImageGenError:
        return
    service = _Service(client.settings, client.network)

    def read() -> None:
        try:
            listed = read_models(client=service)
        except Exception:  # a bug must not end in a thread's traceback; the known list stays
            _log.exception("jupyter-imagegen could not list the live catalog's models")
            return
        deliver(listed)

    threading.Thread(target=read, name="imagegen-catalog-list", daemon=True).start()
