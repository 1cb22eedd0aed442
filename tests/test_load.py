"""Load: 200 requests through ``generate_many`` while the emulator injects random faults. Every
request is accounted for (an image or the reason it failed), results keep the input order, nothing
is left running, and memory is flat once the results are dropped."""

from __future__ import annotations

import asyncio
import gc
import random
import tracemalloc
from collections import Counter
from typing import Any

import httpx
import pytest

from fault_support import client_sockets, settle, snapshot
from jupyter_imagegen import AsyncClient, Client, GeneratedImage, GenerationResults, ImageGenError
from jupyter_imagegen.emulator import Emulator

REQUESTS = 200
# (kind, options, weight). "latency" of 0 s is a normal answer: it lets the queue say "no fault".
FAULTS: list[tuple[str, dict[str, Any], int]] = [
    ("latency", {"seconds": 0}, 60),
    ("rate_limit", {"retry_after": 0}, 6),
    ("rate_limit", {}, 3),
    ("server_error", {"status": 502}, 4),
    ("server_error", {"status": 503}, 3),
    ("reset", {}, 3),
    ("truncated", {}, 3),
    ("failed_state", {}, 3),
    ("daily_limit", {}, 2),
    ("moderation", {}, 2),
    ("malformed_json", {}, 2),
    ("not_an_image", {}, 2),
    ("expired_url", {}, 2),
    ("truncated_base64", {}, 2),
    ("hang", {"seconds": 5}, 1),
]


def queue_random_faults(emulator: Emulator, count: int, seed: int) -> Counter[str]:
    rng = random.Random(seed)
    kinds = rng.choices(FAULTS, weights=[w for _, _, w in FAULTS], k=count)
    for kind, options, _ in kinds:
        emulator.inject(kind, **options)
    return Counter(kind for kind, _, _ in kinds)


def settings_for(emulator: Emulator) -> dict[str, Any]:
    return dict(
        account_id=emulator.account_id,
        api_token=emulator.token,
        base_url=emulator.base_url,
        max_retries=2,
        timeout=httpx.Timeout(10.0, read=1.0),
    )


def run_batch(emulator: Emulator, prompts: list[str], *, use_async: bool) -> GenerationResults:
    if not use_async:
        with Client(**settings_for(emulator)) as client:
            return client.generate_many(prompts, concurrency=8, size="256x256", quality="low")

    async def scenario() -> GenerationResults:
        async with AsyncClient(**settings_for(emulator)) as client:
            results = await client.generate_many(prompts, concurrency=8, size="256x256", quality="low")
        assert asyncio.all_tasks() == {asyncio.current_task()}
        return results

    return asyncio.run(scenario())


def check_accounted_for(results: GenerationResults, prompts: list[str]) -> Counter[str]:
    assert len(results) == len(prompts)
    assert [request.prompt for request in results.requests] == prompts
    reasons: Counter[str] = Counter()
    for prompt, outcome in zip(prompts, results, strict=True):
        if isinstance(outcome, GeneratedImage):
            assert outcome.prompt == prompt and (outcome.width, outcome.height) == (256, 256)
        else:
            assert isinstance(outcome, ImageGenError), repr(outcome)
            assert str(outcome).strip()
            reasons[type(outcome).__name__] += 1
    assert len(results.images) + len(results.errors) == len(prompts)
    return reasons


@pytest.mark.timeout(300)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_200_requests_with_random_faults(use_async: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "jupyter_imagegen.client._retry.BASE_DELAY", 0.02
    )  # backoff sizes are tested elsewhere
    before = snapshot()
    with Emulator() as emulator:
        run_batch(emulator, [f"warm-up {i}" for i in range(16)], use_async=use_async)
        emulator.reset()
        gc.collect()
        tracemalloc.start()
        try:
            start_memory = tracemalloc.get_traced_memory()[0]
            injected = queue_random_faults(emulator, REQUESTS, seed=20260101 + use_async)
            prompts = [f"lighthouse number {i}" for i in range(REQUESTS)]
            results = run_batch(emulator, prompts, use_async=use_async)
            reasons = check_accounted_for(results, prompts)
            images = len(results.images)
            del results
            emulator.reset()  # its request log is the emulator's memory, not the client's
            gc.collect()
            growth = tracemalloc.get_traced_memory()[0] - start_memory
        finally:
            tracemalloc.stop()
        assert client_sockets(emulator.port) == 0
    # Final faults fail their request; transient ones are retried (a few, unluckily, twice more).
    final = sum(injected[k] for k in ("daily_limit", "moderation", "malformed_json", "not_an_image"))
    final += sum(injected[k] for k in ("expired_url", "truncated_base64", "hang"))
    assert sum(reasons.values()) >= final and images >= REQUESTS - final - 10
    print(f"\n{REQUESTS} requests: {images} images, errors {dict(reasons)}; injected {dict(injected)}")
    print(f"traced memory growth after the run: {growth / 1024:.0f} KiB")
    assert growth < 2 * 1024 * 1024
    threads, fds = settle(before)
    assert threads == [] and fds <= 0
