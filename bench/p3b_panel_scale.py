"""P3b: does the panel's cost stay flat as its gallery grows?

One ``ImageGenPanel`` on the kernel's kind of event loop, the emulator in its own process, a
private disk cache. The bench counts every byte the panel's comm sends the front end (message
JSON plus binary buffers) while one more image is made, at 10 and at 200 images of history, and
the Python heap (tracemalloc) the history holds per image between those two points.

Baseline, measured on the same panel in the same run: the front end kept in step by re-sending
the whole job list and gallery as widget state on every change (the bytes a trait update of
both lists would carry, thumbnails as buffers), and a history that holds each original in memory
(the images read back and kept).

Usage: python bench/p3b_panel_scale.py [--size 1024x1024] [--at 10 200] [--samples 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import tracemalloc
from typing import Any

from _support import emulator_process, machine, record

MB = 1024 * 1024


class Traffic:
    """Bytes of every comm message the panel sends, and what a full re-send would have cost."""

    def __init__(self, panel: Any) -> None:
        self.panel = panel
        self.sent = 0
        self.baseline = 0
        panel.comm.publish_msg = self._count

    def _count(
        self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **_: Any
    ) -> None:
        if msg_type != "comm_msg":
            return
        self.sent += len(json.dumps(data, default=repr)) + sum(memoryview(b).nbytes for b in buffers or [])
        if isinstance(data, dict) and data.get("method") == "custom":
            kind = data["content"].get("type")
            if kind in ("jobs", "gallery"):
                self.baseline += self.full_state(kind)

    def full_state(self, kind: str) -> int:
        """Bytes of a state update carrying the whole list, as a synced trait sends it."""
        from ipywidgets.widgets.widget import _remove_buffers

        value = self.panel.jobs if kind == "jobs" else self.panel.gallery
        state, paths, buffers = _remove_buffers({kind: value})
        message = {"method": "update", "state": state, "buffer_paths": paths}
        return len(json.dumps(message, default=repr)) + sum(memoryview(b).nbytes for b in buffers)


async def grow(panel: Any, count: int, size: str, prompt: str) -> None:
    """Add ``count`` images to the history, up to 8 per Generate."""
    while count > 0:
        panel.prompt, panel.params, panel.variations = prompt, {"size": size}, min(8, count)
        panel.generate()
        await panel.wait()
        count -= panel.variations


async def per_image(panel: Any, traffic: Traffic, size: str, samples: int, label: str) -> tuple[float, float]:
    """Mean bytes sent per new image (and the baseline's), one Generate of one image each."""
    sent, baseline = [], []
    for n in range(samples):
        before = traffic.sent, traffic.baseline
        await grow(panel, 1, size, f"a lighthouse, {label} {n}")
        sent.append(traffic.sent - before[0])
        baseline.append(traffic.baseline - before[1])
    return statistics.mean(sent), statistics.mean(baseline)


async def scenario(size: str, small: int, large: int, samples: int) -> dict[str, float]:
    from jupyter_imagegen import ImageGenPanel
    from jupyter_imagegen.notebook._panel_state import HISTORY

    panel = ImageGenPanel()
    traffic = Traffic(panel)
    await grow(panel, small - samples, size, "warm up")
    tracemalloc.start()
    heap_small = tracemalloc.get_traced_memory()[0]
    sent_small, base_small = await per_image(panel, traffic, size, samples, "small")
    await grow(panel, large - small - samples, size, "a growing gallery")
    sent_large, base_large = await per_image(panel, traffic, size, samples, "large")
    heap_large = tracemalloc.get_traced_memory()[0]
    added = large - small
    thumbs = statistics.mean(len(entry.thumb) for entry in HISTORY.entries)
    kept = [image.data for image in panel.images[:added]]  # what the history held before
    heap_kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(HISTORY.entries) == large, len(HISTORY.entries)
    before = traffic.sent
    traffic.panel._handle_msg(
        {"content": {"data": {"method": "custom", "content": {"type": "sync"}}}, "buffers": []}
    )
    sync = traffic.sent - before
    panel.close()
    return {
        "sent_small": sent_small,
        "sent_large": sent_large,
        "base_small": base_small,
        "base_large": base_large,
        "heap_per_image": (heap_large - heap_small) / added,
        "base_heap_per_image": (heap_kept - heap_small) / added,
        "thumb": thumbs,
        "original": statistics.mean(len(data) for data in kept),
        "sync": sync,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1024x1024")
    parser.add_argument("--at", type=int, nargs=2, default=[10, 200], metavar=("SMALL", "LARGE"))
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    small, large = args.at
    with emulator_process() as emulator_env, tempfile.TemporaryDirectory() as cache:
        os.environ.update(emulator_env, IMAGEGEN_CACHE="1", IMAGEGEN_CACHE_DIR=cache)
        r = asyncio.run(scenario(args.size, small, large, args.samples))
    ratio = r["sent_large"] / r["sent_small"]
    base_ratio = r["base_large"] / r["base_small"]
    beyond = (r["heap_per_image"] - r["thumb"]) / MB
    kb = lambda n: f"{n / 1024:,.1f} KB"  # noqa: E731
    body = f"""
One panel, images of {args.size} from the emulator in its own process, a private disk cache
({machine()}). Bytes = every comm message the panel sent while one more image was made (JSON
and binary buffers, job updates included), mean of {args.samples} single-image Generates at each
history length. Baseline, same panel and run: the whole job list and gallery re-sent as widget
state on every change, and the history holding each original in memory.

| | {small} images of history | {large} images of history | {large} / {small} |
|---|---|---|---|
| bytes per new image, panel | {kb(r["sent_small"])} | {kb(r["sent_large"])} | {ratio:.2f}x |
| bytes per new image, baseline (full re-send) | {kb(r["base_small"])} | {kb(r["base_large"])} | {base_ratio:.2f}x |

Kernel heap per image from {small} to {large} images: **{r["heap_per_image"] / MB:.3f} MB** (thumbnail
{kb(r["thumb"])}, so {beyond:.3f} MB beyond it); baseline with originals in memory
{r["base_heap_per_image"] / MB:.3f} MB per image (original {kb(r["original"])}). A page load asks once for
the whole history: {kb(r["sync"])} for {large} images.

Bytes per new image at {large} vs {small} images: **{ratio:.2f}x** (target <= 1.1x:
{"meets" if ratio <= 1.1 else "MISSES"} it; the full re-send is {base_ratio:.1f}x); memory beyond the
thumbnail **{beyond:.3f} MB** per image (target <= 0.3 MB: {"meets" if beyond <= 0.3 else "MISSES"} it).
"""
    record("P3b panel cost as the gallery grows", body)


if __name__ == "__main__":
    main()
