"""A comparison in a real ipykernel, run by nbclient against the emulator: a 2 models x 2 widths
cell sends four requests and keeps one matrix output with every label and each cell's time and
cost; run again it sends nothing and says "cached"; a size one model does not take sends nothing
and fails the cell with one line; with a daily budget of 3 images the 2x2 matrix is refused whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_imagegen.emulator import Emulator

pytestmark = pytest.mark.slow

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
MODELS = "@cf/leonardo/phoenix-1.0,@cf/bytedance/stable-diffusion-xl-lightning"


def api_requests(emulator: Emulator) -> int:
    return sum("/ai/run" in r.path for r in emulator.requests)


def matrices(cell: Any) -> list[Any]:
    return [
        o for o in cell.outputs if o.get("output_type") == "display_data" and set(IMAGE_TYPES) & set(o.data)
    ]


def test_a_comparison_cell_in_a_real_kernel(emulator_env: Emulator, tmp_path: Path) -> None:
    cells = [
        "%load_ext jupyter_imagegen",
        f"%%imagegen -m {MODELS} --param width=512,1024 --param height=512\na fox in snow",
        f"%%imagegen -m {MODELS} --param width=512,1024 --param height=512\na fox in snow",
        "%%imagegen -m openai/gpt-image-1.5,openai/gpt-image-2 -s 512x512,1024x1024\na fox in snow",
        "%config ImageGenMagics.max_images_per_day = 3",
        f"%%imagegen -m {MODELS} --param width=512,1024 --param height=512\nan owl at night",
    ]
    book = new_notebook(cells=[new_code_cell(c) for c in cells])
    client = NotebookClient(
        book,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    with client.setup_kernel():
        client.execute_cell(book.cells[0], 0)

        first = client.execute_cell(book.cells[1], 1)
        assert api_requests(emulator_env) == 4
        (shown,) = matrices(first)  # one output for the whole matrix
        info = shown.metadata["jupyter_imagegen"]
        assert info["rows"] == MODELS.split(",") and info["columns"] == ["width=512", "width=1024"]
        assert all(" s · ~$" in c for c in info["captions"])  # each cell: its time and its cost
        text = shown.data["text/plain"]
        for model in MODELS.split(","):
            for width in ("width=512", "width=1024"):
                assert f"{model} · {width}: " in text
        assert "total: 4 images" in text

        again = client.execute_cell(book.cells[2], 2)
        assert api_requests(emulator_env) == 4
        (shown,) = matrices(again)
        assert shown.metadata["jupyter_imagegen"]["captions"] == ["cached"] * 4
        assert "cached" in shown.data["text/plain"]

        with pytest.raises(CellExecutionError) as failure:
            client.execute_cell(book.cells[3], 3)
        ename, evalue = failure.value.ename, failure.value.evalue
        assert ename == "UsageError" and "\n" not in evalue
        assert "openai/gpt-image-2" in evalue and "size" in evalue and "512x512" in evalue
        assert api_requests(emulator_env) == 4 and matrices(book.cells[3]) == []

        client.execute_cell(book.cells[4], 4)
        with pytest.raises(CellExecutionError) as failure:
            client.execute_cell(book.cells[5], 5)
        ename, evalue = failure.value.ename, failure.value.evalue
        assert ename == "UsageError" and "Daily image budget" in evalue and "asks for 4" in evalue
        assert "The comparison: 4 images" in evalue and "~$" in evalue and "\n" not in evalue
        assert api_requests(emulator_env) == 4 and matrices(book.cells[5]) == []
    nbformat.validate(book)
