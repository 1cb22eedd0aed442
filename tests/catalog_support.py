"""A model no release of the package has shipped, served by an emulator started with ``--models``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from jupyter_imagegen.emulator import Emulator

NEW_MODEL = "@cf/acme/pixel-forge"
# The catalog's schemas for it: a binary-PNG answer and a closed input schema with a steps range.
NEW_MODEL_FILE: dict[str, Any] = {
    "name": NEW_MODEL,
    "description": "Pixel art in a few steps",
    "task": "Text-to-Image",
    "schema": {
        "input": {
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "minLength": 1, "description": "what to draw"},
                "steps": {"type": "integer", "minimum": 1, "maximum": 8, "default": 4},
                "width": {"type": "integer", "minimum": 64, "maximum": 1024, "default": 512},
                "height": {"type": "integer", "minimum": 64, "maximum": 1024, "default": 512},
                "palette": {"type": "string", "enum": ["gameboy", "pico-8", "cga"]},
            },
            "required": ["prompt"],
            "additionalProperties": False,
        },
        "output": {"type": "string", "contentType": "image/png", "format": "binary"},
    },
}


def write_model_dir(folder: Path, extra: int = 0) -> Path:
    """``folder`` holding the new model's file and ``extra`` more base64 models (for paging)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pixel-forge.json").write_text(json.dumps(NEW_MODEL_FILE), encoding="utf-8")
    for index in range(extra):
        other = {
            "name": f"@cf/acme/filler-{index:02d}",
            "input": {"type": "object", "properties": {"prompt": {"type": "string"}}},
            "output": {
                "type": "object",
                "properties": {"image": {"type": "string", "description": "base64"}},
            },
        }
        (folder / f"filler-{index:02d}.json").write_text(json.dumps(other), encoding="utf-8")
    return folder


def catalog_reads(emulator: Emulator, route: str) -> int:
    return sum(1 for r in emulator.requests if r.path.endswith(f"/ai/models/{route}"))


def model_calls(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if "/ai/run" in r.path)


@contextmanager
def new_model_emulator(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An emulator that knows one more model than the package (its file in ``folder``), with the
    environment on it."""
    with Emulator(models_dir=write_model_dir(folder)) as server:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        yield server
