"""P12: the display work of a ``-n 4`` cell per image, against one decode of the image.

Measured in one run, alternately, on four emulator images of each model: one full decode of an
image (the baseline); the grid as it used to be made (full decode, PNG encode, decode again,
JPEG encode); the grid as a cell makes it now (one decode straight to a thumbnail, one encode);
and the same with the live output redrawn as each of the first three images arrives (the most
redraws a ``-n 4`` cell makes). Target: <= 1.75x one decode per image.
Run: python bench/p12_cell_display.py
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Sequence

from jupyter_imagegen import Client, GeneratedImage
from jupyter_imagegen.client._display import preview_bytes
from jupyter_imagegen.notebook._gallery import GridLayout, compose_grid
from jupyter_imagegen.notebook._live_grid import LiveGrid
from jupyter_imagegen.runtime._templating import Axis

from _support import emulator_process, machine, record

ROUNDS = 20
COUNT = 4
AXES = [Axis("variation", tuple(f"#{i + 1}" for i in range(COUNT)))]
MODELS = {
    "gpt-image-1.5, 1024x1024 PNG": {"model": "openai/gpt-image-1.5", "size": "1024x1024"},
    "flux-1-schnell, 1024x1024 JPEG": {"model": "@cf/black-forest-labs/flux-1-schnell"},
}


def decode_each(images: Sequence[GeneratedImage]) -> None:
    for image in images:
        image.to_pil()


def grid_before(images: Sequence[GeneratedImage]) -> None:
    """The old path: full decode and thumbnail, PNG of the grid, then that PNG decoded and
    re-encoded as the JPEG preview."""
    thumbs = []
    for image in images:
        picture = image.to_pil()
        picture.thumbnail((384, 384))
        thumbs.append(picture)
    captions = [f"#{i + 1} · 1.0 s" for i in range(len(images))]
    canvas = compose_grid(thumbs, GridLayout(min(4, len(images)), captions=captions))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=1)
    grid = GeneratedImage(data=buffer.getvalue(), mime_type="image/png", prompt="p", model="m")
    preview_bytes(grid)


def grid_now(images: Sequence[GeneratedImage]) -> None:
    live = LiveGrid(AXES)
    live._show = lambda *shown: None  # type: ignore[method-assign]  # the work, not IPython's publishing
    live.finish(list(images))


def grid_live(images: Sequence[GeneratedImage]) -> None:
    live = LiveGrid(AXES)
    live._show = lambda *shown: None  # type: ignore[method-assign]
    for arrived in range(1, len(images)):
        live.update([*images[:arrived], *[None] * (len(images) - arrived)])
    live.finish(list(images))


def per_image_cpu(
    sides: Sequence[Callable[[Sequence[GeneratedImage]], None]], images: list[GeneratedImage]
) -> list[float]:
    for side in sides:
        side(images)  # warm-up
    spent = [0.0] * len(sides)
    for _ in range(ROUNDS):
        for index, side in enumerate(sides):
            started = time.process_time()
            side(images)
            spent[index] += time.process_time() - started
    return [total / ROUNDS / len(images) * 1000 for total in spent]


def main() -> None:
    rows = []
    with emulator_process() as env:
        os.environ.update(env)
        with Client() as client:
            for name, params in MODELS.items():
                images = [client.generate(f"a fox {i}", **params) for i in range(COUNT)]  # type: ignore[arg-type]
                figures = per_image_cpu([decode_each, grid_before, grid_now, grid_live], images)
                rows.append((name, *figures))
    table = "\n".join(
        f"| {name} | {d:.1f} | {b:.1f} ({b / d:.2f}x) | {n:.1f} (**{n / d:.2f}x**) | {live:.1f} ({live / d:.2f}x) |"
        for name, d, b, n, live in rows
    )
    worst = max(n / d for _, d, _, n, _ in rows)
    worst_live = max(live / d for _, d, _, _, live in rows)
    record(
        "P12 display work of a -n 4 cell",
        f"""
CPU milliseconds per image of a `-n 4` cell's display, mean of {ROUNDS} alternating rounds on four
emulator images ({machine()}). Baseline: one full decode of the image (`GeneratedImage.to_pil`).

| images | one decode (baseline) | grid before: decode, PNG, decode, JPEG | grid now: thumbnail decode, one encode | now, redrawn as images 1-3 arrive |
|---|---|---|---|---|
{table}

The final grid costs at most **{worst:.2f}x** one decode per image ({"meets" if worst <= 1.75 else "MISSES"} the <= 1.75x
target); with the live output redrawn as each of the first three images arrives (one redraw per
progress tick at most, so usually fewer) at most {worst_live:.2f}x. Each image is decoded once,
straight to its thumbnail (a JPEG at a reduced scale), when it arrives, and kept; a redraw only
pastes thumbnails and encodes the small grid.
""",
    )


if __name__ == "__main__":
    main()
