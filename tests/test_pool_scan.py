"""The async pool's scan (which request gets which connection, which connections close) decides
exactly as httpcore's does, while asking each connection a bounded number of questions: httpcore
asks every connection whether it is idle once per idle connection."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import httpcore
import pytest
from httpcore._async.connection_pool import AsyncPoolRequest

from jupyter_imagegen.client._pool import _POOL, _LinearScanPool

ORIGINS = ("http://a.test", "http://b.test")
STATES = ("closed", "expired", "idle", "busy", "new")


class FakeConnection:
    """A connection in one state, counting the questions the pool asks it."""

    def __init__(self, label: str, origin: str, state: str, questions: list[str]) -> None:
        self.label, self.state, self.questions = label, state, questions
        self.origin = httpcore.URL(origin).origin

    def _ask(self, question: str) -> None:
        self.questions.append(question)

    def is_closed(self) -> bool:
        self._ask("closed")
        return self.state == "closed"

    def has_expired(self) -> bool:
        self._ask("expired")
        return self.state == "expired"

    def is_idle(self) -> bool:
        self._ask("idle")
        return self.state == "idle"

    def is_available(self) -> bool:
        self._ask("available")
        return self.state == "idle"

    def can_handle_request(self, origin: Any) -> bool:
        return bool(origin == self.origin)


def _pool_class(base: type[httpcore.AsyncConnectionPool], questions: list[str]) -> type[Any]:
    class Pool(base):  # type: ignore[valid-type,misc]
        def create_connection(self, origin: Any) -> FakeConnection:
            scheme, host = origin.scheme.decode(), origin.host.decode()
            return FakeConnection(f"new:{host}", f"{scheme}://{host}", "new", questions)

    return Pool


def _scan(
    base: type[httpcore.AsyncConnectionPool],
    connections: list[tuple[str, str]],
    requests: list[str],
    max_connections: int,
    keepalive: int,
) -> tuple[list[str], list[str], list[str | None], int]:
    """Remaining connections, closed ones and each request's connection after one scan, and how
    many questions the connections were asked."""

    async def run() -> tuple[list[str], list[str], list[str | None], int]:
        questions: list[str] = []
        pool = _pool_class(base, questions)(
            max_connections=max_connections, max_keepalive_connections=keepalive
        )
        pool._connections = [
            FakeConnection(f"c{i}", origin, state, questions) for i, (origin, state) in enumerate(connections)
        ]
        pool._requests = [AsyncPoolRequest(httpcore.Request("GET", f"{origin}/")) for origin in requests]
        closing = pool._assign_requests_to_connections()
        assigned = [None if r.connection is None else r.connection.label for r in pool._requests]
        return [c.label for c in pool._connections], [c.label for c in closing], assigned, len(questions)

    return asyncio.run(run())


def _scenarios() -> list[tuple[list[tuple[str, str]], list[str], int, int]]:
    rng = random.Random(20261201)
    scenarios = []
    for _ in range(300):
        size = rng.randint(0, 12)
        connections = [(rng.choice(ORIGINS), rng.choice(STATES)) for _ in range(size)]
        requests = [rng.choice(ORIGINS) for _ in range(rng.randint(0, 6))]
        scenarios.append((connections, requests, rng.randint(1, 14), rng.randint(0, 10)))
    return scenarios


@pytest.mark.parametrize("case", range(300))
def test_the_scan_decides_as_httpcores_does(case: int) -> None:
    connections, requests, max_connections, keepalive = _scenarios()[case]
    ours = _scan(_LinearScanPool, connections, requests, max_connections, keepalive)
    theirs = _scan(httpcore.AsyncConnectionPool, connections, requests, max_connections, keepalive)
    assert ours[:3] == theirs[:3]


def _questions_for(base: type[httpcore.AsyncConnectionPool], size: int) -> int:
    # A batch between requests: every connection idle and open, one request arriving.
    return _scan(base, [(ORIGINS[0], "idle")] * size, [ORIGINS[0]], 2 * size, size)[3]


def test_a_scan_asks_each_connection_a_bounded_number_of_questions() -> None:
    count: Callable[[int], int] = lambda size: _questions_for(_LinearScanPool, size)  # noqa: E731
    # Linear: doubling the pool doubles the questions (httpcore's own grows fourfold).
    assert count(64) <= 2 * count(32) + 4
    assert count(32) <= 6 * 32


def test_httpcores_own_scan_is_the_quadratic_one_we_replace() -> None:
    # Keeps the reason for the override honest: if httpcore's scan becomes linear, drop ours.
    assert _questions_for(httpcore.AsyncConnectionPool, 64) > 3 * _questions_for(
        httpcore.AsyncConnectionPool, 32
    )


def test_the_linear_scan_is_used_only_on_the_httpcore_it_mirrors() -> None:
    mirrored = httpcore.__version__.startswith("1.0.")
    assert _POOL is (_LinearScanPool if mirrored else httpcore.AsyncConnectionPool)
