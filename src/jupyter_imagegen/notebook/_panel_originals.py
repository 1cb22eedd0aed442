"""Where the panel's full-size images wait while the gallery shows their thumbnails.

The kernel keeps only a thumbnail and the metadata of each gallery image in memory; the original
is read from disk when it is enlarged, downloaded, used as input or saved. Each original has its
own file in a per-kernel folder, so nothing in the gallery depends on what the disk cache decides
later (it prunes the least recently used entries, ``imagegen cache clear`` empties it, and a
refresh replaces an entry with a new sample):

- with the cache on, the folder sits inside the cache directory (where the cache's own listing
  never looks: it only reads its two-letter shards) and the file is a hard link to the image's
  cache entry, so keeping it costs no copy and survives the cache dropping its own name;
- with the cache off, or where hard links are not possible, the folder is in the system's
  temporary directory and the file is a private copy of the bytes;
- when no file can be written (a full or read-only disk), the bytes stay in memory, with a
  warning in the kernel's log: the image is never lost for want of disk space.

A file is removed when its image leaves the kernel's history, and the folder when the kernel
exits, so the folder never holds more than the history does. A kernel that was killed cannot
remove its folder: the next kernel removes folders whose owner is gone. The owner is known by a
lock, not by a process id (another container sharing the host name has its own process ids):
each kernel holds an exclusive lock on its folder's ``.lock`` file for as long as it runs, and a
folder is removed only by whoever takes that lock, which the system frees when its owner dies. A
folder without a ``.lock`` is never removed, nor one named for another host (a cache shared
between machines never loses another machine's images). Reading checks the size and sha256
recorded when the image was made, so a damaged or replaced file is reported, never shown.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
from dataclasses import dataclass

from .._exceptions import ImageGenError
from ..client import write_atomic

__all__ = ["Original", "keep_original"]

_folders: dict[str, str] = {}  # parent directory ("" for the temp dir) -> this kernel's folder
_owned: dict[str, int] = {}  # this kernel's folder -> the descriptor of its held .lock
_lock = threading.Lock()
LOCK_NAME = ".lock"
_HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64]
_NAME = re.compile(r"^\.panel-(\d+)@(.+?)-[^-]+$")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Original:
    """A full-size image on disk (its file ends with the image's ``size`` bytes), or in memory
    (``held``) when no file could be written."""

    path: str
    size: int
    sha256: str
    held: bytes | None = None

    def read(self) -> bytes:
        if self.held is not None:
            return self.held
        try:
            with open(self.path, "rb") as handle:
                end = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, end - self.size))
                data = handle.read()
        except OSError as exc:
            raise ImageGenError(
                f"The full-size image is no longer on disk ({exc.strerror or exc}); "
                "its thumbnail is all the gallery still has. Generate it again to get it back."
            ) from None
        if len(data) != self.size or hashlib.sha256(data).hexdigest() != self.sha256:
            raise ImageGenError(f"The full-size image at {self.path} was changed on disk; generate it again.")
        return data

    def discard(self) -> None:
        if self.held is not None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def _folder(parent: str | None) -> str:
    """This kernel's folder under ``parent`` (None: the temp dir), made on first use."""
    key = parent or ""
    with _lock:
        folder = _folders.get(key)
        if folder is None or not os.path.isdir(folder):
            if parent is not None:
                os.makedirs(parent, exist_ok=True)
            folder = tempfile.mkdtemp(prefix=f".panel-{os.getpid()}@{_HOST}-", dir=parent)  # mode 0700
            _own(folder)
            _folders[key] = folder
            _remove_abandoned(os.path.dirname(folder))
    return folder


def _own(folder: str) -> None:
    """Hold ``folder``'s lock for as long as this process runs. Locked under a temporary name and
    then renamed: a ``.lock`` is never seen unlocked while its owner lives."""
    temp = os.path.join(folder, f".lock-{os.getpid()}")
    descriptor = os.open(temp, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lock(descriptor):
            raise OSError("could not lock a new folder's lock file")
        os.replace(temp, os.path.join(folder, LOCK_NAME))
    except OSError:
        os.close(descriptor)
        raise
    _owned[folder] = descriptor


def _remove_abandoned(parent: str) -> None:
    """Remove the folders of kernels that ended without removing their own: those whose lock
    can be taken (the system freed it when the owner died)."""
    with contextlib.suppress(OSError):
        for child in os.scandir(parent):
            match = _NAME.match(child.name)
            if not match or match[2] != _HOST or not child.is_dir(follow_symlinks=False):
                continue
            if child.path in _owned:
                continue
            try:
                descriptor = os.open(
                    os.path.join(child.path, LOCK_NAME), os.O_RDWR | getattr(os, "O_NOFOLLOW", 0)
                )
            except OSError:
                continue  # no lock: an owner that never took one is never presumed gone
            try:
                if _try_lock(descriptor):
                    shutil.rmtree(child.path, ignore_errors=True)
            finally:
                os.close(descriptor)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


def keep_original(image_id: str, data: bytes, cache_file: str | None) -> Original:
    """Keep ``data`` on disk for the gallery; ``cache_file`` is the cache entry holding it, if any."""
    original = Original("", len(data), hashlib.sha256(data).hexdigest())
    if cache_file is not None:
        with contextlib.suppress(OSError, ImageGenError):
            path = os.path.join(_folder(os.path.dirname(os.path.dirname(cache_file))), image_id)
            os.link(cache_file, path)
            linked = Original(path, original.size, original.sha256)
            try:
                linked.read()  # another kernel may have replaced the entry since it was written
                return linked
            except ImageGenError:
                linked.discard()
    try:
        path = os.path.join(_folder(None), image_id)
        write_atomic(path, data, private=True)
    except OSError as exc:
        _log.warning("Keeping a gallery image in memory: no file could be written for it (%s).", exc)
        return Original("", original.size, original.sha256, held=data)
    return Original(path, original.size, original.sha256)


@atexit.register
def _remove_folders() -> None:
    for folder in _folders.values():
        shutil.rmtree(folder, ignore_errors=True)
    for descriptor in _owned.values():
        with contextlib.suppress(OSError):
            os.close(descriptor)
