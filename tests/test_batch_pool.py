"""The connection pool fits the concurrency: a batch (and the runtime's shared client) with more
requests in flight than httpx's default of 20 kept-alive connections reuses its connections
instead of closing and reopening them. Counted as TCP connections the emulator accepted."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from jupyter_imagegen import ImageRequest, batch
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.emulator._connections import BoundedHTTPServer
from jupyter_imagegen.runtime._runtime import get_runtime

CONCURRENCY = 32
# Each worker holds one connection at a time (the answer's, then the image download's), and the
# emulator keeps connections alive. On a busy machine a worker's next request can start while its
# last connection is still being handed back to the pool, which then opens one more; twice the
# workers is the bound, against one connection per request (512 here) for a pool that does not fit.
MOST_CONNECTIONS = 2 * CONCURRENCY


@pytest.fixture
def accepted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The client address of every TCP connection the emulator accepts."""
    seen: list[Any] = []
    lock = threading.Lock()
    serve = BoundedHTTPServer.process_request

    def counting(self: BoundedHTTPServer, request: Any, client_address: Any) -> None:
        with lock:
            seen.append(client_address)
        serve(self, request, client_address)

    monkeypatch.setattr(BoundedHTTPServer, "process_request", counting)
    yield seen


@pytest.fixture
def slow_emulator(accepted: list[Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    # Latency keeps every worker's request in flight at once, as against the real service.
    with Emulator(latency=0.05) as server:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        yield server


def test_a_batch_keeps_one_connection_per_worker(
    slow_emulator: Emulator, accepted: list[Any], tmp_path: Path
) -> None:
    count = 8 * CONCURRENCY
    prompts = [f"a heron number {i}" for i in range(count)]
    result = batch(prompts, tmp_path, rpm=600_000, concurrency=CONCURRENCY, progress=False, size="256x256")
    assert result.ok and result.generated == count
    assert len(slow_emulator.requests) == count and len(slow_emulator.file_requests) == count
    assert len(accepted) <= MOST_CONNECTIONS, f"{len(accepted)} connections for {2 * count} requests"


def test_the_shared_client_keeps_its_connections_between_runs(
    slow_emulator: Emulator, accepted: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_CONCURRENCY", str(CONCURRENCY))
    runtime = get_runtime()
    for run in range(3):  # a pool of 20 would close 12 idle connections before each new run
        requests = [
            ImageRequest.create(f"a crane number {run}.{i}", model="openai/gpt-image-1.5", size="256x256")
            for i in range(CONCURRENCY)
        ]
        outcome = runtime.run(requests)
        assert not outcome.interrupted and outcome.finished == len(requests)
        assert all(not isinstance(r, BaseException) for r in outcome.outcomes)
    assert len(accepted) <= MOST_CONNECTIONS, f"{len(accepted)} connections for {6 * CONCURRENCY} requests"


def test_an_image_received_while_the_batch_stops_is_still_written() -> None:
    """A batch holds at most ``limit`` received images for its writer; one that arrives when the
    batch is cancelled while waiting for room is written anyway: it was paid for."""
    from jupyter_imagegen.batches._job import _Writes

    written: list[str] = []
    disk_free = threading.Event()

    def slow_write() -> None:
        disk_free.wait(30)  # only keeps a broken test from hanging
        written.append("first")

    async def scenario() -> None:
        writer = ThreadPoolExecutor(max_workers=1)
        writes = _Writes(writer, limit=1)
        await writes.submit(slow_write)  # takes the only room
        waiting = asyncio.ensure_future(writes.submit(lambda: written.append("second")))
        await asyncio.sleep(0)  # it is waiting for room
        waiting.cancel()  # the batch stops (Ctrl-C)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        disk_free.set()
        await writes.finished()
        writer.shutdown(wait=True)

    asyncio.run(scenario())
    assert written == ["first", "second"]
