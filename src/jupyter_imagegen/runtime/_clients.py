"""The runtime's shared clients: one per event loop (connections belong to a loop) plus one
blocking client, each replaced when the settings it was built from change, and the old one
closed without making anyone wait for it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client import AsyncClient, Client

__all__ = ["SharedClients"]

_Slot = tuple[str, "Client | AsyncClient", "asyncio.AbstractEventLoop | None"]


class SharedClients:
    """Clients by key (an event loop, or ``"sync"``), each with the fingerprint of its settings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[object, _Slot] = {}

    def get(
        self,
        key: object,
        fingerprint: str,
        make: Callable[[], Client | AsyncClient],
        loop: asyncio.AbstractEventLoop | None,
    ) -> Client | AsyncClient:
        """The client under ``key``; a new one from ``make`` when there is none or its settings'
        ``fingerprint`` changed (the old one is then retired)."""
        with self._lock:
            current = self._clients.get(key)
            if current is not None and current[0] == fingerprint:
                return current[1]
            client = make()  # may raise ConfigurationError; the old client then stays
            self._clients[key] = (fingerprint, client, loop)
        if current is not None:
            retire(current[1], current[2])
        return client

    def release(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Close the async client of ``loop``; the next use makes a new one."""
        with self._lock:
            current = self._clients.pop(loop, None) if loop is not None else None
        if current is not None:
            retire(current[1], current[2])

    def take_all(self) -> list[_Slot]:
        """Every client with its loop, forgotten here: the caller closes them."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        return clients


def retire(client: Client | AsyncClient, loop: asyncio.AbstractEventLoop | None) -> None:
    """Close a replaced client; an async one on its own loop, without waiting for it."""
    from ..client import Client

    if isinstance(client, Client):
        client.close()
    elif loop is not None and loop.is_running() and not loop.is_closed():
        if _running_loop() is loop:  # a task now, so whoever waits for the loop's tasks sees it
            task = loop.create_task(client.aclose())
            _closing.add(task)
            task.add_done_callback(_closing.discard)
        else:
            with contextlib.suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(client.aclose(), loop)


_closing: set[asyncio.Task[None]] = set()  # a loop keeps only weak references to tasks


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
