"""How a batch records each item's outcome: the image saved under its fixed name, then its
manifest line, and the item's files from earlier runs removed.

:class:`BatchJob` (in :mod:`._job`, which schedules the requests) inherits these and runs
``_save`` and ``_fail`` on its one writer thread, so files and manifest lines land in one order.
"""

from __future__ import annotations

import contextlib
import os

from .._exceptions import ImageGenError
from ..client import GeneratedImage
from ._inputs import BatchItem
from ._manifest import Manifest, ManifestEntry
from ._plan import entry_for
from ._progress import BatchCounters

__all__ = ["OutcomeRecorder"]


class OutcomeRecorder:
    """The recording half of :class:`BatchJob`, which sets these attributes."""

    out_dir: str
    manifest: Manifest
    counters: BatchCounters
    _final: dict[int, ManifestEntry]  # the outcome of each index, for the result
    _made: list[int]
    _on_disk: dict[str, list[str]]
    _replaceable: set[str]  # files this batch wrote, unchanged since (see _plan.recorded_files)

    def _remove_other_files(self, item: BatchItem, keep: str | None) -> None:
        """Delete this item's files other than ``keep`` (an earlier run's image in another format),
        only those the manifest says the batch wrote and that are unchanged since."""
        for name in self._on_disk.get(item.stem, []):
            if name != keep and name in self._replaceable:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.out_dir, name))

    def _save(self, item: BatchItem, image: GeneratedImage, attempts: int, elapsed: float) -> None:
        name, path = self._place(item.stem, image, item)
        others: dict[str, int] = {}
        for other in image.others:  # a model's further images for this request: NAME-2.png, ...
            other_name, other_path = self._place(f"{item.stem}-{other.answer_index + 1}", other, item)
            others[other_name] = os.path.getsize(other_path)
        entry = entry_for(
            item,
            "done",
            file=name,
            bytes=os.path.getsize(path),
            others=others or None,
            log_id=image.log_id,
            elapsed=round(elapsed, 3),
            cached=image.cached,
            attempts=attempts,
        )
        self.manifest.append(entry)
        self._remove_other_files(item, keep=name)
        self._final[item.index] = entry
        self.counters.generated += 1
        if not image.cached:
            self._made.append(item.index)

    def _place(self, stem: str, image: GeneratedImage, item: BatchItem) -> tuple[str, str]:
        """Save ``image`` as ``stem`` plus its extension, replacing only an image this batch wrote
        there (unchanged since); else under the first free ``STEM-2``, ``STEM-3``...: a file there
        that this batch did not write (or that changed since) is the user's, never replaced."""
        for number in range(1, 10_000):
            name = stem + (f"-{number}" if number > 1 else "") + image.extension
            path = os.path.join(self.out_dir, name)
            if name in self._replaceable:
                self._replaceable.discard(name)  # replaced once: this run's own file from now on
                image.save(path, overwrite=True)
                return name, path
            try:
                image.save(path)
            except FileExistsError:
                continue
            return name, path
        raise ImageGenError(f"No free file name for item #{item.index} in {self.out_dir}.")

    def _fail(self, item: BatchItem, error: ImageGenError, attempts: int, elapsed: float) -> None:
        entry = entry_for(
            item,
            "failed",
            error=str(error),
            error_type=type(error).__name__,
            log_id=getattr(error, "log_id", None),
            elapsed=round(elapsed, 3),
            attempts=attempts,
        )
        self.manifest.append(entry)
        self._final[item.index] = entry
        self.counters.failed += 1
