"""A warning in a notebook is one line, without the file, line number and source line Python adds:
a catalog warning in a magic cell, run by a real kernel and saved."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from catalog_support import NEW_MODEL, new_model_emulator
from jupyter_imagegen import ImageGenWarning
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._warnings import show_warnings_on_one_line

CELLS = [
    "from jupyter_imagegen import ImageGenPanel\npanel = ImageGenPanel()\npanel",
    "%load_ext jupyter_imagegen",
    f"%%imagegen -m {NEW_MODEL} --param steps=2 --param width=64 --param height=64\na fox in pixel art",
    "import warnings\nwarnings.warn('a warning of the notebook itself')",
]


@pytest.fixture
def unreadable_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An emulator that serves a model no release ships, with a token that cannot read the
    catalog (as one without Workers AI Read): the package warns, and still generates."""
    with new_model_emulator(tmp_path / "models", monkeypatch) as emulator:
        emulator.catalog_readable = False
        yield emulator


def stderr_by_cell(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        "".join(o["text"] for o in cell.outputs if o.get("output_type") == "stream" and o["name"] == "stderr")
        for cell in notebook.cells
    ]


@pytest.mark.slow
def test_a_warning_in_a_panel_or_magic_cell_is_one_line(unreadable_catalog: Emulator, tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    nbformat.write(notebook, tmp_path / "saved.ipynb")
    saved = nbformat.read(tmp_path / "saved.ipynb", as_version=4)
    panel_cell, _, magic_cell, own_cell = stderr_by_cell(saved)

    # The panel reads the catalog in the background and says what went wrong in its own banner
    # (tests/test_panel_opens_offline.py), never in whichever cell runs when the answer comes.
    assert panel_cell == ""
    assert magic_cell.startswith(f"ImageGenWarning: '{NEW_MODEL}' is not a model")
    assert magic_cell.count("\n") == 1 and "sent unchecked" in magic_cell
    assert ".py:" not in magic_cell and "warnings.warn" not in magic_cell
    # Other warnings look as Python shows them: the hook leaves them alone.
    assert "UserWarning: a warning of the notebook itself" in own_cell
    assert any(output.get("output_type") == "display_data" for output in saved.cells[2].outputs)


def test_the_hook_chains_to_the_previous_one_and_installs_once(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *rest: seen.append(str(message))
        show_warnings_on_one_line()
        show_warnings_on_one_line()
        warnings.warn("from somewhere else", UserWarning, stacklevel=1)
        warnings.warn("from the package", ImageGenWarning, stacklevel=1)
    assert seen == ["from somewhere else"]
    assert capsys.readouterr().err == "ImageGenWarning: from the package\n"
