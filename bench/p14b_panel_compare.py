"""P14b: a comparison from the panel against one image from the panel, and what it sends.

Wall time: ``ImageGenPanel`` on an asyncio loop (as in a kernel) against an emulator in its own
process answering every request after 1 s, at concurrency 9. Alternately, in one run: Generate
of one image (gpt-image-1.5, high, 512x512: the matrix's slowest cell; the baseline) and Generate
with 3 qualities x 2 sizes compared (six requests, one matrix); new prompts each round so nothing
is cached. Target, as P14: the matrix within 1.3x the one image.

Traffic: the bytes of the comparison's ``{"type": "comparison"}`` messages (labels, captions,
totals; re-sent whole as cells change) against the gallery's messages carrying the same images'
thumbnails. Run: python bench/p14b_panel_compare.py
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from typing import Any

from _support import emulator_process, machine, record

ROUNDS = 5
LATENCY = 1.0
COMPARE = {"quality": ["low", "medium", "high"], "size": ["256x256", "512x512"]}
SINGLE = {"quality": "high", "size": "512x512"}


class Traffic:
    """The bytes of each kind of custom message the panel sends its front end."""

    def __init__(self, panel: Any) -> None:
        self.bytes: dict[str, int] = {}
        panel.comm.publish_msg = self._count

    def _count(self, msg_type: str, data: Any = None, buffers: Any = None, **_: Any) -> None:
        if msg_type == "comm_msg" and isinstance(data, dict) and data.get("method") == "custom":
            kind = data["content"].get("type", "")
            size = len(json.dumps(data)) + sum(len(bytes(b)) for b in buffers or [])
            self.bytes[kind] = self.bytes.get(kind, 0) + size


async def timed(panel: Any, prompt: str, compare: dict[str, list[str]]) -> float:
    panel.prompt, panel.compare = prompt, compare
    started = time.perf_counter()
    panel.generate()
    await panel.wait()
    elapsed = time.perf_counter() - started
    failed = [job for job in panel.jobs if job["state"] != "done"]
    if failed:
        raise RuntimeError(f"a request failed: {failed[0]['message']}")
    return elapsed


async def scenario() -> tuple[list[float], list[float], dict[str, int]]:
    from jupyter_imagegen import ImageGenPanel

    panel = ImageGenPanel(model="openai/gpt-image-1.5", params=SINGLE)
    single, matrix = [], []
    for round_ in range(ROUNDS + 1):  # the first round warms up (imports, connections)
        one = await timed(panel, f"a fox, round {round_} one {time.time()}", {})
        traffic = Traffic(panel)
        six = await timed(panel, f"a fox, round {round_} matrix {time.time()}", COMPARE)
        if round_:
            single.append(one)
            matrix.append(six)
    panel.close()
    return single, matrix, traffic.bytes


def main() -> None:
    with emulator_process(latency=LATENCY) as env, tempfile.TemporaryDirectory() as cache:
        os.environ.update(env, IMAGEGEN_CONCURRENCY="9", IMAGEGEN_CACHE_DIR=cache)
        single, matrix, sent = asyncio.run(scenario())
    one, six = statistics.median(single), statistics.median(matrix)
    record(
        "P14b a comparison from the panel",
        f"""
`ImageGenPanel` on an asyncio loop against the emulator in its own process, every request
answered after {LATENCY:g} s, concurrency 9, median of {ROUNDS} alternating rounds with new prompts
each round ({machine()}):

| Generate | wall time | ratio |
|---|---|---|
| one image, gpt-image-1.5 high 512x512: the matrix's slowest cell (baseline) | {one:.2f} s | 1.00x |
| 3 qualities x 2 sizes compared (six requests, one matrix) | {six:.2f} s | **{six / one:.2f}x** |

The matrix finishes within {six / one:.2f}x the time of one image ({"meets" if six / one <= 1.3 else "MISSES"} the
<= 1.3x target of P14). What the last round's matrix sent the browser: {sent.get("comparison", 0):,}
bytes of comparison messages (labels, captions and totals, re-sent as cells change) beside
{sent.get("gallery", 0):,} bytes of gallery messages carrying its six thumbnails once.
""",
    )


if __name__ == "__main__":
    main()
