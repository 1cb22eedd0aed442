"""The image cache's size, kept beside it so a new process knows it without listing the folder.

Two small files at the cache's root (never in a shard, so no listing counts them): ``size``, the
bytes the last listing found, and ``size.log``, one line per write since (its size in bytes),
appended with ``O_APPEND`` so writers in several processes never overwrite each other's lines. A
new process reads both (a few kilobytes at most: a listing truncates the log) instead of listing
thousands of files. Both are hints that only schedule a listing: a missing, damaged or stale
index costs one listing, never an image; losing an append costs at most the cap's accuracy until
the next listing, which every process still makes every few hundred writes.
"""

from __future__ import annotations

import contextlib
import os
import threading

__all__ = ["SizeIndex"]

_BASE = "size"
_LOG = "size.log"
_MAX_LOG_BYTES = 1024 * 1024
# The cache never writes through a link: one planted in its folder could lead anywhere.
_NO_LINKS = getattr(
    os, "O_NOFOLLOW", 0
)  # a log this long is older than any listing would let it be: list again


class SizeIndex:
    """Bytes on disk in one cache folder, as a listing found them plus each write since."""

    def __init__(self, directory: str) -> None:
        self._base = os.path.join(directory, _BASE)
        self._log = os.path.join(directory, _LOG)

    def read(self) -> int | None:
        """The folder's bytes by the index, or None when there is no usable index (list it)."""
        try:
            with open(self._base, "rb") as handle:
                base = int(handle.read(64).strip())
        except (OSError, ValueError):
            return None
        added = 0
        try:
            with open(self._log, "rb") as handle:
                lines = handle.read(_MAX_LOG_BYTES + 1)
        except FileNotFoundError:
            lines = b""
        except OSError:
            return None
        if len(lines) > _MAX_LOG_BYTES:
            return None
        for line in lines.splitlines():
            with contextlib.suppress(ValueError):  # an empty line, or one a crash left unreadable
                added += int(line)
        return max(0, base + added)

    def added(self, size: int) -> None:
        """Record one write of ``size`` bytes; an index that cannot be written is only a hint."""
        with contextlib.suppress(OSError):
            fd = os.open(self._log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NO_LINKS, 0o600)
            try:
                # One write, with O_APPEND: whole, after every other line. The leading newline
                # keeps a line a crashed writer left unfinished from running into this one.
                os.write(fd, b"\n%d\n" % size)
            finally:
                os.close(fd)

    def measured(self, total: int) -> None:
        """A listing found ``total`` bytes: the base, and an empty log. Replaced whole (a reader
        sees the old base or the new), not synced to disk: after a power cut a lost index costs
        one listing."""
        folder, name = os.path.split(self._base)
        temp = os.path.join(folder, f".tmp-{name}-{os.getpid()}-{threading.get_ident()}.part")
        with contextlib.suppress(OSError):
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NO_LINKS, 0o600)
            try:
                os.write(fd, b"%d\n" % total)
            finally:
                os.close(fd)
            os.replace(temp, self._base)
            os.close(os.open(self._log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NO_LINKS, 0o600))
        with contextlib.suppress(OSError):
            os.unlink(temp)  # left only when the replace failed
