"""P7: a 500-prompt batch under a 600 rpm cap against the emulator with light latency.

Targets: achieved rate >= 95% of the cap; peak memory flat between 50 and 500 prompts.
Each batch runs in a fresh child process (so its peak RSS is its own) against an emulator in a
process of its own; a failing child's stderr is kept and printed. Run: python bench/p7_batch_rate.py
(``--runs N``: the whole measurement N times in a row, each with a new emulator; every run must
pass, and the last one's figures are recorded with every run's outcome).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from typing import Any

import httpx

from jupyter_imagegen import batch

from _support import emulator_process, machine, record

CAP = 600.0
LATENCY = 0.05
CONCURRENCY = 16
SMALL, LARGE = 50, 500
UNCAPPED = 60_000.0  # for the heap runs: memory, not rate


class RecordingTransport(httpx.AsyncHTTPTransport):
    """Notes when each API request leaves the client."""

    def __init__(self, starts: list[float]) -> None:
        super().__init__()
        self.starts = starts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.starts.append(time.monotonic())
        return await super().handle_async_request(request)


def child(count: int, rpm: float, trace: bool) -> dict[str, Any]:
    """One batch in this process; returns its figures."""
    if trace:
        tracemalloc.start()
    starts: list[float] = []
    prompts = [f"synthetic sample {i}: a small red boat on a lake, morning light" for i in range(count)]
    with tempfile.TemporaryDirectory() as out:
        began = time.monotonic()
        result = batch(
            prompts,
            out,
            rpm=rpm,
            concurrency=CONCURRENCY,
            progress=False,
            size="256x256",
            client_options={"transport": RecordingTransport(starts)},
        )
        elapsed = time.monotonic() - began
        assert result.ok and result.requests == count, result.summary()
        began = time.monotonic()
        again = batch(prompts, out, rpm=rpm, progress=False, size="256x256")
        resume = time.monotonic() - began
        assert again.requests == 0 and again.skipped == count
    window = max(sum(1 for t in starts if s <= t < s + 10.0) for s in starts)
    return {
        "count": count,
        "elapsed": elapsed,
        "span": starts[-1] - starts[0],
        "peak_10s": window,
        "resume": resume,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "heap_peak_mb": tracemalloc.get_traced_memory()[1] / 2**20 if trace else None,
    }


def run_child(env: dict[str, str], count: int, rpm: float, trace: bool = False) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(count), str(rpm), "1" if trace else "0"]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the batch child failed ({done.returncode}):\n{done.stderr.strip()}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def measure() -> dict[str, Any]:
    with emulator_process(latency=LATENCY) as env:
        small = run_child(env, SMALL, CAP)
        large = run_child(env, LARGE, CAP)
        heap_small = run_child(env, SMALL, UNCAPPED, trace=True)
        heap_large = run_child(env, LARGE, UNCAPPED, trace=True)
    share = large["count"] * 60.0 / large["elapsed"] / CAP
    rss_ratio = large["maxrss_mb"] / small["maxrss_mb"]
    return {
        "small": small,
        "large": large,
        "heap_small": heap_small,
        "heap_large": heap_large,
        "share": share,
        "rss_ratio": rss_ratio,
        "passed": share >= 0.95 and rss_ratio <= 1.1,
    }


def main(runs: int = 1) -> None:
    outcomes = []
    for number in range(1, runs + 1):
        try:
            outcome = measure()
        except Exception as exc:  # reported with the child's stderr, then the run fails
            print(f"run {number} of {runs} failed: {exc}", file=sys.stderr)
            raise
        outcomes.append(outcome)
        print(
            f"run {number} of {runs}: {outcome['share']:.1%} of the cap, peak RSS {outcome['rss_ratio']:.2f}x"
        )
    last = outcomes[-1]
    small, large, heap_small, heap_large = (last[k] for k in ("small", "large", "heap_small", "heap_large"))
    rate = large["count"] * 60.0 / large["elapsed"]
    steady = (large["count"] - 1) * 60.0 / large["span"]
    share, rss_ratio = last["share"], last["rss_ratio"]
    heap_ratio = heap_large["heap_peak_mb"] / heap_small["heap_peak_mb"]
    ceiling = CAP / 60 * 10 + 1  # burst 1 + 10 s at the cap
    passed = sum(o["passed"] for o in outcomes)
    shares = ", ".join(f"{o['share']:.1%}" for o in outcomes)
    ratios = ", ".join(f"{o['rss_ratio']:.2f}x" for o in outcomes)
    stability = (
        f"{runs} runs in a row, each with a new emulator: {passed} of {runs} met both targets "
        f"(achieved rate {shares}; peak RSS ratio {ratios}); the figures above are the last run's."
        if runs > 1
        else "One run (`--runs 5` repeats the whole measurement)."
    )
    record(
        "P7 batch at a rate cap",
        f"""
`batch()` of {LARGE} prompts (256x256) with `rpm={CAP:.0f}`, `concurrency={CONCURRENCY}`, burst 1;
emulator in its own process with {LATENCY:.2f} s latency per request ({machine()}). Each batch runs
in a fresh process; the {SMALL}-prompt batch is the memory baseline.

| figure | {SMALL} prompts (baseline) | {LARGE} prompts |
|---|---|---|
| wall time of the batch (s) | {small["elapsed"]:.1f} | {large["elapsed"]:.1f} |
| achieved rate, all requests / wall time (rpm) | {small["count"] * 60 / small["elapsed"]:.0f} | {rate:.0f} |
| steady rate, first to last request (rpm) | {(small["count"] - 1) * 60 / small["span"]:.0f} | {steady:.0f} |
| most requests in any 10 s (bucket allows {ceiling:.0f}) | {small["peak_10s"]} | {large["peak_10s"]} |
| peak RSS of the process (MB) | {small["maxrss_mb"]:.1f} | {large["maxrss_mb"]:.1f} |
| peak Python heap, uncapped run (MB, tracemalloc) | {heap_small["heap_peak_mb"]:.2f} | {heap_large["heap_peak_mb"]:.2f} |
| rerun that finds every item done (s) | {small["resume"]:.2f} | {large["resume"]:.2f} |

Achieved rate **{share:.1%} of the cap** ({"meets" if share >= 0.95 else "MISSES"} the >= 95% target);
peak RSS {rss_ratio:.2f}x and peak heap {heap_ratio:.2f}x the {SMALL}-prompt run
({"flat: meets" if rss_ratio <= 1.1 else "NOT flat: misses"} the target). Images go to disk as they
finish and only small manifest entries stay in memory; the heap figure grows by about the size of
the extra input rows and entries.

Stability: {stability}
""",
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        count, rpm, trace = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1"
        print(json.dumps(child(count, rpm, trace)))
    else:
        main(int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 1)
