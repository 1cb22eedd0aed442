"""P13: what the usage ledger adds: a request sent to the emulator (reserved, then settled) and
a cell of 16 cached images (its hits counted once), against the same work without the ledger.

Target: at most 5 ms per request sent and at most 1.5x for the cached cell.
Run: python bench/p13_usage_ledger.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable

from jupyter_imagegen import Client
from jupyter_imagegen.runtime._fetch import fetch_async
from jupyter_imagegen.runtime._runtime import get_runtime
from jupyter_imagegen.runtime._usage import UsageLedger

from _support import emulator_process, machine, record

ROUNDS = 200
CELL, CELL_ROUNDS = 16, 30
MODEL = "@cf/black-forest-labs/flux-1-schnell"


def paired_medians(
    plain: Callable[[int], object], metered: Callable[[int], object], rounds: int
) -> tuple[float, float]:
    """Median ms of each, run alternately so that drift on a shared machine hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for index in range(rounds):
        for action, into in ((plain, times[0]), (metered, times[1])):
            started = time.perf_counter()
            action(index)
            into.append(time.perf_counter() - started)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def without_ledger(action: Callable[[int], object]) -> Callable[[int], object]:
    """``action`` with the ledger's reads and writes made no-ops: the baseline."""

    def run(index: int) -> object:
        read, update = UsageLedger.read, UsageLedger.update
        UsageLedger.read = lambda self: {}  # type: ignore[method-assign]
        UsageLedger.update = lambda self, change: None  # type: ignore[method-assign]
        try:
            return action(index)
        finally:
            UsageLedger.read, UsageLedger.update = read, update  # type: ignore[method-assign]

    return run


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, emulator_process() as env:
        os.environ.update(env)
        os.environ["IMAGEGEN_CACHE_DIR"] = os.path.join(folder, "cache")
        runtime = get_runtime()
        with Client() as client:
            cell = [client.prepare(f"a lighthouse {i}", model=MODEL) for i in range(CELL)]
            assert not runtime.run(cell).errors  # now cached
            cached_plain, cached_metered = paired_medians(
                without_ledger(lambda _: runtime.run(cell)), lambda _: runtime.run(cell), CELL_ROUNDS
            )
            fresh = [client.prepare(f"a harbour {i}", model=MODEL) for i in range(2 * ROUNDS)]
            sender = runtime.async_client(runtime.loop.loop())

            def send(index: int) -> object:  # one request through the fetch path, on the runtime's loop
                spend = runtime.meter().reservation()
                return runtime.loop.call(fetch_async(sender, fresh[index], None, spend=spend))

            plain_send, metered_send = paired_medians(
                without_ledger(send), lambda i: send(ROUNDS + i), ROUNDS
            )
        runtime.close()
    cell_ratio = cached_metered / cached_plain
    added = metered_send - plain_send
    verdict = "meets" if added <= 5 and cell_ratio <= 1.5 else "MISSES"
    record(
        "P13 usage ledger overhead",
        f"""
Medians, emulator without latency ({machine()}); the baseline is the same code with the ledger's
reads and writes made no-ops, the two run alternately.

| path | without the ledger (baseline), ms | with it, ms |
|---|---|---|
| a request sent (`fetch_async`, reserved then settled; median of {ROUNDS}) | {plain_send:.3f} | {metered_send:.3f} (+{added:.3f}) |
| a cell of {CELL} cached images (`Runtime.run`; median of {CELL_ROUNDS}) | {cached_plain:.3f} | {cached_metered:.3f} ({cell_ratio:.2f}x) |

The ledger adds **{added:.2f} ms** to a request sent, and a cached cell takes **{cell_ratio:.2f}x**
({verdict} the targets: <= 5 ms, <= 1.5x). A change is one locked read and one atomic rewrite of
a small JSON file; a cell's cache hits are written once, when it ends.
""",
    )


if __name__ == "__main__":
    main()
