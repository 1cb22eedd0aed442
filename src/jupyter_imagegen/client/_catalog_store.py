"""The live catalog kept on disk: model lists and schemas, each with the time it was read.

It lives beside the image cache (``<cache dir>-catalog``), so clearing or pruning the image cache
keeps it, and in one folder per service and account, so an emulator's models never show up for
the real account. Entries older than ``IMAGEGEN_CATALOG_TTL`` seconds (default one day), or saved
at a time still in the future, are read again; a stale entry is still used when the catalog
cannot be reached. One entry holds at most 1 MB and one service's folder 8 MB.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from typing import Any

__all__ = ["CatalogStore"]

DEFAULT_TTL = 24 * 3600.0
# Bounds on the disk (documented in docs/RELIABILITY.md): one saved answer, and one service's folder
# (the least recently written entries go first).
MAX_ENTRY_BYTES = 1024 * 1024
MAX_STORE_BYTES = 8 * 1024 * 1024


def _ttl() -> float:
    text = os.environ.get("IMAGEGEN_CATALOG_TTL", "").strip()
    try:
        return max(float(text), 0.0) if text else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL


def _cache_dir() -> str:
    directory = os.environ.get("IMAGEGEN_CACHE_DIR", "").strip()
    if directory:
        return os.path.abspath(os.path.expanduser(directory))
    import platformdirs

    return platformdirs.user_cache_dir("jupyter-imagegen", appauthor=False)


class CatalogStore:
    """One service's saved catalog: ``read`` gives ``(value, fresh)`` or None; ``write`` saves."""

    def __init__(self, base_url: str, account_id: str) -> None:
        service = hashlib.sha256(f"{base_url}\n{account_id}".encode()).hexdigest()[:16]
        self.directory = os.path.join(_cache_dir().rstrip(os.sep) + "-catalog", service)
        self.ttl = _ttl()

    def _path(self, kind: str, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return os.path.join(self.directory, f"{kind}-{digest}.json")

    def read(self, kind: str, key: str, *, stale_before: float = 0.0) -> tuple[Any, bool] | None:
        """The saved value and whether it is fresh: younger than the lifetime, and saved after
        ``stale_before`` (a time.time() when the user asked for a refresh)."""
        try:
            with open(self._path(kind, key), encoding="utf-8") as handle:
                saved = json.load(handle)
            if not isinstance(saved, dict) or saved.get("key") != key:
                return None
            when = float(saved["saved"])
            age = time.time() - when
            # A time in the future (saved while the clock was ahead) is stale, never fresh for good.
            return saved["value"], 0 <= age < self.ttl and when > stale_before
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or damaged: read the catalog again

    def write(self, kind: str, key: str, value: Any) -> None:
        """Save atomically, then keep the folder within MAX_STORE_BYTES; a folder that cannot be
        written, or a value over MAX_ENTRY_BYTES, only costs a later re-read."""
        text = json.dumps({"key": key, "saved": time.time(), "value": value})
        if len(text) > MAX_ENTRY_BYTES:
            return
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            target = self._path(kind, key)
            os.replace(temp, target)
            self._bound(keep=target)
        except OSError:
            pass

    def _bound(self, keep: str) -> None:
        """Remove the least recently written entries until the folder holds MAX_STORE_BYTES or less."""
        entries = []
        with os.scandir(self.directory) as found:
            for entry in found:
                if entry.is_file(follow_symlinks=False) and entry.path != keep:
                    info = entry.stat(follow_symlinks=False)
                    entries.append((info.st_mtime, info.st_size, entry.path))
        total = sum(size for _, size, _ in entries) + os.path.getsize(keep)
        for _, size, path in sorted(entries):
            if total <= MAX_STORE_BYTES:
                break
            with contextlib.suppress(OSError):
                os.unlink(path)
                total -= size

    def saved_models(self) -> list[str]:
        """Every model id saved under this service: listed ones and those with a schema."""
        found: set[str] = set()
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        for name in names:
            if not name.endswith(".json"):
                continue
            try:
                with open(os.path.join(self.directory, name), encoding="utf-8") as handle:
                    saved = json.load(handle)
                if name.startswith("list-"):
                    found.update(str(m) for m in saved["value"])
                elif name.startswith("schema-"):
                    found.add(str(saved["key"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(found)
