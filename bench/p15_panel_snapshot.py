"""P15: what the panel's saved snapshot costs per new image, against the gallery's own thumbnail.

When an image arrives the panel already makes its gallery thumbnail (one decode of the original,
one JPEG encode); the snapshot then re-renders its output: one small thumbnail for the new image
(from the gallery thumbnail, not the original) and the markup of the newest 24. Measured in one
run, alternately, on 24 emulator images (gpt-image-1.5, 1024x1024 PNG): the gallery thumbnail
(the baseline) and the snapshot update with 23 images already in it. Also the bytes each image
adds to the saved .ipynb. Target: the update <= 0.5x the gallery thumbnail.
Run: python bench/p15_panel_snapshot.py
"""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace
from typing import Any

from jupyter_imagegen import Client
from jupyter_imagegen.notebook._panel_snapshot import SNAPSHOT_BYTES_PER_IMAGE, SNAPSHOT_LIMIT, Snapshot
from jupyter_imagegen.notebook._panel_state import thumbnail

from _support import emulator_process, machine, record

ROUNDS = 20


def main() -> None:
    with emulator_process() as env:
        os.environ.update(env)
        with Client() as client:
            images = [
                client.generate(f"a lighthouse, take {i}", size="1024x1024", quality="low", variation=i)
                for i in range(SNAPSHOT_LIMIT)
            ]
    entries: list[Any] = [
        SimpleNamespace(id=f"e{i}", thumb=thumbnail(image.data)[1], info=SimpleNamespace(prompt=image.prompt))
        for i, image in enumerate(images)
    ]
    gallery_ms: list[float] = []
    update_ms: list[float] = []
    for round_ in range(ROUNDS):
        newest = images[round_ % len(images)]
        start = time.perf_counter()
        thumbnail(newest.data)
        gallery_ms.append((time.perf_counter() - start) * 1000)

        snapshot = Snapshot("bench")
        snapshot.bundle(entries[1:])  # 23 images already shown
        start = time.perf_counter()
        snapshot.bundle(entries)  # the new one arrives
        update_ms.append((time.perf_counter() - start) * 1000)
    full = Snapshot("bench").bundle(entries)
    per_image = (len(json.dumps(full)) - len(json.dumps(Snapshot("bench").bundle([])))) / len(entries)
    gallery, update = sorted(gallery_ms)[ROUNDS // 2], sorted(update_ms)[ROUNDS // 2]
    ratio = update / gallery
    print(f"gallery thumbnail {gallery:.2f} ms, snapshot update {update:.2f} ms ({ratio:.2f}x)")
    print(f"{per_image:.0f} bytes of .ipynb per image (bound {SNAPSHOT_BYTES_PER_IMAGE})")
    record(
        "P15 the panel's saved snapshot",
        f"""
Milliseconds per new image, medians of {ROUNDS} alternating rounds on {SNAPSHOT_LIMIT} emulator
images, gpt-image-1.5 1024x1024 PNG ({machine()}).

| work when an image arrives | ms |
|---|---|
| the gallery thumbnail: decode the original, encode a 256 px JPEG (baseline) | {gallery:.2f} |
| the snapshot update: a 128 px thumbnail of the new image, markup of the newest {SNAPSHOT_LIMIT} | {update:.2f} |

The update costs **{ratio:.2f}x** the gallery thumbnail ({"meets" if ratio <= 0.5 else "MISSES"} the <= 0.5x target).
Each image adds **{per_image:.0f} bytes** to the saved `.ipynb` (the bound is {SNAPSHOT_BYTES_PER_IMAGE}; noise,
which JPEG cannot compress, is shrunk to stay within it).
""",
    )


if __name__ == "__main__":
    main()
