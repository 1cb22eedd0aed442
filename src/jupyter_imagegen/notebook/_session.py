"""What one ``%%imagegen`` cell does once its options are understood: run the requests (from the
cache when it can), show live progress, display the images, store ``-o`` and write ``--save``.

The requests run through the process's :class:`Runtime` (its client, cache, loop and limits), the
same path the CLI takes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._exceptions import ImageGenError
from ..client import GeneratedImage
from ..runtime import Axis, RunOutcome
from ._ipython_display import display
from ._live_grid import LiveGrid

if TYPE_CHECKING:
    from ..client import ImageRequest
    from ..runtime import ImageCache, Matrix, Runtime

_log = logging.getLogger(__name__)

__all__ = ["CellJob", "CellOutcome", "display", "failure_message", "run_cell"]


@dataclass
class CellJob:
    """The requests of one cell, in display order, and what to do with the results."""

    requests: list[ImageRequest]
    axes: list[Axis] = field(default_factory=list)  # grid axes, the variation axis included
    grid: bool = False
    display: bool = True
    display_format: str = "auto"
    refresh: bool = False
    save_dir: str | None = None
    cell_size: int = 384
    matrix: Matrix | None = None  # how the requests were planned; a comparison shows as a matrix


@dataclass
class CellOutcome(RunOutcome[GeneratedImage]):
    """What a cell produced: per request an image, an error or None (cancelled), and what
    ``--save`` wrote."""

    saved: list[str] = field(default_factory=list)
    save_error: str | None = None


def run_cell(runtime: Runtime, job: CellJob) -> CellOutcome:
    """Run a cell's requests under a live progress line, then show, save and summarise."""
    total = len(job.requests)
    shown = [f"generating 0/{total} · 0 s"]
    handle = display({"text/plain": shown[0]}, raw=True, display_id=True)

    def progress(done: int, count: int, elapsed: float) -> None:
        text = f"generating {done}/{count} · {elapsed:.0f} s"
        if text != shown[0] and handle is not None:  # one update per visible change
            shown[0] = text
            handle.update({"text/plain": text}, raw=True)

    single = len(job.requests) == 1 and not job.grid
    live: LiveGrid | None = None
    if job.display and job.matrix is not None and job.matrix.varying:
        from ._live_matrix import LiveMatrix

        live = LiveMatrix(job.matrix, fmt=job.display_format, cell=job.cell_size)
    elif job.display and not single:
        live = LiveGrid(job.axes, fmt=job.display_format, cell=job.cell_size)
    try:
        ran = runtime.run(
            job.requests,
            refresh=job.refresh,
            on_progress=progress,
            on_outcomes=live.update if live is not None else None,
        )
    except ImageGenError:  # refused before anything was sent (a daily budget)
        if handle is not None:
            handle.update({"text/plain": "nothing sent"}, raw=True)
        raise
    outcome = CellOutcome(ran.outcomes, ran.interrupted, ran.elapsed)
    if live is not None:
        live.finish(outcome.outcomes)
    elif job.display:
        show_image(outcome, job.display_format, runtime.cache())
    if job.save_dir and outcome.images:
        try:
            outcome.saved = save_all(outcome.images, job.save_dir)
        except OSError as exc:
            outcome.save_error = f"Could not save to {job.save_dir}: {exc.strerror or exc}."
    if handle is not None:
        handle.update({"text/plain": status_line(outcome, total)}, raw=True)
    return outcome


def save_all(images: Sequence[GeneratedImage], folder: str) -> list[str]:
    """Write each image to ``folder`` under a name taken from its prompt, never overwriting."""
    from ..client import safe_filename, unique_path

    written = []
    for image in images:
        stem = safe_filename(image.prompt)
        for _ in range(100):  # another process may take the free name between check and write
            try:
                written.append(image.save(unique_path(folder, stem, image.extension), exclusive=True))
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(
                f"Could not save {stem}{image.extension} in {folder}: every free name was taken "
                "while saving; choose another folder."
            )
    return written


def show_image(outcome: CellOutcome, fmt: str, cache: ImageCache | None = None) -> None:
    """Display a one-image cell's image (a multi-image cell shows a :class:`LiveGrid`)."""
    from ..client import image_bundle

    only = outcome.outcomes[0]
    if isinstance(only, GeneratedImage):
        for image in only.images:  # a model may answer several images to one request
            bundle, metadata = image_bundle(image, fmt, cache)
            display(bundle, raw=True, metadata=metadata)


def status_line(outcome: CellOutcome, total: int) -> str:
    """One line under the cell's progress placeholder once it is done: what, how long, cached."""
    images = outcome.images
    if not images:
        parts = ["no image"]
    elif total == 1:
        only = images[0]
        parts = [
            only.model,
            f"{only.width}x{only.height}",
            "cached" if only.cached else f"{only.elapsed:.1f} s",
        ]
        if only.seed is not None:  # --param seed=N makes it again
            parts.append(f"seed {only.seed}")
    else:
        count = f"{total} images" if len(images) == total else f"{len(images)} of {total} images"
        models = sorted({image.model for image in images})
        parts = [
            models[0] if len(models) == 1 else f"{len(models)} models",
            count,
            f"{outcome.elapsed:.1f} s",
        ]
        cached = sum(image.cached for image in images)
        if cached:
            parts.append("all cached" if cached == total else f"{cached} cached")
    cost = cost_text(images)
    if cost:
        parts.append(cost)
    if outcome.errors:
        parts.append(f"{len(outcome.errors)} failed")
    if outcome.interrupted:
        parts.append(f"interrupted: {total - len(images) - len(outcome.errors)} cancelled")
    if len(outcome.saved) == 1:
        parts.append(f"saved {outcome.saved[0]}")
    elif outcome.saved:
        parts.append(f"saved {len(outcome.saved)} files in {os.path.dirname(outcome.saved[0]) or '.'}")
    return " · ".join(parts)


def cost_text(images: Sequence[GeneratedImage]) -> str:
    """The estimated cost of the images the service made (cached ones are free), labelled as an
    estimate; empty when every image came from a cache."""
    made = [image for image in images if not image.cached]
    if not made:
        return ""
    known = [image.estimated_cost_usd for image in made if image.estimated_cost_usd is not None]
    if not known:
        return "cost unknown"
    unknown = len(made) - len(known)
    return f"~${sum(known):.4f} estimated" + (f" + {unknown} of unknown cost" if unknown else "")


def failure_message(outcome: CellOutcome, total: int) -> str | None:
    """One line for the cell's UsageError when any request failed, else None."""
    errors = outcome.errors
    if not errors:
        return None
    first = _describe(errors[0])
    others = len({_describe(e) for e in errors}) - 1
    if total == 1 or (len(errors) == total and not others):
        return first
    more = f" (and {others} other error{'s' if others > 1 else ''})" if others else ""
    return f"{len(errors)} of {total} images failed: {first}{more}"


def _describe(error: BaseException) -> str:
    """An error's one line; an unexpected one (a bug, logged with its traceback) says its type."""
    if isinstance(error, ImageGenError):
        return str(error)
    _log.error("jupyter-imagegen request failed unexpectedly", exc_info=error)
    return f"unexpected {type(error).__name__}: {error} (details in the kernel log)"
