"""The usage ledger: what this user generated, per UTC day and per model, in one small JSON file.

Every kernel, panel, batch and command of the user writes to the same file, beside the cache
folder (``<cache folder>-usage.json``). A change is read-modify-write under an exclusive lock on a
separate lock file (``fcntl.flock`` on POSIX; on Windows ``msvcrt.locking`` on the lock file's
first byte, retried until granted), and the new file replaces the old with one atomic rename, so
a reader never sees half a ledger and two processes never lose each other's counts.

Figures are what the service was asked for, not a bill: ``usd`` sums estimates from published
prices (see :mod:`._pricing`), and images of unknown price are counted apart (``unpriced``).
A ledger that cannot be read is never treated as empty while a budget depends on it; see
:class:`~._budget.Meter`.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..client import write_atomic

__all__ = [
    "COUNTS",
    "Days",
    "LedgerDamagedError",
    "Usage",
    "UsageLedger",
    "UsageRow",
    "ledger_path_for",
    "today",
]

COUNTS = ("images", "requests", "cache_hits", "usd", "unpriced")
KEEP_DAYS = 400  # older days are dropped on write: the file stays small
_VERSION = 1
_DAY_ENCODER = json.JSONEncoder(sort_keys=True)
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()
Days = dict[str, dict[str, dict[str, float]]]  # {day: {model: {count: value}}}


class LedgerDamagedError(Exception):
    """The ledger file exists but is not a ledger (edited by hand, or written by something else)."""


def today() -> str:
    """The current day in UTC, as the ledger's budgets count days."""
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def ledger_path_for(cache_dir: str | None, *, emulator: bool = False) -> str:
    """The ledger beside the cache folder (``cache_dir``, else ``$IMAGEGEN_CACHE_DIR``, else the
    platform's user cache folder), whether the cache is on or off: its name plus ``-usage.json``.
    Work against the local emulator goes to a ledger of its own (``-usage-emulator.json``): test
    patterns cost nothing, so they never show as spend or use up a real day's budget."""
    folder = cache_dir or os.environ.get("IMAGEGEN_CACHE_DIR", "").strip()
    if not folder:
        import platformdirs

        folder = platformdirs.user_cache_dir("jupyter-imagegen", appauthor=False)
    suffix = "-usage-emulator.json" if emulator else "-usage.json"
    return os.path.abspath(os.path.expanduser(folder)).rstrip(os.sep) + suffix


@dataclass(frozen=True)
class UsageRow:
    """One model's figures on one UTC day. ``estimated_usd`` excludes the ``unpriced_images``."""

    day: str
    model: str
    images: int
    requests: int
    cache_hits: int
    estimated_usd: float
    unpriced_images: int


@dataclass(frozen=True)
class Usage:
    """The ledger's rows (newest day first) and today's budgets; ``repr`` is a readable table."""

    path: str
    today: str
    rows: tuple[UsageRow, ...]
    max_images_per_day: int | None = None
    max_usd_per_day: float | None = None
    emulator: bool = False  # the local emulator's own ledger: nothing in it was billed

    @property
    def images_today(self) -> int:
        return sum(row.images for row in self.rows if row.day == self.today)

    @property
    def usd_today(self) -> float:
        """Today's estimated USD (images of unknown price not included)."""
        return round(sum(row.estimated_usd for row in self.rows if row.day == self.today), 6)

    def table(self) -> str:
        header = (
            f"{'DAY (UTC)':10}  {'MODEL':44} {'IMAGES':>6} {'REQUESTS':>8} {'CACHE HITS':>10} {'EST. USD':>9}"
        )
        title = (
            "Usage on the local emulator (test patterns, nothing was billed; USD figures are estimates of "
            "what the service would charge)"
            if self.emulator
            else "Image generation usage (USD figures are estimates from published prices)"
        )
        lines = [title, header]
        for row in self.rows:
            usd = f"{row.estimated_usd:.4f}" + (
                f" (+{row.unpriced_images} unpriced)" if row.unpriced_images else ""
            )
            lines.append(
                f"{row.day:10}  {row.model:44} {row.images:>6} {row.requests:>8} {row.cache_hits:>10} {usd:>9}"
            )
        if not self.rows:
            lines.append("(nothing generated yet)")
        lines.append(self.today_line())
        # A cancelled request that had already been sent stays counted: the service may bill it.
        lines.append("requests cancelled after they were sent are counted: the service may still bill them")
        lines.append(f"ledger: {self.path}")
        return "\n".join(lines)

    def today_line(self) -> str:
        """Today's images and estimated spend against the budgets, in one line."""
        limits = []
        if self.max_images_per_day is not None:
            limits.append(f"{self.max_images_per_day} images")
        if self.max_usd_per_day is not None:
            limits.append(f"${self.max_usd_per_day:.2f}")
        budget = f" of a daily budget of {' and '.join(limits)}" if limits else " (no daily budget set)"
        where = " on the emulator (not billed)" if self.emulator else ""
        return f"today ({self.today}){where}: {self.images_today} images, ~${self.usd_today:.4f} estimated{budget}"

    def __repr__(self) -> str:
        return self.table()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.table())


class UsageLedger:
    """The ledger file at ``path``; :meth:`update` is the only way figures change."""

    def __init__(self, path: str, *, emulator: bool = False) -> None:
        self.path = os.path.abspath(path)
        self.emulator = emulator

    def read(self) -> Days:
        """``{day: {model: {count: value}}}``; raises LedgerDamagedError for an unreadable file."""
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return {}
        try:
            # Infinity and NaN are valid to Python's json, never to a ledger: they would lift a
            # budget (NaN compares false) or crash the sums.
            document = json.loads(raw.decode("utf-8"), parse_constant=_not_a_count)
            days = document["days"]
            if document.get("version") != _VERSION or not isinstance(days, dict):
                raise ValueError("not a version 1 ledger")
            numbers = (int, float)
            isfinite = math.isfinite
            for models in days.values():
                for counts in models.values():
                    for name in COUNTS:  # plain loops: a year's ledger is read on every update
                        value = counts.get(name, 0)
                        if not isinstance(value, numbers) or isinstance(value, bool):
                            raise ValueError("a count is not a number")
                        if value < 0 or not isfinite(value):
                            raise ValueError(f"a count is {value!r}, not a finite number of 0 or more")
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise LedgerDamagedError(f"{self.path} is not a readable usage ledger ({exc})") from None
        return days

    def update(self, change: Callable[[Days], None]) -> None:
        """Apply ``change`` to the figures under the lock and write them back atomically; an
        exception from ``change`` leaves the file as it was."""
        with self.locked():
            days = self.read()
            change(days)
            self._write(days)

    def set_aside(self) -> str:
        """Rename a damaged ledger out of the way (kept for inspection); returns its new name."""
        with self.locked():
            aside = f"{self.path}.damaged-{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%S}"
            try:
                self.read()
            except LedgerDamagedError:  # still damaged: another process did not rebuild it first
                with contextlib.suppress(FileNotFoundError):
                    os.replace(self.path, aside)
            return aside

    def _write(self, days: Days) -> None:
        for day in sorted(days)[:-KEEP_DAYS]:
            del days[day]
        write_atomic(self.path, _encode(days), private=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive use of the ledger across threads and processes."""
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with _THREAD_LOCKS_GUARD:
            thread_lock = _THREAD_LOCKS.setdefault(self.path, threading.Lock())
        with thread_lock:
            descriptor = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                _lock(descriptor)
                yield
            finally:
                os.close(descriptor)  # closing also releases the lock


def _not_a_count(name: str) -> float:
    raise ValueError(f"a count is {name}, not a finite number")


def _encode(days: Days) -> bytes:
    """The ledger document, one day per line. Each day goes through json's C encoder: an indented
    dump takes the pure-Python one, about 10 ms for a full year's ledger, paid on every update."""
    lines = ",\n".join(f"{json.dumps(day)}: {_DAY_ENCODER.encode(days[day])}" for day in sorted(days))
    return f'{{"version": {_VERSION}, "days": {{\n{lines}\n}}}}\n'.encode()


def add(days: Days, day: str, model: str, **deltas: float) -> None:
    """Add ``deltas`` to one day's model figures (negative to give back a reservation); a count
    never goes below 0 (a give-back for a day another process already rebuilt)."""
    counts = days.setdefault(day, {}).setdefault(model, {})
    for name, delta in deltas.items():
        value = max(counts.get(name, 0) + delta, 0)
        counts[name] = round(value, 9) if isinstance(value, float) else value


def rows_of(days: Days) -> tuple[UsageRow, ...]:
    rows = []
    for day in sorted(days, reverse=True):
        for model in sorted(days[day]):
            counts = days[day][model]
            if not any(counts.values()):  # reserved and all given back: nothing to show
                continue
            rows.append(
                UsageRow(
                    day,
                    model,
                    int(counts.get("images", 0)),
                    int(counts.get("requests", 0)),
                    int(counts.get("cache_hits", 0)),
                    round(float(counts.get("usd", 0.0)), 6),
                    int(counts.get("unpriced", 0)),
                )
            )
    return tuple(rows)


if sys.platform == "win32":
    import msvcrt

    def _lock(descriptor: int) -> None:
        # LK_LOCK gives up after about ten seconds: a long wait for another writer tries again.
        while True:
            try:
                msvcrt.locking(descriptor, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue

else:
    import fcntl

    def _lock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
