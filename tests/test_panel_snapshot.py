"""The panel's saved snapshot stays within its documented bounds whatever the images and prompts:
noise (which JPEG cannot compress) and long prompts full of markup. (A real kernel saving it,
nbconvert and Chromium showing it: tests/browser/test_snapshot_browser.py; JupyterLab saving it:
tests/browser/test_panel_browser.py.)"""

from __future__ import annotations

import io
import json
import os
from types import SimpleNamespace
from typing import Any

from PIL import Image

from jupyter_imagegen.notebook._panel_snapshot import (
    SNAPSHOT_BYTES_PER_IMAGE,
    SNAPSHOT_LIMIT,
    Snapshot,
    snapshot_thumbnail,
)


def noise_jpeg(size: tuple[int, int] = (256, 256)) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def entry(index: int, prompt: str) -> Any:
    """Only what the snapshot reads of a gallery entry."""
    return SimpleNamespace(id=f"e{index}", thumb=noise_jpeg(), info=SimpleNamespace(prompt=prompt))


def test_the_snapshot_keeps_the_newest_images_within_the_bound_per_image() -> None:
    hostile = '"><script>alert(1)</script> & ' * 40
    entries = [entry(i, f"{i} {hostile}") for i in range(SNAPSHOT_LIMIT + 6)]
    bundle = Snapshot("jig-snapshot-test").bundle(entries)
    markup = bundle["text/html"]
    assert markup.count("<img ") == SNAPSHOT_LIMIT
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert f'alt="0 {hostile[:10]}' not in markup  # quotes are escaped inside attributes
    assert bundle["text/plain"].startswith(f"Image generation panel: the newest {SNAPSHOT_LIMIT} of ")
    assert len(json.dumps(bundle)) <= SNAPSHOT_LIMIT * SNAPSHOT_BYTES_PER_IMAGE
    assert 'alt="0 ' in markup and f'alt="{SNAPSHOT_LIMIT} ' not in markup  # the newest, in order


def test_a_noisy_thumbnail_shrinks_to_fit_rather_than_grow_the_notebook() -> None:
    data, (width, height) = snapshot_thumbnail(noise_jpeg((256, 192)))
    assert len(data) <= 6_000
    assert max(width, height) <= 128 and width > height
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == "JPEG" and picture.size == (width, height)


def test_no_images_yet() -> None:
    bundle = Snapshot("jig-snapshot-empty").bundle([])
    assert "<img" not in bundle["text/html"] and bundle["text/plain"].endswith("no images yet")
    assert 'data-snapshot="jig-snapshot-empty"' in bundle["text/html"]
