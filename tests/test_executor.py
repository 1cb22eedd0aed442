"""The one executor on its own: its queue, its start events, cancellation and a run's outcomes.

The client here is a stand-in whose requests finish when the test says so, so the test can look
at the queue while requests are in flight; every front end's use of the executor against the
emulator is in test_one_path.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from jupyter_imagegen import ImageRequest, ValidationError
from jupyter_imagegen.runtime import Executor
from panel_support import until


class HeldClient:
    """Answers each request when the test releases it; records what is in flight."""

    settings = SimpleNamespace(base_url="http://127.0.0.1:9/client/v4", account_id="acct")

    def __init__(self) -> None:
        self.in_flight: list[str] = []
        self.most = 0
        self.release: dict[str, asyncio.Event] = {}
        self.policies: list[Any] = []

    async def generate(self, request: ImageRequest, *, retry_policy: Any = None) -> Any:
        self.policies.append(retry_policy)
        self.in_flight.append(request.prompt)
        self.most = max(self.most, len(self.in_flight))
        try:
            await self.release.setdefault(request.prompt, asyncio.Event()).wait()
        finally:
            self.in_flight.remove(request.prompt)
        if request.prompt.startswith("refused"):
            raise ValidationError("refused by the service")
        return SimpleNamespace(prompt=request.prompt, images=None, cached=False)


def request(prompt: str) -> ImageRequest:
    return ImageRequest.create(prompt, model="@cf/black-forest-labs/flux-1-schnell")


def test_at_most_concurrency_run_and_the_rest_start_in_order() -> None:
    async def scenario() -> None:
        client = HeldClient()
        executor = Executor(client, concurrency=2)  # type: ignore[arg-type]
        started: list[str] = []
        names = ["a", "b", "c", "d"]
        tasks = [
            asyncio.ensure_future(executor.fetch(request(n), on_start=lambda n=n: started.append(n)))
            for n in names
        ]
        await until(lambda: len(client.in_flight) == 2)
        assert started == ["a", "b"] and sorted(client.in_flight) == ["a", "b"]  # c and d wait
        client.release.setdefault("a", asyncio.Event()).set()
        await until(lambda: "c" in client.in_flight)
        assert started == ["a", "b", "c"] and sorted(client.in_flight) == ["b", "c"]
        for name in names:
            client.release.setdefault(name, asyncio.Event()).set()
        done = await asyncio.gather(*tasks)
        assert [image.prompt for image in done] == names and client.most == 2

    asyncio.run(scenario())


def test_a_cancelled_request_that_was_waiting_never_starts() -> None:
    async def scenario() -> None:
        client = HeldClient()
        executor = Executor(client, concurrency=1)  # type: ignore[arg-type]
        started: list[str] = []
        first = asyncio.ensure_future(
            executor.fetch(request("first"), on_start=lambda: started.append("first"))
        )
        queued = asyncio.ensure_future(
            executor.fetch(request("queued"), on_start=lambda: started.append("queued"))
        )
        await until(lambda: client.in_flight == ["first"])
        queued.cancel()
        first.cancel()  # and the running one: its request is cancelled where it waits
        await asyncio.gather(first, queued, return_exceptions=True)
        assert started == ["first"] and client.in_flight == []

    asyncio.run(scenario())


def test_a_run_keeps_each_outcome_in_place_and_one_failure_stops_nothing() -> None:
    async def scenario() -> None:
        client = HeldClient()
        executor = Executor(client, concurrency=4)  # type: ignore[arg-type]
        outcomes: list[Any] = [None] * 3
        run = asyncio.ensure_future(
            executor.run([request("one"), request("refused two"), request("three")], outcomes)
        )
        await until(lambda: len(client.in_flight) == 3)
        for name in ("refused two", "three"):
            client.release.setdefault(name, asyncio.Event()).set()
        await until(lambda: outcomes[1] is not None and outcomes[2] is not None)
        assert outcomes[0] is None and isinstance(outcomes[1], ValidationError)  # reported as it ended
        assert outcomes[2].prompt == "three"
        run.cancel()  # the one still running is cancelled and closed
        with pytest.raises(asyncio.CancelledError):
            await run
        assert client.in_flight == [] and outcomes[0] is None

    asyncio.run(scenario())


def test_the_retry_policy_reaches_the_client_and_the_client_is_read_at_each_request() -> None:
    async def scenario() -> None:
        clients = [HeldClient(), HeldClient()]
        policy = object()
        executor = Executor(lambda: clients[0], concurrency=1)  # type: ignore[arg-type, return-value]
        clients[0].release["a"] = asyncio.Event()
        clients[0].release["a"].set()
        await executor.fetch(request("a"), retry_policy=policy)  # type: ignore[arg-type]
        clients.reverse()  # new credentials were set: the next request takes the new client
        clients[0].release["b"] = asyncio.Event()
        clients[0].release["b"].set()
        await executor.fetch(request("b"))
        assert clients[1].policies == [policy] and clients[0].policies == [None]

    asyncio.run(scenario())


def test_each_takes_the_next_item_only_as_a_handler_finishes_and_stops_at_the_first_error() -> None:
    async def scenario() -> None:
        executor = Executor(HeldClient(), concurrency=2)  # type: ignore[arg-type]
        taken: list[int] = []
        release = {i: asyncio.Event() for i in range(5)}
        cancelled: list[int] = []

        async def handle(item: int) -> None:
            taken.append(item)
            try:
                await release[item].wait()
            except asyncio.CancelledError:
                cancelled.append(item)
                raise
            if item == 2:
                raise ValueError("item 2 failed")

        run = asyncio.ensure_future(executor.each(range(5), handle))
        await until(lambda: taken == [0, 1])  # two at once; the rest are not taken yet
        release[0].set()
        await until(lambda: taken == [0, 1, 2])
        release[2].set()  # fails: the one still running is cancelled, nothing more is taken
        with pytest.raises(ValueError, match="item 2 failed"):
            await run
        assert taken == [0, 1, 2] and cancelled == [1]

    asyncio.run(scenario())
