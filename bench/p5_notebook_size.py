"""P5: .ipynb bytes added per 1024x1024 photo-like image: the magic's default display vs
displaying a bare PIL image, in the same run.

A real kernel (nbclient) runs, for each of five prompts, one ``%%imagegen -s 1024x1024 -o img``
cell and one cell that displays ``img.to_pil()`` (the same pixels as a bare PIL image, which
IPython embeds as PNG *and* JPEG). The emulator's images carry photographic grain, so they encode
like photos (~1.7 MB as PNG). Bytes are measured on the saved notebook JSON, per cell.
Target: <= 250 KB per image with the default display.
Run: python bench/p5_notebook_size.py
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from _support import emulator_process, machine, record

PROMPTS = [
    "a harbour at dawn",
    "a forest path in autumn",
    "a market street",
    "a mountain lake",
    "a desert road",
]


def cell_bytes(cell: nbformat.NotebookNode) -> int:
    """What a cell's outputs add to the .ipynb file (as nbformat writes it)."""
    return len(json.dumps(cell.outputs, indent=1).encode("utf-8"))


def main() -> None:
    cells = [new_code_cell("%load_ext jupyter_imagegen")]
    for index, prompt in enumerate(PROMPTS):
        cells.append(new_code_cell(f"%%imagegen -q high -s 1024x1024 -o img{index}\n{prompt}"))
        cells.append(new_code_cell(f"img{index}.to_pil()"))
    cells.append(
        new_code_cell(
            "[len(img.data) for img in (" + ", ".join(f"img{i}" for i in range(len(PROMPTS))) + ")]"
        )
    )
    book = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    with emulator_process() as env, tempfile.TemporaryDirectory() as folder:
        os.environ.update(env, IMAGEGEN_CACHE_DIR=os.path.join(folder, "cache"))
        NotebookClient(
            book, timeout=300, kernel_name="python3", resources={"metadata": {"path": folder}}
        ).execute()
    ours = [cell_bytes(book.cells[1 + 2 * i]) for i in range(len(PROMPTS))]
    bare = [cell_bytes(book.cells[2 + 2 * i]) for i in range(len(PROMPTS))]
    originals = json.loads(book.cells[-1].outputs[0]["data"]["text/plain"])
    bare_types = sorted(k for k in book.cells[2].outputs[0]["data"] if k.startswith("image/"))
    mean_ours, mean_bare = statistics.mean(ours), statistics.mean(bare)
    verdict = "meets" if max(ours) <= 250_000 else "MISSES"
    record(
        "P5 notebook size per image",
        f"""
Five 1024x1024 photo-like images (emulator output with photographic grain; originals
{statistics.mean(originals) / 1e6:.2f} MB as PNG on average), run by a real kernel ({machine()}).
Bytes each cell adds to the saved .ipynb (base64 and JSON included).

| display | mean bytes per image | max | embedded types |
|---|---|---|---|
| bare PIL image, `img.to_pil()` (baseline) | {mean_bare:,.0f} | {max(bare):,} | {", ".join(bare_types)} |
| `%%imagegen` default (`auto`) | {mean_ours:,.0f} | {max(ours):,} | image/jpeg |

Default display: **{mean_ours / 1000:.0f} KB** per image, {mean_bare / mean_ours:.1f}x smaller than the bare
PIL image ({verdict} the <= 250 KB target; the figure includes the status line and metadata). The
full-size original stays in the cache, `-o` and `--save`.
""",
    )


if __name__ == "__main__":
    main()
