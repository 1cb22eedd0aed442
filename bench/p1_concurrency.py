"""P1: 8 images at 1 s emulated latency, generate_many vs a sequential loop of generate.

Target: generate_many at least 6x faster. Run: python bench/p1_concurrency.py
"""

from __future__ import annotations

import os
import time

from jupyter_imagegen import Client

from _support import emulator_process, machine, record

IMAGES = 8
LATENCY = 1.0


def main() -> None:
    with emulator_process(latency=LATENCY) as env:
        os.environ.update(env)
        with Client() as client:
            client.generate("warm-up", size="256x256")
            started = time.perf_counter()
            for i in range(IMAGES):
                client.generate(f"sequential {i}", size="256x256")
            sequential = time.perf_counter() - started
            started = time.perf_counter()
            results = client.generate_many(
                [f"concurrent {i}" for i in range(IMAGES)], concurrency=IMAGES, size="256x256"
            )
            concurrent = time.perf_counter() - started
    assert results.ok, results.errors
    speedup = sequential / concurrent
    verdict = "meets" if speedup >= 6 else "MISSES"
    record(
        "P1 concurrent generation",
        f"""
{IMAGES} images of 256x256, emulator latency {LATENCY:.1f} s per request ({machine()}).

| run | seconds |
|---|---|
| sequential `generate` loop (baseline) | {sequential:.2f} |
| `generate_many(concurrency={IMAGES})` | {concurrent:.2f} |

Speed-up **{speedup:.1f}x** ({verdict} the >= 6x target).
""",
    )


if __name__ == "__main__":
    main()
