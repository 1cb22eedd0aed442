"""P4: a 10-generation notebook, cold cache then warm cache (Restart & Run All).

A real kernel (nbclient) runs ``%load_ext`` and ten ``%%imagegen`` cells against the emulator in
its own process, with an emulated service latency. The first run starts from an empty cache; the
second is a fresh kernel on the same cache. Measured: API requests the emulator saw, and the time
of the ten generation cells (kernel start-up, the same in both runs, is reported apart).
Target: the warm run makes 0 requests and takes <= 5% of the cold time.
Run: python bench/p4_cache.py
"""

from __future__ import annotations

import os
import tempfile
import time

import httpx
import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from _support import emulator_process, machine, record

LATENCY = 2.0  # seconds; real gpt-image-1.5 answers take longer, which only helps the ratio
PROMPTS = [
    "a lighthouse at dusk",
    "a red fox in the snow",
    "a paper boat on a puddle",
    "an owl reading a map",
    "a teapot shaped like a whale",
    "a city of glass at noon",
    "a bonsai on the moon",
    "a bicycle made of vines",
    "a library under the sea",
    "a robot painting sunflowers",
]


def notebook() -> nbformat.NotebookNode:
    cells = [new_code_cell("%load_ext jupyter_imagegen")]
    cells += [new_code_cell(f"%%imagegen -q low -s 1024x1024\n{prompt}") for prompt in PROMPTS]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


def run_once(folder: str) -> tuple[float, float, list[str]]:
    """(kernel start-up seconds, generation cells seconds, status lines) of one Run All."""
    book = notebook()
    client = NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": folder}}
    )
    started = time.perf_counter()
    with client.setup_kernel():
        client.execute_cell(book.cells[0], 0)
        ready = time.perf_counter()
        for index, cell in enumerate(book.cells[1:], start=1):
            client.execute_cell(cell, index)
        done = time.perf_counter()
    statuses = [
        o["data"]["text/plain"]
        for c in book.cells[1:]
        for o in c.outputs
        if set(o.get("data", {})) == {"text/plain"}
    ]
    return ready - started, done - ready, statuses


def main() -> None:
    with emulator_process(latency=LATENCY) as env, tempfile.TemporaryDirectory() as folder:
        os.environ.update(env, IMAGEGEN_CACHE_DIR=os.path.join(folder, "cache"))
        stats_url = env["CLOUDFLARE_BASE_URL"].replace("/client/v4", "/__emulator__/stats")

        def requests_so_far() -> int:
            auth = {"authorization": f"Bearer {env['CLOUDFLARE_API_TOKEN']}"}
            return int(httpx.get(stats_url, headers=auth).json()["api_requests"])

        cold_start, cold, _ = run_once(folder)
        cold_requests = requests_so_far()
        warm_start, warm, statuses = run_once(folder)
        warm_requests = requests_so_far() - cold_requests
    cached = sum("cached" in s for s in statuses)
    ratio = warm / cold
    verdict = "meets" if warm_requests == 0 and ratio <= 0.05 else "MISSES"
    record(
        "P4 notebook cache",
        f"""
Ten `%%imagegen -q low -s 1024x1024` cells in a real kernel (nbclient), emulator in its own process
with {LATENCY:.0f} s latency per request ({machine()}). Warm = a fresh kernel on the same cache.

| run | API requests | 10 generation cells (s) | kernel start-up (s) |
|---|---|---|---|
| cold cache (baseline) | {cold_requests} | {cold:.2f} | {cold_start:.2f} |
| warm cache | {warm_requests} | {warm:.2f} | {warm_start:.2f} |

Warm run: **{warm_requests} requests**, **{ratio * 100:.1f}%** of the cold time, {cached}/10 cells marked
cached ({verdict} the target of 0 requests and <= 5%).
""",
    )


if __name__ == "__main__":
    main()
