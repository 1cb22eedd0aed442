"""The emulator's shared, thread-safe state: stored image files, sample counters, request logs."""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ._faults import FaultSpec

__all__ = ["FileStore", "RecordedRequest", "RequestLog", "SampleCounter", "StoredFile"]


@dataclass
class RecordedRequest:
    """One request as the emulator received it.

    ``headers`` has lower-case names; ``json`` is the parsed body (None when absent or not JSON);
    ``started`` and ``finished`` are ``time.monotonic()`` readings taken when the request arrived
    and when its answer was ready to send, just before the first byte went out (None while it is
    in flight); ``fault`` names the fault applied, as the ``x-emulator-fault`` header would spell
    it; ``status`` is the HTTP status answered (None when the connection was dropped instead).
    """

    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    fault: str | None = None
    status: int | None = None
    # A multipart/form-data body's parts by name: text as str, file parts as bytes.
    form: dict[str, Any] | None = None


class RequestLog:
    """Recorded requests; readers get copies, so a snapshot never changes under them.

    Bounded: the newest MAX_ENTRIES requests whose bodies add up to at most MAX_BODY_BYTES (the
    newest is always kept), so a long-running classroom emulator never grows without end."""

    MAX_ENTRIES = 10_000
    MAX_BODY_BYTES = 64 * 1024 * 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._entries: list[RecordedRequest] = []
        self._sizes: list[int] = []
        self._body_bytes = 0
        self._dropped = 0  # requests that arrived but are no longer kept

    def add(self, entry: RecordedRequest, size: int = 0) -> RecordedRequest:
        """Record ``entry``, whose body was ``size`` bytes; the oldest go past the bounds."""
        with self._lock:
            self._entries.append(entry)
            self._sizes.append(size)
            self._body_bytes += size
            excess = 0
            kept = self._body_bytes
            while len(self._entries) - excess > 1 and (
                len(self._entries) - excess > self.MAX_ENTRIES or kept > self.MAX_BODY_BYTES
            ):
                kept -= self._sizes[excess]
                excess += 1
            if excess:
                del self._entries[:excess], self._sizes[:excess]
                self._body_bytes, self._dropped = kept, self._dropped + excess
            self._arrived.notify_all()
        return entry

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until ``count`` requests have arrived (True) or ``timeout`` passes (False)."""
        with self._lock:
            return self._arrived.wait_for(lambda: self._dropped + len(self._entries) >= count, timeout)

    def finish(self, entry: RecordedRequest, status: int | None) -> None:
        with self._lock:
            entry.status = status
            entry.finished = time.monotonic()

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return [dataclasses.replace(e, headers=dict(e.headers)) for e in self._entries]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self._body_bytes = self._dropped = 0


class SampleCounter:
    """Numbers the samples of each distinct request 0, 1, 2, ... so repeats differ but replay."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: defaultdict[str, int] = defaultdict(int)

    def next(self, key: str) -> int:
        with self._lock:
            number = self._counts[key]
            self._counts[key] = number + 1
            return number

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass(frozen=True)
class StoredFile:
    """An image waiting to be downloaded from the file route, or the fault that replaces it."""

    data: bytes
    mime: str
    expires: float
    fault: FaultSpec | None = None


class FileStore:
    """Images behind ``/files/{id}.{ext}``: gone after their lifetime, or once fetched if single-use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}

    @staticmethod
    def new_name(extension: str) -> str:
        return f"{secrets.token_hex(16)}.{extension}"

    def put(self, name: str, stored: StoredFile) -> None:
        now = time.monotonic()
        with self._lock:
            for stale in [n for n, f in self._files.items() if f.expires <= now]:
                del self._files[stale]
            self._files[name] = stored

    def fetch(self, name: str, *, single_use: bool) -> StoredFile | None:
        """The file if it is still there; a single-use file is removed as it is handed out."""
        with self._lock:
            stored = self._files.get(name)
            if stored is None:
                return None
            if stored.expires <= time.monotonic():
                del self._files[name]
                return None
            if single_use:
                del self._files[name]
            return stored

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
