"""The example notebooks: stored without outputs, and run top to bottom by a real kernel against
the emulator, then again (Restart & Run All) with every %%imagegen cell served from the cache."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_imagegen.emulator import Emulator

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
NOTEBOOK_BUDGET = 250_000
# Requests a second run still makes: cells that ask for new images on purpose.
UNCACHED = {"quickstart.ipynb": 4, "classroom.ipynb": 3}  # --refresh, generate(), generate_many()


@pytest.mark.parametrize("name", sorted(UNCACHED))
def test_notebook_is_stored_without_outputs(name: str) -> None:
    raw = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"]
            assert "execution" not in cell.get("metadata", {})
    assert raw["metadata"]["kernelspec"]["name"] == "python3"


def execute(name: str, folder: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # The kernel inherits this process's environment: the emulator and the test's cache folder.
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return notebook


def image_outputs(notebook: nbformat.NotebookNode) -> list[dict[str, Any]]:
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if any(key in output.get("data", {}) for key in IMAGE_TYPES)
    ]


def status_lines(notebook: nbformat.NotebookNode) -> list[str]:
    """The text-only display outputs: what the progress placeholders ended as."""
    return [
        output["data"]["text/plain"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if set(output.get("data", {})) == {"text/plain"}
    ]


def sent_prompts(emulator: Emulator) -> list[str]:
    bodies = [request.json for request in emulator.requests if isinstance(request.json, dict)]
    return [str(body.get("input", body).get("prompt")) for body in bodies]


def assert_prompts_read_right(emulator: Emulator) -> None:
    """What a teacher checks first: "a axolotl", "an cat" and leftover {names} in a prompt."""
    prompts = sent_prompts(emulator)
    assert prompts
    for prompt in prompts:
        assert not re.search(r"\b[Aa] [aeiouAEIOU]", prompt), prompt
        assert not re.search(r"\b[Aa]n [^aeiouAEIOU\W]", prompt), prompt
        assert "{" not in prompt and "}" not in prompt, prompt


def assert_outputs_are_ignored_by_git(folder: Path) -> None:
    """Every file a notebook wrote beside itself would be ignored in notebooks/ of a checkout."""
    if not (NOTEBOOKS.parent / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    written = [
        str(Path("notebooks") / path.relative_to(folder))
        for path in folder.rglob("*")
        # The test's cache folder and the stores beside it (the usage ledger, the catalog).
        if path.is_file() and not path.relative_to(folder).parts[0].startswith("cache")
    ]
    assert written
    shown = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", *written],
        cwd=NOTEBOOKS.parent,
        capture_output=True,
        text=True,
    )
    not_ignored = [line.split("\t")[-1] for line in shown.stdout.splitlines() if line.startswith("::")]
    assert not not_ignored, f"add to .gitignore: {not_ignored}"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(UNCACHED))
def test_notebook_runs_top_to_bottom_then_again_from_the_cache(
    name: str, emulator_env: Emulator, tmp_path: Path
) -> None:
    first = execute(name, tmp_path)
    cold_requests = len(emulator_env.requests)
    images = image_outputs(first)
    magic_cells = [
        c
        for c in first.cells
        if c.cell_type == "code"
        and c.source.startswith(("%%imagegen", "%imagegen"))
        and "--panel" not in c.source
    ]
    if name == "quickstart.ipynb":  # the quickstart shows the panel: a widget view, no error
        panels = [c for c in first.cells if c.cell_type == "code" and "--panel" in c.source]
        assert len(panels) == 1
        views = [
            o for o in panels[0].outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]
        assert len(views) == 1 and not [o for o in panels[0].outputs if o["output_type"] == "error"]
    assert cold_requests > UNCACHED[name] and len(images) >= len(magic_cells) >= 4
    for output in images:
        embedded = [key for key in output["data"] if key in IMAGE_TYPES]
        assert len(embedded) == 1  # one image MIME type per output
        assert len(json.dumps(output)) <= NOTEBOOK_BUDGET  # what the image adds to the .ipynb
    assert not any(text.startswith("generating") for text in status_lines(first))  # placeholders finished
    assert (tmp_path / ("generated" if name == "quickstart.ipynb" else "gallery")).is_dir()
    assert_prompts_read_right(emulator_env)
    assert_outputs_are_ignored_by_git(tmp_path)

    second = execute(name, tmp_path)
    assert len(emulator_env.requests) - cold_requests == UNCACHED[name]
    texts = status_lines(second)
    cached_marks = [text for text in texts if " · cached" in text or " · all cached" in text]
    assert len(cached_marks) == len([c for c in magic_cells if "--refresh" not in c.source])
