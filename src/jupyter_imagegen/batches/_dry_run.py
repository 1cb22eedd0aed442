"""A batch's dry run: what it would send, what it would reuse and what that would cost, with
nothing sent and nothing written (not even a manifest)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..client import estimate_total
from ..runtime import Meter
from ._inputs import BatchItem
from ._manifest import MANIFEST_NAME, read_manifest
from ._plan import IMAGE_EXTENSIONS, adopt, is_settled

__all__ = ["BatchDryRun", "dry_run_of"]

# Requests listed in a notebook's view of a dry run; the command lists every one.
SHOWN_REQUESTS = 10


@dataclass(frozen=True)
class BatchDryRun:
    """What a batch would do now: ``requests`` to send, ``cache_hits`` (items already finished
    in the folder, reused for free) and the estimated cost of the requests."""

    out_dir: str
    total: int
    requests: int
    cache_hits: int
    estimated_usd: float | None
    cost_unknown: int
    cost_basis: tuple[str, ...]
    images_left_today: int | None = None  # under the daily image budget, None when unset
    to_send: tuple[str, ...] = ()  # one line per request it would send, in order

    def summary(self, *, every_request: bool = False) -> str:
        """The counts, the cost and the requests it would send (the first few, or all of them)."""
        lines = [
            f"dry run for {self.out_dir}: {self.total} items, {self.requests} requests to send, "
            f"{self.cache_hits} expected cache hits (already finished in the folder, free); nothing was sent",
        ]
        shown = self.to_send if every_request else self.to_send[:SHOWN_REQUESTS]
        lines += [f"  would send {line}" for line in shown]
        if len(shown) < len(self.to_send):
            lines.append(
                f"  ... and {len(self.to_send) - len(shown)} more (imagegen batch --dry-run lists all)"
            )
        lines.append(self._cost())
        if self.images_left_today is not None:
            left = self.images_left_today
            stop = (
                f": the batch would stop after {left} and finish another day" if self.requests > left else ""
            )
            lines.append(f"daily image budget: {left} images left today (UTC){stop}")
        return "\n".join(lines)

    def _cost(self) -> str:
        if self.requests == 0:
            return "estimated cost: $0.00 (nothing to send)"
        if self.estimated_usd is None:
            return "estimated cost: unknown (" + "; ".join(self.cost_basis) + ")"
        unknown = f" plus {self.cost_unknown} request(s) of unknown cost" if self.cost_unknown else ""
        return (
            f"estimated cost: ~${self.estimated_usd:.4f}{unknown} (an estimate: {'; '.join(self.cost_basis)})"
        )

    def __repr__(self) -> str:
        return self.summary()

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        text = getattr(printer, "text", None)
        if callable(text):
            text(self.summary())


def dry_run_of(
    items: list[BatchItem], out_dir: str, meter: Meter, *, resume: bool, retry_failed: bool
) -> BatchDryRun:
    """Plan ``items`` against ``out_dir`` as a run would, reading only."""
    known = read_manifest(os.path.join(out_dir, MANIFEST_NAME)) if resume else {}
    on_disk: dict[str, list[str]] = {}
    if resume and os.path.isdir(out_dir):
        for name in os.listdir(out_dir):
            stem, ext = os.path.splitext(name)
            if ext.lower() in IMAGE_EXTENSIONS:
                on_disk.setdefault(stem, []).append(name)
    todo = []
    for item in items:
        entry = known.get(item.index)
        if entry is not None and is_settled(entry, item, out_dir, retry_failed=retry_failed):
            continue
        if resume and adopt(item, on_disk.get(item.stem, []), out_dir) is not None:
            continue
        todo.append(item)
    usd, unknown, basis = estimate_total(item.request for item in todo)
    left = None
    if meter.budget.max_images is not None:
        left = max(0, meter.budget.max_images - meter.usage().images_today)
    return BatchDryRun(
        out_dir,
        len(items),
        len(todo),
        len(items) - len(todo),
        None if todo and unknown == len(todo) else usd,
        unknown,
        tuple(basis),
        left,
        tuple(_describe(item) for item in todo),
    )


def _describe(item: BatchItem) -> str:
    """One request as a line: the item, the model, the prompt and the parameters it sends."""
    request = item.request
    prompt = request.prompt if len(request.prompt) <= 60 else request.prompt[:57] + "..."
    params = " ".join(f"{name}={value}" for name, value in sorted(request.params.items()))
    variation = f" (variation {request.variation + 1})" if request.variation else ""
    images = f" +{len(request.images)} input image(s)" if request.images else ""
    return f"#{item.index} {request.model} {prompt!r}{variation} {params}{images}".rstrip()
