"""What Python sees of the control panel: its images, selection, jobs and gallery, cancelling,
waiting and saving (and the selection kept to images still in the gallery). A mixin of :class:`ImageGenPanel`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._panel_state import HISTORY

if TYPE_CHECKING:
    from ..client import GeneratedImage
    from ._panel_jobs import JobRunner

__all__ = ["PanelApi"]


class PanelApi:
    """The panel's Python API."""

    if TYPE_CHECKING:  # provided by ImageGenPanel
        model: str
        selected_ids: list[str]
        _runner: JobRunner
        _last_error: BaseException | None

        @staticmethod
        def _scrub(text: str) -> str: ...

    def __repr__(self) -> str:
        running = len(self._runner.active)
        return f"<ImageGenPanel model={self.model!r} images={len(HISTORY.entries)} unfinished={running}>"

    def _on_selection(self, change: Mapping[str, Any]) -> None:
        """The selection keeps only images still in the gallery."""
        live = {entry.id for entry in HISTORY.entries}
        kept = [i for i in self.selected_ids if i in live]
        if kept != list(self.selected_ids):
            self.selected_ids = kept

    @property
    def images(self) -> list[GeneratedImage]:
        """Every image in the gallery, newest first."""
        return [entry.image for entry in HISTORY.entries]

    @property
    def selected(self) -> list[GeneratedImage]:
        """The images marked in the gallery, newest first."""
        chosen = set(self.selected_ids)
        return [entry.image for entry in HISTORY.entries if entry.id in chosen]

    @property
    def jobs(self) -> list[dict[str, Any]]:
        """The requests' states as the panel shows them, newest first."""
        jobs = [job.as_dict() for job in self._runner.jobs]
        for job in jobs:
            job["message"] = self._scrub(job["message"])
        return jobs

    @property
    def gallery(self) -> list[dict[str, Any]]:
        """The gallery's items as the panel shows them (thumbnails as bytes), newest first."""
        return [entry.item() for entry in HISTORY.entries]

    @property
    def last_error(self) -> BaseException | None:
        """The last exception a panel action raised (its message is shown in the panel)."""
        return self._last_error

    def cancel(self, job_id: str | None = None) -> int:
        """Cancel one job or all unfinished ones (and their HTTP requests)."""
        return self._runner.cancel(job_id)

    async def wait(self) -> None:
        """``await panel.wait()``: until every queued or running request has finished."""
        await self._runner.wait()

    def save(self, directory: str | os.PathLike[str], *, selected_only: bool = False) -> list[str]:
        """Write the gallery's images (or only the selected ones) to ``directory`` at full size
        with their provenance, named after their prompts, never overwriting; returns the paths."""
        from ._session import save_all

        images = self.selected if selected_only else self.images
        return save_all(images, os.fspath(directory))
