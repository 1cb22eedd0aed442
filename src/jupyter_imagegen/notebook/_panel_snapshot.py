"""The panel's saved snapshot: what a notebook shows of the gallery without its kernel.

A widget's view needs its kernel (or saved widget state and the widget's code from the
network), so GitHub, nbviewer and ``jupyter nbconvert --to html`` would show nothing of what a
panel made. Beside the widget, the panel therefore displays one ``text/html`` output: small
thumbnails of the gallery's newest images with their prompts, updated in place (one display id
per panel) as images arrive. It is plain HTML with data-URI images, so it shows with the
network off; the live panel hides it (the gallery is right there) once its kernel answers.

Its size is bounded: at most :data:`SNAPSHOT_LIMIT` images, each thumbnail encoded to at most
:data:`SNAPSHOT_THUMB_BYTES`, each prompt cut to :data:`SNAPSHOT_PROMPT_CHARS` characters: the
output adds at most :data:`SNAPSHOT_BYTES_PER_IMAGE` bytes of ``.ipynb`` per image shown.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PIL import Image

from ._panel_state import HISTORY, Entry

__all__ = [
    "SNAPSHOT_BYTES_PER_IMAGE",
    "SNAPSHOT_LIMIT",
    "Snapshot",
    "SnapshotDisplay",
]

SNAPSHOT_LIMIT = 24  # newest images in the snapshot
SNAPSHOT_SIZE = 128  # pixels on the longer side
SNAPSHOT_THUMB_BYTES = 6_000  # JPEG bytes of one thumbnail (base64 makes 8,000 of them)
SNAPSHOT_PROMPT_CHARS = 100
# One image's share of the saved output: its base64 thumbnail, its escaped prompt twice (alt text
# and caption, at most 6 characters each for "&quot;"), the markup, and JSON escaping.
SNAPSHOT_BYTES_PER_IMAGE = 10_000
_QUALITIES = (70, 55, 40)


def snapshot_thumbnail(thumb: bytes) -> tuple[bytes, tuple[int, int]]:
    """A JPEG of at most ``SNAPSHOT_THUMB_BYTES`` from a gallery thumbnail, and its size."""
    with Image.open(io.BytesIO(thumb)) as source:
        picture = source.convert("RGB")
    picture.thumbnail((SNAPSHOT_SIZE, SNAPSHOT_SIZE))
    while True:
        for quality in _QUALITIES:
            buffer = io.BytesIO()
            picture.save(buffer, format="JPEG", quality=quality)
            if buffer.tell() <= SNAPSHOT_THUMB_BYTES:
                return buffer.getvalue(), picture.size
        # Noise defeats JPEG at any quality: fewer pixels, rather than a bigger notebook.
        picture = picture.resize((max(1, picture.width * 3 // 4), max(1, picture.height * 3 // 4)))


def _short(prompt: str) -> str:
    return prompt if len(prompt) <= SNAPSHOT_PROMPT_CHARS else prompt[: SNAPSHOT_PROMPT_CHARS - 1] + "…"


class Snapshot:
    """One panel's snapshot output: its display id and the HTML for the gallery's entries."""

    def __init__(self, display_id: str) -> None:
        self.display_id = display_id
        self.shown = False  # displayed in an IPython front end, so there is an output to update
        self._thumbs: dict[str, tuple[str, tuple[int, int]]] = {}  # entry id -> (base64, size)

    def bundle(self, entries: Sequence[Entry]) -> dict[str, Any]:
        """The output's data: ``text/html`` with the newest entries, ``text/plain`` naming them."""
        newest = list(entries[:SNAPSHOT_LIMIT])
        figures = [self._figure(entry) for entry in newest]
        self._thumbs = {entry.id: self._thumbs[entry.id] for entry in newest}  # forget the rest
        if newest:
            title = f"Image generation panel: the newest {len(newest)} of {len(entries)} images"
        else:
            title = "Image generation panel: no images yet"
        markup = (
            f'<div class="jig-snapshot" data-snapshot="{html.escape(self.display_id, quote=True)}" '
            'style="font:12px/1.4 system-ui,sans-serif;margin:4px 0">'
            f"<div>{html.escape(title)} (saved with the notebook; the live panel needs its kernel)</div>"
            f'<div style="display:flex;flex-wrap:wrap;gap:6px;margin-top:4px">{"".join(figures)}</div>'
            "</div>"
        )
        plain = [title] + [f"- {_short(entry.info.prompt)}" for entry in newest]
        return {"text/html": markup, "text/plain": "\n".join(plain)}

    def _figure(self, entry: Entry) -> str:
        if entry.id not in self._thumbs:
            data, size = snapshot_thumbnail(entry.thumb)
            self._thumbs[entry.id] = (base64.b64encode(data).decode("ascii"), size)
        encoded, (width, height) = self._thumbs[entry.id]
        prompt = html.escape(_short(entry.info.prompt), quote=True)
        return (
            f'<figure style="margin:0;width:{SNAPSHOT_SIZE}px">'
            f'<img src="data:image/jpeg;base64,{encoded}" alt="{prompt}" width="{width}" height="{height}">'
            f'<figcaption style="overflow-wrap:anywhere">{prompt}</figcaption></figure>'
        )


class SnapshotDisplay:
    """A mixin of :class:`ImageGenPanel`: shows the widget and its snapshot in IPython front ends
    (marimo shows the widget through its own anywidget support and never asks for this)."""

    if TYPE_CHECKING:  # provided by ImageGenPanel
        _snapshot: Snapshot

        def _repr_mimebundle_(
            self, **kwargs: dict[Any, Any]
        ) -> tuple[dict[Any, Any], dict[Any, Any]] | None: ...

    def _ipython_display_(self) -> None:
        from ._session import display

        widget = self._repr_mimebundle_()
        if widget is not None:
            display(widget[0], metadata=widget[1], raw=True)
        display(self._snapshot.bundle(HISTORY.entries), raw=True, display_id=self._snapshot.display_id)
        self._snapshot.shown = True

    def _update_snapshot(self) -> None:
        """Every output of this panel's snapshot, brought up to date with the gallery."""
        if self._snapshot.shown:
            from ._session import display

            bundle = self._snapshot.bundle(HISTORY.entries)
            display(bundle, raw=True, display_id=self._snapshot.display_id, update=True)
