"""P8: the cost of a cache write stays flat as the cache fills.

Measured in one run, on one disk: the median time of a ``put`` into an empty cache (the baseline)
and into a cache already holding 5,000 entries; the time to fill a cache to 5,000 entries; and,
for context, what one listing of the folder costs at that size (what every write used to pay).
Target: a write at 5,000 entries costs <= 1.5x a write into an empty cache; lookups list nothing.
Run: python bench/p8_cache.py
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time

from PIL import Image

from jupyter_imagegen import GeneratedImage, ImageRequest
from jupyter_imagegen.runtime._cache import ImageCache

from _support import machine, record

FULL = 5_000
SAMPLES = 1_000
MODEL = "@cf/black-forest-labs/flux-1-schnell"


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "teal").save(buffer, "PNG")
    return buffer.getvalue()


DATA = small_png()


def entry(index: int) -> tuple[ImageRequest, GeneratedImage]:
    request = ImageRequest.create(f"benchmark prompt {index}", model=MODEL)
    image = GeneratedImage(
        data=DATA,
        mime_type="image/png",
        prompt=request.prompt,
        model=request.model,
        params=dict(request.params),
        width=32,
        height=32,
        log_id=None,
        elapsed=0.0,
        created="2026-01-01T00:00:00+00:00",
        variation=0,
    )
    return request, image


def timed_put_ms(cache: ImageCache, index: int) -> float:
    request, image = entry(index)
    began = time.perf_counter()
    cache.put(request, image)
    return (time.perf_counter() - began) * 1000


def interleaved_means(empty: ImageCache, full: ImageCache) -> tuple[float, float]:
    """Mean milliseconds of SAMPLES writes into each cache, alternating one write to each so both
    see the same machine load; the mean, not the median, so the occasional listing of the folder
    is counted in, amortised."""
    empty_times, full_times = [], []
    for index in range(SAMPLES):
        empty_times.append(timed_put_ms(empty, index))
        full_times.append(timed_put_ms(full, FULL + index))
    return statistics.fmean(empty_times), statistics.fmean(full_times)


def main() -> None:
    with tempfile.TemporaryDirectory() as empty_dir, tempfile.TemporaryDirectory() as full_dir:
        full = ImageCache(full_dir)
        began = time.perf_counter()
        for index in range(FULL):
            full.put(*entry(index))
        fill_s = time.perf_counter() - began

        empty = ImageCache(empty_dir)
        empty.put(*entry(-1))  # the first write of a process measures the folder once
        empty_ms, full_ms = interleaved_means(empty, full)

        began = time.perf_counter()
        listed = len(full._files(include_temp=True))
        scan_ms = (time.perf_counter() - began) * 1000

        lookups = [entry(index)[0] for index in range(0, FULL, 25)]
        began = time.perf_counter()
        hits = sum(full.get(request) is not None for request in lookups)
        get_ms = (time.perf_counter() - began) * 1000 / len(lookups)
    assert hits == len(lookups)
    ratio = full_ms / empty_ms
    record(
        "P8 cache writes as the cache fills",
        f"""
Mean of {SAMPLES:,} writes into each cache, alternating, of a small PNG entry ({len(DATA)} bytes) each, the occasional listing of
the folder included ({machine()}); writes are atomic and fsynced.

| figure | value |
|---|---|
| write into an empty cache, ms (baseline) | {empty_ms:.2f} |
| write into a cache of {FULL:,} entries, ms | {full_ms:.2f} |
| fill an empty cache to {FULL:,} entries, s | {fill_s:.1f} |
| one listing of the folder at {listed:,} files, ms (what every write paid before) | {scan_ms:.1f} |
| lookup (hit) at {FULL:,} entries, ms | {get_ms:.2f} |

A write at {FULL:,} entries costs **{ratio:.2f}x** a write into an empty cache
({"meets" if ratio <= 1.5 else "MISSES"} the <= 1.5x target). Writes add to a running total and list
the folder only when it passes the cap or every few hundred writes; lookups open one file by name.
""",
    )


if __name__ == "__main__":
    main()
