"""BatchResult: where a batch stands after a run, read back from its manifest, with a summary."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ._manifest import ManifestEntry

__all__ = ["BatchResult"]

_FAILURES_LISTED = 5


@dataclass(frozen=True)
class BatchResult:
    """The state of every item of a batch, and what this run did.

    ``entries`` holds the manifest's last entry of each item that has one (done or failed), in
    input order; items without one were not reached (the run was stopped) and run next time.
    """

    out_dir: str
    manifest: str
    total: int
    entries: list[ManifestEntry] = field(repr=False)
    generated: int = 0  # made by this run
    adopted: int = 0  # saved by an interrupted run, recorded by this one
    skipped: int = 0  # already in the manifest before this run
    requests: int = 0  # API requests this run sent, retries included
    rate_limited: int = 0  # of which the service refused with 429
    elapsed: float = 0.0
    estimated_usd: float | None = None  # this run's spend estimate, None when nothing is known
    cost_unknown: int = 0  # images of this run with no estimate
    cost_basis: tuple[str, ...] = ()
    stopped: str | None = None  # why this run stopped before the end (a daily budget), if it did
    changed: tuple[str, ...] = ()  # recorded images changed since the batch wrote them: left alone

    @property
    def done(self) -> list[ManifestEntry]:
        return [e for e in self.entries if e.done]

    @property
    def failed(self) -> list[ManifestEntry]:
        return [e for e in self.entries if not e.done]

    @property
    def pending(self) -> int:
        """Items with no manifest entry: the run stopped before them."""
        return self.total - len(self.entries)

    @property
    def files(self) -> list[str]:
        """Paths of the finished images, in input order."""
        return [os.path.join(self.out_dir, e.file) for e in self.done if e.file]

    @property
    def ok(self) -> bool:
        return len(self.done) == self.total

    def summary(self) -> str:
        """A few lines: how many are done, what this run did, time, spend, the failures."""
        done, failed = len(self.done), len(self.failed)
        head = f"{done} of {self.total} images done in {self.out_dir}"
        if failed:
            head += f", {failed} failed"
        if self.pending:
            head += f", {self.pending} not made yet (run the same batch again to continue)"
        if self.stopped:
            head += f"\nstopped at the daily budget, the rest left for another day: {self.stopped}"
        rate = self.requests * 60.0 / self.elapsed if self.elapsed > 0 else 0.0
        run = (
            f"this run: {self.generated} generated, {self.skipped} already in the manifest"
            + (f", {self.adopted} recovered from an interrupted run" if self.adopted else "")
            + f"; {self.requests} requests in {self.elapsed:.1f} s ({rate:.0f}/min)"
            + (f", {self.rate_limited} refused with 429 and retried later" if self.rate_limited else "")
        )
        lines = [head, run, self._spend()]
        if self.changed:
            more = f" and {len(self.changed) - 1} more" if len(self.changed) > 1 else ""
            lines.append(
                f"{len(self.changed)} image(s) changed since this batch wrote them were left as they are "
                f"({self.changed[0]}{more}); move them away to have them made again"
            )
        for entry in self.failed[:_FAILURES_LISTED]:
            lines.append(f"  failed #{entry.index} ({entry.error_type}): {entry.error}")
        if failed > _FAILURES_LISTED:
            lines.append(f"  ... and {failed - _FAILURES_LISTED} more (see the manifest)")
        if failed:
            lines.append("retry the failed ones with retry_failed=True (imagegen batch --retry-failed)")
        lines.append(f"manifest: {self.manifest}")
        return "\n".join(lines)

    def _spend(self) -> str:
        if self.generated == 0:
            return "estimated spend: $0.00 (nothing generated)"
        if self.estimated_usd is None:
            return "estimated spend: unknown (" + "; ".join(self.cost_basis) + ")"
        text = f"estimated spend: ${self.estimated_usd:.2f}"
        if self.cost_unknown:
            text += f" plus {self.cost_unknown} image(s) of unknown cost"
        return text + (" (an estimate: " + "; ".join(self.cost_basis) + ")" if self.cost_basis else "")

    def __repr__(self) -> str:
        return (
            f"<BatchResult {len(self.done)}/{self.total} done, {len(self.failed)} failed, "
            f"{self.pending} pending in {self.out_dir!r}>"
        )

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        text = getattr(printer, "text", None)
        if callable(text):
            text(self.summary())
