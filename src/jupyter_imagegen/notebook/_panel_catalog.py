"""The panel's catalog step: a model the package does not ship is read from the live catalog in
the background, so a trait observer never waits on the network."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..runtime import learn_model_soon

if TYPE_CHECKING:
    from ..client import ModelSpec
    from ..runtime import Runtime

__all__ = ["follow_catalog"]


def follow_catalog(runtime: Runtime, model: str, arrived: Callable[[str], None]) -> None:
    """Read ``model`` from the live catalog without waiting; ``arrived(model)`` runs once it is
    read, on the caller's running loop (the kernel's, where widgets are updated) if there is one."""
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None

    def read(spec: ModelSpec) -> None:
        if loop is None:
            arrived(spec.id)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(arrived, spec.id)

    learn_model_soon(runtime, model, read)
