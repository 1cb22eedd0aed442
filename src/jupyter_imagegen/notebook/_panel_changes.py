"""What the panel's front end was last told of the job list and the gallery, so the panel sends
only what changed: the lists grow with the work, and a message's size must depend on what
changed, never on how long the lists are."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ._panel_state import Entry

__all__ = ["SentLists"]


class SentLists:
    """The job list and gallery ids the front end holds, and the messages that bring it up to date."""

    def __init__(self, gallery_ids: Sequence[str]) -> None:
        self._jobs: dict[str, dict[str, Any]] = {}  # by id
        self._gallery = list(gallery_ids)

    def messages(
        self, jobs: Sequence[dict[str, Any]], entries: Sequence[Entry], *, reset: bool
    ) -> Iterator[tuple[dict[str, Any], list[bytes] | None]]:
        """The messages (content, buffers) to send, everything when ``reset``.

        ``{"type": "jobs", "reset", "items", "drop"}``: jobs that are new (newest first) or
        changed, and ids that left the list. ``{"type": "gallery", "reset", "items", "drop"}``:
        new items, newest first, item ``i``'s thumbnail in buffer ``i``. A list counts as told
        once the caller asks for the next message, so one that failed to send is sent again.
        """
        current = {job["id"] for job in jobs}
        changed = [job for job in jobs if reset or self._jobs.get(job["id"]) != job]
        dropped = [] if reset else [key for key in self._jobs if key not in current]
        if reset or changed or dropped:
            yield {"type": "jobs", "reset": reset, "items": changed, "drop": dropped}, None
            self._jobs = {job["id"]: job for job in jobs}
        live = {entry.id for entry in entries}
        sent = set(self._gallery)
        new = [entry for entry in entries if reset or entry.id not in sent]
        gone = [] if reset else [key for key in self._gallery if key not in live]
        if reset or new or gone:
            items = [entry.item() for entry in new]
            thumbs = [item.pop("thumb") for item in items]
            yield {"type": "gallery", "reset": reset, "items": items, "drop": gone}, thumbs
            self._gallery = [entry.id for entry in entries]
