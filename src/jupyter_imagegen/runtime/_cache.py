"""ImageCache: generated images on disk, found again by what was asked for.

An entry (:mod:`._cache_entry`) is keyed by ``ImageRequest.cache_key`` (model, prompt, parameters, input-image hashes and
variation index; never credentials or gateway settings) together with the service that made it
(base URL and account id), so an image from the local emulator is never served as the real
service's, and one server cannot fill the cache for another. It is stored as ONE file: a small JSON header
(the image's provenance and the sha256 of its bytes) followed by the original image bytes. One file
per entry means a write is a single atomic rename, so several kernels can share a cache directory
and a reader sees a whole entry or none. An entry that fails its checksum, or whose bytes are not
an image of the recorded type and dimensions, is deleted and reported as a miss, so the image is
generated again rather than the cell failing.

Display previews (the compact JPEG/PNG a notebook embeds) are stored too, keyed by the sha256 of
the original image and the display format, so Restart & Run All neither decodes nor re-encodes.

The directory is bounded without listing it on every write: each process keeps a running total
of the bytes on disk, read on its first write from the size index beside the folder
(:mod:`._cache_size`, written by every listing and advanced by every write; listed once only when
there is no index yet) and then advanced by what it writes itself. Only when that total passes ``max_bytes`` (or every ``RESCAN_EVERY`` writes, so other
kernels' writes are seen too) does it list the folder and delete the least recently used files (by
modification time, which a hit refreshes) down to ``PRUNE_TO`` of the cap, so the next scan is
many writes away. A write therefore costs the same on a full cache as on an empty one; the cap may
be overshot by what other processes wrote since this one's last scan. Pruning and clearing never
follow a symbolic link: a link in the cache folder is at most removed itself, and nothing outside
the folder is touched. Cache files are private to the user (mode 0600): they are the user's own
store, never meant to be shared.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._exceptions import ConfigurationError
from ..client import write_atomic
from ._cache_entry import decode_entry, encode_entry, entry_key, service_of
from ._cache_size import SizeIndex

if TYPE_CHECKING:
    from ..client import GeneratedImage, ImageRequest

__all__ = [
    "DEFAULT_MAX_BYTES",
    "CacheStats",
    "ImageCache",
    "service_of",
]

DEFAULT_MAX_BYTES = 2 * 1024**3
_SUFFIX = ".entry"
_PREVIEW_SUFFIX = ".preview"
_STALE_TEMP_SECONDS = 3600  # a temp file this old belongs to a writer that died
RESCAN_EVERY = 256  # writes between two listings of the folder, at most
PRUNE_TO = 0.9  # a prune frees room for many writes, not just the one that crossed the cap


@dataclass(frozen=True)
class CacheStats:
    """How much a cache holds: entry count and total bytes on disk."""

    directory: str
    entries: int
    bytes: int
    max_bytes: int


class ImageCache:
    """A content-addressed, size-bounded, multi-process-safe store of generated images."""

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}.")
        self.directory = os.path.abspath(os.fspath(directory))
        self.max_bytes = max_bytes
        # Bytes on disk as this process last measured them plus what it wrote since; None until
        # the first write measures it. Guarded by a lock because the panel and batch write from
        # worker threads.
        self._total: int | None = None
        self._writes_since_scan = 0
        self._lock = threading.Lock()
        self._index = SizeIndex(self.directory)

    @classmethod
    def default(cls, max_bytes: int | None = None) -> ImageCache:
        """The user's cache: ``$IMAGEGEN_CACHE_DIR``, else the platform's user cache directory;
        bounded by ``max_bytes``, else ``$IMAGEGEN_CACHE_MAX_MB`` megabytes, else 2 GB."""
        directory = os.environ.get("IMAGEGEN_CACHE_DIR", "").strip()
        if not directory:
            import platformdirs

            directory = platformdirs.user_cache_dir("jupyter-imagegen", appauthor=False)
        if max_bytes is None:
            max_bytes = _env_megabytes("IMAGEGEN_CACHE_MAX_MB")
        return cls(directory, max_bytes=max_bytes or DEFAULT_MAX_BYTES)

    def __repr__(self) -> str:
        return f"<ImageCache {self.directory!r} max_bytes={self.max_bytes}>"

    def path_for(self, request: ImageRequest, service: str = "") -> str:
        key = entry_key(request, service)
        return os.path.join(self.directory, key[:2], key + _SUFFIX)

    def get(self, request: ImageRequest, service: str = "") -> GeneratedImage | None:
        """The cached image for ``request`` made by ``service`` (see :func:`service_of`), marked
        ``cached=True``, or None (also when damaged)."""
        path = self.path_for(request, service)
        try:
            # A link is never an entry (the cache writes none): it could point anywhere.
            with open(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return None
        except OSError:
            if os.path.islink(path):
                _remove_quietly(path)
            return None
        image = decode_entry(raw, entry_key(request, service))
        if image is None:
            _remove_quietly(path)  # damaged: drop it so the next put starts clean
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # a hit makes the entry recent for LRU pruning
        return image

    def put(self, request: ImageRequest, image: GeneratedImage, service: str = "") -> None:
        """Store ``image`` as ``service``'s answer to ``request``; prune when the running total
        passes ``max_bytes`` (see the module docstring: no folder listing per write)."""
        data = encode_entry(image, entry_key(request, service))
        write_atomic(self.path_for(request, service), data, private=True)
        self._account(len(data))

    def _preview_path(self, digest: str, fmt: str) -> str:
        return os.path.join(self.directory, digest[:2], f"{digest}.{fmt}{_PREVIEW_SUFFIX}")

    def get_preview(self, digest: str, fmt: str) -> tuple[str, bytes] | None:
        """``(mime, bytes)`` stored for the image whose sha256 is ``digest``, or None."""
        path = self._preview_path(digest, fmt)
        try:
            with open(path, "rb") as handle:
                header, _, data = handle.read().partition(b"\n")
        except OSError:
            return None
        mime, _, checksum = header.decode("ascii", "replace").partition(" ")
        if not mime.startswith("image/") or checksum != hashlib.sha256(data).hexdigest():
            _remove_quietly(path)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return mime, data

    def put_preview(self, digest: str, fmt: str, mime: str, data: bytes) -> None:
        header = f"{mime} {hashlib.sha256(data).hexdigest()}\n".encode("ascii")
        write_atomic(self._preview_path(digest, fmt), header + data, private=True)
        self._account(len(header) + len(data))

    def _account(self, written: int) -> None:
        """Add a write to the running total; list and prune the folder only when it is due."""
        with self._lock:
            if self._total is None:  # this process's first write: the index knows the rest
                self._total = self._index.read()
            due = (
                self._total is None
                or self._total + written > self.max_bytes
                or self._writes_since_scan + 1 >= RESCAN_EVERY
            )
            if not due:
                assert self._total is not None
                self._total += written
                self._writes_since_scan += 1
        if due:
            self._scan_and_prune(self.max_bytes, int(self.max_bytes * PRUNE_TO))
        else:
            self._index.added(written)

    def clear(self) -> None:
        """Delete every entry (and leftover temp files); the directory itself stays."""
        for path, _, _ in self._files(include_temp=True):
            _remove_quietly(path)
        with self._lock:
            self._total, self._writes_since_scan = 0, 0
        self._index.measured(0)

    def stats(self) -> CacheStats:
        """Entries (images) held, and the bytes of every file, previews included."""
        files = self._files()
        entries = sum(path.endswith(_SUFFIX) for path, _, _ in files)
        return CacheStats(self.directory, entries, sum(size for _, size, _ in files), self.max_bytes)

    def prune(self, max_bytes: int | None = None) -> int:
        """Delete least recently used files until the total is at most ``max_bytes``;
        returns how many were deleted. Safe to run from several processes at once."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        return self._scan_and_prune(limit, limit)

    def _scan_and_prune(self, trigger: int, target: int) -> int:
        """List the folder; if it holds more than ``trigger`` bytes, delete the least recently
        used files down to ``target``. Resets the running total to what is left."""
        now = time.time()
        entries = []
        for path, size, mtime in self._files(include_temp=True):
            if not path.endswith((_SUFFIX, _PREVIEW_SUFFIX)):
                if now - mtime > _STALE_TEMP_SECONDS:
                    _remove_quietly(path)
                continue
            entries.append((mtime, size, path))
        total = sum(size for _, size, _ in entries)
        removed = 0
        if total > trigger:
            for _, size, path in sorted(entries):
                if total <= target:
                    break
                _remove_quietly(path)
                total -= size
                removed += 1
        with self._lock:
            self._total, self._writes_since_scan = total, 0
        self._index.measured(total)
        return removed

    def _files(self, *, include_temp: bool = False) -> list[tuple[str, int, float]]:
        """``(path, size, mtime)`` of every entry and preview, skipping ones another process removed."""
        found: list[tuple[str, int, float]] = []
        try:
            # A linked shard could lead anywhere: only real sub-folders are the cache's own.
            shards = [
                e for e in os.scandir(self.directory) if e.is_dir(follow_symlinks=False) and len(e.name) == 2
            ]
        except FileNotFoundError:
            return found
        for shard in shards:
            try:
                children = list(os.scandir(shard.path))
            except FileNotFoundError:
                continue
            for child in children:
                wanted = child.name.endswith((_SUFFIX, _PREVIEW_SUFFIX))
                if not (wanted or (include_temp and child.name.startswith(".tmp-"))):
                    continue
                try:
                    info = child.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                found.append((child.path, info.st_size, info.st_mtime))
        return found


def _env_megabytes(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        megabytes = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of megabytes, got {raw!r}.") from None
    if megabytes <= 0:
        raise ConfigurationError(f"{name} must be positive, got {raw!r}.")
    return int(megabytes * 1024 * 1024)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
