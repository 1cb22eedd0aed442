"""P7b: batch throughput and client CPU without a binding rate cap, against a bare async httpx loop.

Both sides make the same images (the default model, gpt-image-1.5 at 256x256: an answer with a URL,
then a PNG download) at the same concurrency
against one emulator with light latency, in its own process, alternately in one run. CPU is this
process's time (every thread) per image. Targets: the batch reaches >= 0.85x the bare loop's
images per second and spends <= 1.5x its client CPU per image (the batch also writes each file
and a manifest line). A third side, the bare loop on the batch's connection pool, shows what the
pool alone changes. Ratios are taken per round (each round runs every side once, back to back)
and the median is reported with the range, since the machine's load moves them.
Run: python bench/p7b_batch_throughput.py (``--profile``: batches only, to run under a profiler)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import httpx

from jupyter_imagegen import batch
from jupyter_imagegen.client._pool import async_transport

from _support import emulator_process, machine, record

LATENCY = 0.05
CONCURRENCY = 32
COUNT = 200
ROUNDS = 6
RPM = 1_000_000.0  # far above what the emulator serves: the cap never binds
MODEL = "openai/gpt-image-1.5"
SIZE = "256x256"


async def bare_loop(
    env: dict[str, str], prompts: list[str], pool: httpx.AsyncBaseTransport | None = None
) -> int:
    """The baseline: CONCURRENCY workers posting and downloading, on a pool that fits them."""
    url = f"{env['CLOUDFLARE_BASE_URL']}/accounts/{env['CLOUDFLARE_ACCOUNT_ID']}/ai/run"
    auth = {"Authorization": f"Bearer {env['CLOUDFLARE_API_TOKEN']}"}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    queue = iter(prompts)
    made = 0
    async with httpx.AsyncClient(timeout=60, limits=limits, transport=pool) as client:

        async def worker() -> None:
            nonlocal made
            for prompt in queue:
                body = {"model": MODEL, "input": {"prompt": prompt, "size": SIZE}}
                answer = await client.post(url, headers=auth, json=body)
                answer.raise_for_status()
                image = await client.get(answer.json()["result"]["result"]["image"])
                image.raise_for_status()
                made += len(image.content) > 0

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return made


def timed(fn: Callable[[str], None], tag: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds of ``fn(tag)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(tag)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(profile: bool = False) -> None:
    with emulator_process(latency=LATENCY) as env:
        os.environ.update(env)
        sides: dict[str, list[tuple[float, float]]] = {"bare": [], "pool": [], "batch": []}

        def run_bare(tag: str) -> None:
            prompts = [f"bare {tag} {i}: a small red boat on a lake" for i in range(COUNT)]
            assert asyncio.run(bare_loop(env, prompts)) == COUNT

        def run_pool(tag: str) -> None:
            prompts = [f"pool {tag} {i}: a small red boat on a lake" for i in range(COUNT)]
            assert asyncio.run(bare_loop(env, prompts, async_transport(CONCURRENCY))) == COUNT

        def run_batch(tag: str) -> None:
            prompts = [f"batch {tag} {i}: a small red boat on a lake" for i in range(COUNT)]
            with tempfile.TemporaryDirectory() as out:
                result = batch(prompts, out, rpm=RPM, concurrency=CONCURRENCY, progress=False, size=SIZE)
                assert result.ok and result.generated == COUNT, result.summary()

        runs = {"bare": run_bare, "pool": run_pool, "batch": run_batch}
        for name, run in runs.items():
            run(f"warm {name}")  # imports, first connections
        if profile:  # only batches, for a sampling profiler: py-spy record -- python ... --profile
            for i in range(ROUNDS):
                run_batch(f"profile {i}")
            return
        loads = []
        for i in range(ROUNDS):
            for name, run in runs.items():
                sides[name].append(timed(run, str(i)))
            loads.append(os.getloadavg()[0])

    def rate(name: str, i: int) -> float:
        return COUNT / sides[name][i][0]

    def cpu(name: str, i: int) -> float:
        return sides[name][i][1] / COUNT * 1000

    def median(values: list[float]) -> float:
        return statistics.median(values)

    rounds = range(ROUNDS)
    rate_ratios = {n: [rate(n, i) / rate("bare", i) for i in rounds] for n in ("pool", "batch")}
    cpu_ratios = {n: [cpu(n, i) / cpu("bare", i) for i in rounds] for n in ("pool", "batch")}

    def spread(values: list[float]) -> str:
        return f"{median(values):.2f}x ({min(values):.2f}-{max(values):.2f})"

    rate_ratio, cpu_ratio = median(rate_ratios["batch"]), median(cpu_ratios["batch"])
    own = [cpu("batch", i) / cpu("pool", i) for i in rounds]
    record(
        "P7b batch throughput without a binding cap",
        f"""
{ROUNDS} rounds of {COUNT} {SIZE} images of {MODEL} (a URL, then a PNG download) at concurrency {CONCURRENCY},
against one emulator in its own process with {LATENCY:.2f} s latency per request
({machine()}). Each round runs the three sides back to back; figures are medians over rounds,
ratios are taken within a round (range in brackets). Baseline: a bare async httpx loop ({CONCURRENCY}
workers, a pool of {CONCURRENCY} connections, post + download). Middle: the same loop on the batch's
connection pool. Batch: `batch(rpm={RPM:,.0f})`, which also checks each image, writes it to disk
and appends a manifest line. Load average (1 min) after each round: {", ".join(f"{x:.1f}" for x in loads)}.

| figure | bare loop (baseline) | bare loop, batch's pool | `batch()` | batch / baseline |
|---|---|---|---|---|
| images per second | {median([rate("bare", i) for i in rounds]):.0f} | {median([rate("pool", i) for i in rounds]):.0f} | {median([rate("batch", i) for i in rounds]):.0f} | {spread(rate_ratios["batch"])} |
| client CPU per image, ms (all threads) | {median([cpu("bare", i) for i in rounds]):.2f} | {median([cpu("pool", i) for i in rounds]):.2f} | {median([cpu("batch", i) for i in rounds]):.2f} | {spread(cpu_ratios["batch"])} |

Throughput **{rate_ratio:.2f}x** the bare loop ({"meets" if rate_ratio >= 0.85 else "MISSES"} the >= 0.85x
target); client CPU **{cpu_ratio:.2f}x** ({"meets" if cpu_ratio <= 1.5 else "MISSES"} the <= 1.5x target).
Against the bare loop on the same pool, the batch's own work costs {spread(own)} the CPU.

What the pool changes (the middle column): it keeps as many connections alive as there are
workers (httpx keeps 20, so 32 workers kept closing and reopening connections); httpcore asks
every idle connection whether the server closed it each time a request starts or ends, and the
pool answers a whole scan with one zero-timeout poll over its sockets (anyio built its table of
socket attributes, a `getpeername` call among them, per connection per question); and the scan
itself is linear (httpcore 1.0 counts the whole pool once per idle connection: over a thousand
questions per scan at 32 connections). With all three, the bare loop spends {spread(cpu_ratios["pool"])}
of its own CPU on httpx's default pool.

What the batch adds on top, timed per thread with `time.thread_time` in a separate instrumented
run (200 images of this size): the writer thread, about 0.8 ms per image: the image file 0.7 ms
(a temp file opened once with O_EXCL at its final mode, written, fsynced and renamed; creating
and writing the file alone is 0.6 ms of it, the fsync the rest) and the manifest line (written
and flushed at once; its fsync shared, at most one a second and one at close, where it was
0.14 ms a line);
the budget ledger (a locked read-modify-write with an fsync, so a budget holds across
processes), about 0.3 ms per image since requests that ask for their reservation while an
update is under way share the next one; and on the event loop the answer's checks, the URL
checks and the image check, as in `Client.generate` (P2). The image's fsync stays: it is on disk
before its manifest line is written, so a crash or power cut never leaves a line without its
file (at worst the last lines are lost and their images adopted by the next run). A worker sends
its next request while its last image is written on the writer thread.
""",
    )


if __name__ == "__main__":
    main(profile="--profile" in sys.argv[1:])
