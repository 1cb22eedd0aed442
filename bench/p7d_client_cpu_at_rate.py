"""P7d: client CPU per image at Cloudflare's text-to-image cap (720 requests a minute), against
the emulator with 1 s latency: the package's clients against a bare ``httpx.AsyncClient`` loop
sending the same requests at the same pace, in one run.

Target: ``AsyncClient.generate`` at most 1.3x the bare loop's CPU per image. Each side runs
IMAGES images (after a warm-up) in a fresh process of its own, REPEATS processes per side,
alternating; CPU is the child's process time (every thread: the blocking client's loop thread
and workers included); the emulator runs in a process of its own. Medians.
Run: python bench/p7d_client_cpu_at_rate.py
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from jupyter_imagegen import AsyncClient, Client

from _support import bare_api, bare_async_image, emulator_process, machine, record

RPM = 720.0
LATENCY = 1.0
IMAGES = 120  # ten seconds at the cap
WARM_UP = 6
REPEATS = 3
TARGET = 1.3
MODELS = {
    "gpt": (
        "openai/gpt-image-1.5",
        {"size": "1024x1024"},
        "gpt-image-1.5 1024x1024: URL, then a PNG download",
    ),
    "flux": ("@cf/black-forest-labs/flux-1-schnell", {}, "flux-1-schnell: base64 JPEG in JSON"),
}
SIDES = ("bare", "async", "blocking")


async def paced(count: int, one: Callable[[int], Awaitable[object]]) -> None:
    """``one(i)`` started every 1/12 s (720 a minute), all awaited."""
    began, tasks = time.monotonic(), []
    for i in range(count):
        await asyncio.sleep(max(0.0, began + i * 60.0 / RPM - time.monotonic()))
        tasks.append(asyncio.create_task(one(i)))
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


async def bare_side(model: str) -> float:
    model_id, params, _ = MODELS[model]
    base, auth = bare_api(dict(os.environ))
    async with httpx.AsyncClient(timeout=60) as client:
        one = functools.partial(bare_async_image, client, base, auth, model_id, params)

        await paced(WARM_UP, one)
        started = time.process_time()
        await paced(IMAGES, one)
        return time.process_time() - started


async def async_side(model: str) -> float:
    model_id, params, _ = MODELS[model]
    async with AsyncClient() as client:

        async def one(i: int) -> object:
            return await client.generate(f"fox {i}", model=model_id, **params)

        await paced(WARM_UP, one)
        started = time.process_time()
        await paced(IMAGES, one)
        return time.process_time() - started


async def blocking_side(model: str) -> float:
    """The blocking Client called from threads (as a thread pool of a script would)."""
    model_id, params, _ = MODELS[model]
    pool = ThreadPoolExecutor(max_workers=32)
    with Client() as client:

        async def one(i: int) -> object:
            call = lambda: client.generate(f"fox {i}", model=model_id, **params)  # noqa: E731
            return await asyncio.get_running_loop().run_in_executor(pool, call)

        await paced(WARM_UP, one)
        started = time.process_time()
        await paced(IMAGES, one)
        spent = time.process_time() - started
    pool.shutdown()
    return spent


def child(side: str, model: str) -> dict[str, float]:
    run = {"bare": bare_side, "async": async_side, "blocking": blocking_side}[side]
    spent = asyncio.run(run(model))
    return {"cpu_ms": spent / IMAGES * 1000, "threads": float(threading.active_count())}


def _child(side: str, model: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", side, model], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"child {side} {model} failed:\n{out.stderr}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    with emulator_process(latency=LATENCY) as env:
        os.environ.update(env)
        runs: dict[tuple[str, str], list[float]] = {}
        for _ in range(REPEATS):
            for model in MODELS:
                for side in SIDES:
                    runs.setdefault((side, model), []).append(_child(side, model)["cpu_ms"])
    rows, verdicts = [], []
    for model, (_, _, label) in MODELS.items():
        cpu = {side: statistics.median(runs[(side, model)]) for side in SIDES}
        ratios = [a / b for a, b in zip(runs[("async", model)], runs[("bare", model)], strict=True)]
        ratio = statistics.median(ratios)
        blocking = statistics.median(
            a / b for a, b in zip(runs[("blocking", model)], runs[("bare", model)], strict=True)
        )
        rows.append(
            f"| {label} | {cpu['bare']:.2f} | {cpu['async']:.2f} | **{ratio:.2f}x** "
            f"({min(ratios):.2f}-{max(ratios):.2f}) | {cpu['blocking']:.2f} ({blocking:.2f}x) |"
        )
        verdicts.append(f"{label.split(':')[0]} {ratio:.2f}x ({'meets' if ratio <= TARGET else 'misses'})")
    record(
        "P7d client CPU per image at 720 rpm",
        f"""
{IMAGES} images per process at 720 requests a minute (one every 83 ms), after {WARM_UP} to warm
up, against the emulator in its own process with {LATENCY:g} s latency ({machine()}). Each side in
fresh processes, {REPEATS} per side, alternating; CPU is the child's process time, every thread
included; medians, ratio range in brackets. Baseline: a bare `httpx.AsyncClient` loop sending the
same requests at the same pace (post, then the download for a URL model; a base64 image decoded,
as in P2), nothing checked.

| model | bare loop ms | `AsyncClient.generate` ms | ratio | blocking `Client` from threads ms (ratio) |
|---|---|---|---|---|
{chr(10).join(rows)}

Target <= {TARGET}x for `AsyncClient.generate`: {"; ".join(verdicts)}. The blocking client runs
the same async code on its loop thread; its column adds the hand-off between threads.
""",
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(sys.argv[2], sys.argv[3])))
    else:
        main()
