"""Live progress of a batch: a tqdm bar (a widget in a notebook, text in a terminal) when tqdm is
installed, otherwise one plain status line.

The batch only counts (:class:`BatchCounters`); a :class:`ProgressDisplay` reads the counts and
draws them, always on the thread that created it, so a notebook's widget is made and updated
where the cell runs.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["BatchCounters", "ProgressDisplay"]

_TEXT_INTERVAL_TTY = 0.5
_TEXT_INTERVAL_LOG = 10.0


@dataclass
class BatchCounters:
    """How far a batch is; written by the batch, read by displays and the summary."""

    total: int = 0
    skipped: int = 0  # already in the manifest (done, or failed and not retried)
    adopted: int = 0  # images an interrupted run saved without recording them
    generated: int = 0
    failed: int = 0
    requests: int = 0
    rate_limited: int = 0
    rpm_limit: float = 0.0  # what the limiter allows right now
    rpm_nominal: float = 0.0
    planned: bool = False  # the manifest was read and the counts above are meaningful
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return self.skipped + self.adopted + self.generated + self.failed

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def per_minute(self) -> float:
        """Items finished per minute by this run (excluding those skipped)."""
        elapsed = self.elapsed
        return (self.finished - self.skipped) * 60.0 / elapsed if elapsed > 0 else 0.0

    def status(self) -> str:
        parts = [f"failed {self.failed}", f"{self.per_minute:.0f}/min"]
        if self.rpm_nominal and self.rpm_limit < self.rpm_nominal * 0.99:
            parts.append(f"slowed to {self.rpm_limit:.0f} rpm after 429")
        return ", ".join(parts)


class ProgressDisplay:
    """Draws :class:`BatchCounters`; does nothing when disabled."""

    def __init__(self, enabled: bool = True, *, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self._stream = stream
        self._bar: Any = None
        self._drawn = 0
        self._text_at = 0.0
        self._text_shown = False

    def update(self, counters: BatchCounters) -> None:
        if not self.enabled or not counters.planned:
            return
        if self._bar is None and not self._text_shown:
            self._bar = _make_bar(counters)
            if self._bar is None:
                self._text_shown = True
        if self._bar is not None:
            self._bar.set_postfix_str(counters.status(), refresh=False)
            delta = counters.finished - counters.skipped - self._drawn
            self._drawn += delta
            if delta:
                self._bar.update(delta)
            else:
                self._bar.refresh()
        else:
            self._text(counters, final=False)

    def close(self, counters: BatchCounters) -> None:
        if not self.enabled:
            return
        self.update(counters)
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._text_shown:
            self._text(counters, final=True)

    def _text(self, counters: BatchCounters, *, final: bool) -> None:
        stream = self._stream or sys.stderr
        tty = bool(getattr(stream, "isatty", lambda: False)())
        now = time.monotonic()
        if not final and now - self._text_at < (_TEXT_INTERVAL_TTY if tty else _TEXT_INTERVAL_LOG):
            return
        self._text_at = now
        done, total = counters.finished, counters.total
        left = total - done
        rate = counters.per_minute
        eta = _clock(left * 60.0 / rate) if rate > 0 and left else "-" if left else "0:00"
        line = (
            f"imagegen batch: {done}/{total} ({100 * done // max(total, 1)}%), {counters.status()}, ETA {eta}"
        )
        if tty:
            stream.write("\r" + line.ljust(79) + ("\n" if final else ""))
        else:
            stream.write(line + "\n")
        stream.flush()


def _make_bar(counters: BatchCounters) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(
        total=counters.total,
        initial=counters.skipped,
        desc="imagegen batch",
        unit="img",
        dynamic_ncols=True,
        smoothing=0.1,
    )


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
