"""The batch manifest: ``manifest.jsonl`` in the output folder, one JSON line per finished item.

It is an append-only log: an item retried later gets a new line and the last line of an index is
its state. Each line is written whole and flushed at once (a process that dies loses nothing it
wrote); the manifest is fsynced with the first line written a second or more after its last fsync,
and at close, rather than once a line. A line is written only after the image file it names is in place and fsynced, so a
crash or a power cut at any moment leaves at worst an image without a line (the next run adopts
it) or a torn last line (ignored and cut off), never a line without its file.

One batch at a time may write to a folder: the manifest is locked while open, and the lock dies
with the process that held it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import IO, Any

from .._exceptions import ImageGenError, ImageGenWarning

__all__ = ["MANIFEST_NAME", "Manifest", "ManifestEntry", "read_manifest"]

MANIFEST_NAME = "manifest.jsonl"
# Seconds between the manifest's fsyncs while lines are written (and one at close). A line lost
# to a power cut costs nothing: its image is on disk already and the next run adopts it.
SYNC_EVERY = 1.0


# Slots: a run holds one entry per item until it returns them all (BatchResult.entries); without
# an instance dict each entry is about 50 bytes smaller.
@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """What became of one batch item; ``file`` is relative to the output folder."""

    index: int
    key: str  # ImageRequest.cache_key: a changed input at the same index is a different item
    status: str  # "done" or "failed"
    prompt: str
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    variation: int = 0
    file: str | None = None
    bytes: int | None = None
    # The answer's further images (a model that answers several to one request): name -> bytes.
    # None, not an empty dict, for the usual one-image answer: a run holds every entry.
    others: dict[str, int] | None = None
    error: str | None = None
    error_type: str | None = None
    log_id: str | None = None
    elapsed: float | None = None
    cached: bool = False
    adopted: bool = False  # found on disk from an interrupted run instead of generated again
    attempts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # input columns that were not parameters
    time: str = ""

    @property
    def done(self) -> bool:
        return self.status == "done"

    def to_json(self) -> str:
        # The fields as they are (asdict would deep-copy params and extra first, for nothing).
        values = {name: getattr(self, name) for name in _FIELD_NAMES}
        if values["others"] is None:
            del values["others"]  # the line of a one-image answer, as before there were others
        return json.dumps(values, ensure_ascii=False, default=str, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> ManifestEntry | None:
        """The entry a line holds, or None for a line that is not one (torn, foreign, edited)."""
        try:
            raw = json.loads(line)
            known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
            for name in _SHARED:  # the same few values on every line: one copy each, not one a line
                if isinstance(known.get(name), str):
                    known[name] = sys.intern(known[name])
            entry = cls(**known)
        except (ValueError, TypeError, KeyError):
            return None
        if not isinstance(entry.index, int) or entry.status not in ("done", "failed"):
            return None
        return entry

    @property
    def stray(self) -> object | None:
        """What of the line names a file outside the output folder: ``file``, or ``others``
        when one of the further images' names is (or it is not a table of names and sizes);
        None when every name is directly in the folder. An edited line must never make a run
        read, replace or delete a file elsewhere."""
        if self.file is not None and not _in_folder(self.file):
            return self.file
        others = self.others
        if others is not None and not (
            isinstance(others, dict)
            and all(_in_folder(name) and type(size) is int for name, size in others.items())
        ):
            return others
        return None


def _in_folder(name: object) -> bool:
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and ":" not in name  # a Windows drive (C:x.png) or stream (x.png:y)
        and "\x00" not in name
    )


_FIELD_NAMES = tuple(f.name for f in fields(ManifestEntry))
_SHARED = ("status", "model", "error_type", "time")


def now_iso() -> str:
    # Interned: the entries finished in the same second share one string.
    return sys.intern(datetime.now(timezone.utc).isoformat(timespec="seconds"))


def read_manifest(path: str | os.PathLike[str]) -> dict[int, ManifestEntry]:
    """The last entry of every index in a manifest file (empty when there is none)."""
    entries: dict[int, ManifestEntry] = {}
    outside: list[str] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break  # torn by a crash mid-write: not a record
                entry = ManifestEntry.from_json(line)
                if entry is None:
                    continue
                stray = entry.stray
                if stray is not None:
                    outside.append(repr(stray)[:80])
                    continue
                entries[entry.index] = entry
    except FileNotFoundError:
        pass
    if outside:
        more = f" and {len(outside) - 1} more" if len(outside) > 1 else ""
        warnings.warn(
            f"Ignoring {len(outside)} line(s) of {path} that name a file outside its folder "
            f"({outside[0]}{more}): a manifest only names images beside it, so the line was edited.",
            ImageGenWarning,
            stacklevel=2,
        )
    return entries


class Manifest:
    """The open, locked manifest of one output folder; :meth:`append` is safe from any thread."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.path = os.path.join(folder, MANIFEST_NAME)
        self._handle: IO[bytes] | None = None
        self._write_lock = threading.Lock()
        self._synced = 0.0  # monotonic time of the last fsync

    def open(self) -> dict[int, ManifestEntry]:
        """Lock the folder's manifest, cut off a torn last line, and return its entries."""
        os.makedirs(self.folder, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115 - held open until close()
        try:
            _lock(handle, self.folder)
            _cut_torn_tail(handle)
        except BaseException:
            handle.close()
            raise
        self._handle = handle
        return read_manifest(self.path)

    def append(self, entry: ManifestEntry) -> None:
        """Write one line: in the file when this returns; fsynced with it when SYNC_EVERY has
        passed since the last fsync, else by a later line or at close."""
        data = (entry.to_json() + "\n").encode("utf-8")
        with self._write_lock:
            if self._handle is None:
                raise RuntimeError("the manifest is not open")
            self._handle.write(data)
            self._handle.flush()
            now = time.monotonic()
            if now - self._synced >= SYNC_EVERY:
                os.fsync(self._handle.fileno())
                self._synced = now

    def close(self) -> None:
        with self._write_lock:
            if self._handle is not None:
                with contextlib.suppress(OSError):  # what did not reach the disk is adopted next run
                    os.fsync(self._handle.fileno())
                with contextlib.suppress(OSError):
                    _unlock(self._handle)
                self._handle.close()
                self._handle = None


def _cut_torn_tail(handle: IO[bytes]) -> None:
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return
    # Read backwards in blocks to the last newline; everything after it is a torn line.
    position, block = size, 4096
    while position > 0:
        start = max(0, position - block)
        handle.seek(start)
        chunk = handle.read(position - start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            keep = start + newline + 1
            break
        position = start
    else:
        keep = 0
    if keep < size:
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    handle.seek(0, os.SEEK_END)


def _busy(folder: str) -> ImageGenError:
    return ImageGenError(
        f"Another batch is writing to {folder} right now; wait for it to finish or choose another output folder."
    )


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[bytes], folder: str) -> None:
        # Lock one byte far past any real manifest size: the lock must not stop appends.
        handle.seek(2**40)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            raise _busy(folder) from None
        finally:
            handle.seek(0, os.SEEK_END)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(2**40)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes], folder: str) -> None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(folder) from None

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
