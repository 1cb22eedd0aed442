"""Where a rerun starts: which items the manifest already finishes, and which images an
interrupted run saved without recording them (they are adopted, not paid for again).

An item is finished when its index has a manifest entry for the same request (same
``cache_key``), "done" with its file present at the recorded size, or "failed" when failures are
not being retried. A changed input at an index is a new item.

A rerun never destroys an earlier run's work: when an image already at an item's file name was
made for another request (other parameters, another model), the run is refused before anything
is sent (:func:`clash`). Nor does it destroy the user's: a recorded image whose size changed
since the batch wrote it (retouched by hand) is reported as changed and left alone
(:func:`changed_since`), and a file at an item's name that the batch did not write is kept, the
new image going under another name (:func:`recorded_files` says which files a run may replace).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from typing import Any

from ..client import read_provenance
from ._inputs import BatchItem
from ._manifest import ManifestEntry, now_iso

__all__ = [
    "adopt",
    "changed_since",
    "clash",
    "entry_for",
    "is_settled",
    "made_for_another",
    "recorded_files",
    "scan_folder",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bin")


def scan_folder(folder: str) -> dict[str, list[str]]:
    """Image file names in ``folder`` by stem; removes temp files a killed writer left."""
    found: dict[str, list[str]] = {}
    for name in os.listdir(folder):
        stem, ext = os.path.splitext(name)
        if name.startswith(".tmp-") and name.endswith(".part"):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))
        elif ext.lower() in IMAGE_EXTENSIONS:
            found.setdefault(stem, []).append(name)
    return found


def entry_for(item: BatchItem, status: str, **fields: Any) -> ManifestEntry:
    """The manifest entry of ``item`` with ``status`` and the outcome's ``fields``."""
    request = item.request
    # The request's own parameters, not a copy: a run keeps every entry for its result, and
    # neither is changed once made.
    params = request.params if isinstance(request.params, dict) else dict(request.params)
    return ManifestEntry(
        index=item.index,
        key=request.cache_key,
        status=status,
        prompt=request.prompt,
        model=request.model,
        params=params,
        variation=request.variation,
        extra=item.extra,
        time=now_iso(),
        **fields,
    )


def is_settled(entry: ManifestEntry, item: BatchItem, folder: str, *, retry_failed: bool) -> bool:
    """Whether the manifest's last entry for this index finishes the item for this run."""
    if entry.key != item.request.cache_key:
        return False
    if not entry.done:
        return not retry_failed
    if not entry.file:
        return False
    try:
        size = os.path.getsize(os.path.join(folder, entry.file))
    except OSError:
        return False  # deleted since: make it again
    return entry.bytes is None or size == entry.bytes


def changed_since(entry: ManifestEntry, item: BatchItem, folder: str) -> bool:
    """Whether the image this item's done entry names is on disk at another size than recorded:
    changed by someone since the batch wrote it, so never replaced."""
    if not entry.done or not entry.file or entry.bytes is None or entry.key != item.request.cache_key:
        return False
    try:
        return os.path.getsize(os.path.join(folder, entry.file)) != entry.bytes
    except OSError:
        return False


def recorded_files(known: Mapping[int, ManifestEntry], folder: str) -> set[str]:
    """Names of the images the manifest says this batch wrote and that are still as written:
    the only existing files a run may replace."""
    names = set()
    for entry in known.values():
        # The manifest reader drops lines with a stray name: names here are in the folder, sizes integers.
        written = dict(entry.others or {}) if entry.done else {}
        if entry.done and entry.file and entry.bytes is not None:
            written[entry.file] = entry.bytes
        for name, size in written.items():
            with contextlib.suppress(OSError):
                if os.path.getsize(os.path.join(folder, name)) == size:
                    names.add(name)
    return names


def _wanted(item: BatchItem) -> dict[str, Any]:
    request = item.request
    return {
        "prompt": request.prompt,
        "model": request.model,
        "params": json.loads(json.dumps(dict(request.params), default=str)),
        "variation": request.variation,
        "input_images": list(request.image_hashes),
    }


def _provenance(path: str) -> dict[str, Any] | None:
    try:
        return read_provenance(path)
    except Exception:  # not a readable image
        return None


def made_for_another(item: BatchItem, path: str) -> bool:
    """Whether the file at ``path`` is an image whose provenance names a request other than ``item``'s."""
    found = _provenance(path)
    return found is not None and any(found.get(k) != v for k, v in _wanted(item).items())


def clash(item: BatchItem, entry: ManifestEntry | None, names: list[str], folder: str) -> str | None:
    """The name of an earlier image that generating ``item`` would replace although another request
    made it (the manifest or the file's provenance says so), or None."""
    if entry is not None and entry.done and entry.file in names and entry.key != item.request.cache_key:
        return entry.file
    return next((name for name in names if made_for_another(item, os.path.join(folder, name))), None)


def adopt(item: BatchItem, names: list[str], folder: str) -> ManifestEntry | None:
    """An entry for an image of ``item`` among ``names`` whose embedded provenance matches it."""
    wanted = _wanted(item)
    for name in names:
        path = os.path.join(folder, name)
        found = _provenance(path)
        if found is None:  # not a readable image: the new one will replace it
            continue
        if all(found.get(key) == value for key, value in wanted.items()):
            size = os.path.getsize(path)
            return entry_for(item, "done", file=name, bytes=size, adopted=True, log_id=found.get("log_id"))
    return None
