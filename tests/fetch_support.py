"""The runtime's one fetch path (``fetch_async``), driven from a test's thread with a blocking
client (on the client's own loop) or a stub that answers synchronously."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_imagegen.client._loop import run_blocking
from jupyter_imagegen.runtime import fetch_async


class _AsyncStub:
    """A stub's synchronous ``generate`` as the async client's."""

    def __init__(self, stub: Any) -> None:
        self.settings, self._stub = stub.settings, stub

    async def generate(self, request: Any, **options: Any) -> Any:  # retry_policy: a stub never retries
        return self._stub.generate(request)


def fetch(client: Any, request: Any, cache: Any, **options: Any) -> Any:
    own = getattr(client, "_async", None)  # a blocking Client runs its AsyncClient on its own loop
    if own is not None:
        return run_blocking(fetch_async(own, request, cache, **options))
    return asyncio.run(fetch_async(_AsyncStub(client), request, cache, **options))  # type: ignore[arg-type]
