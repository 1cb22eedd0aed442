"""Helpers for the magic tests: a real InteractiveShell with the extension loaded, and running a
cell while recording every display output it makes."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from IPython.utils.capture import capture_output
from PIL import Image
from traitlets.config import Config

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


@contextmanager
def ipython_shell(config: Config | None = None) -> Iterator[InteractiveShell]:
    """A fresh shell (no history file) with ``%load_ext jupyter_imagegen`` done; unloaded after."""
    InteractiveShell.clear_instance()
    config = config or Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "jupyter_imagegen")
    try:
        yield shell
    finally:
        if "jupyter_imagegen" in shell.extension_manager.loaded:
            shell.run_line_magic("unload_ext", "jupyter_imagegen")
        InteractiveShell.clear_instance()


@dataclass
class Ran:
    """One executed cell: its result and everything it displayed or printed."""

    result: ExecutionResult
    outputs: list[Any]
    stdout: str
    stderr: str

    @property
    def error(self) -> BaseException | None:
        return self.result.error_in_exec or self.result.error_before_exec

    @property
    def frames(self) -> list[Any]:
        """Every image output as published, each update of a live output included."""
        return [o for o in self.outputs if any(k in o.data for k in IMAGE_TYPES)]

    @property
    def images(self) -> list[Any]:
        """The image outputs as the notebook keeps them: a live output in its last state."""
        kept: dict[Any, Any] = {}
        for index, output in enumerate(self.frames):
            display_id = (output.transient or {}).get("display_id")
            key = display_id if display_id is not None else index
            first = kept.get(key, (index, None))[0]
            kept[key] = (first, output)
        return [output for _, output in sorted(kept.values(), key=lambda pair: pair[0])]

    @property
    def texts(self) -> list[str]:
        return [o.data["text/plain"] for o in self.outputs if set(o.data) == {"text/plain"}]

    @property
    def status(self) -> str:
        """The last state of the progress placeholder: the cell's status line."""
        return self.texts[-1] if self.texts else ""

    def image_types(self, index: int = 0) -> list[str]:
        return [k for k in self.images[index].data if k in IMAGE_TYPES]

    def pil(self, index: int = 0) -> Image.Image:
        (mime,) = self.image_types(index)
        return Image.open(io.BytesIO(base64.b64decode(self.images[index].data[mime])))

    def info(self, index: int = 0) -> dict[str, Any]:
        metadata: dict[str, Any] = self.images[index].metadata["jupyter_imagegen"]
        return metadata


def run(shell: InteractiveShell, code: str) -> Ran:
    with capture_output() as captured:
        result = shell.run_cell(code)
    return Ran(result, list(captured.outputs), captured.stdout, captured.stderr)
