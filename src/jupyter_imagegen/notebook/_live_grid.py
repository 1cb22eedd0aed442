"""The one output of a multi-image cell: a composed grid that fills in as the images arrive.

Each image is decoded once, straight to its thumbnail (a JPEG at a reduced scale), when it
arrives; every redraw pastes the thumbnails kept so far and encodes the grid once, directly in
the display format (no lossless copy decoded again). The output is shown as soon as the first
image is there and updated in place through its display handle, so a notebook stores only its
last state: one image MIME type, the size of one grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..client import GeneratedImage
from ..runtime import Axis, rows_and_columns

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["LiveGrid", "caption", "more_images"]

Outcomes = Sequence[GeneratedImage | BaseException | None]


def more_images(image: GeneratedImage) -> str:
    """A grid cell shows an answer's first image; the caption counts the rest (all of them are
    in the cell's result, ``-o VAR``, and ``--save``)."""
    return f" · +{len(image.others)} more" if image.others else ""


def caption(result: GeneratedImage | BaseException | None, *, running: bool = False) -> str:
    """What an image's cell says under it; None is an image still coming (or, at the end, cancelled)."""
    if isinstance(result, GeneratedImage):
        return ("cached" if result.cached else f"{result.elapsed:.1f} s") + more_images(result)
    if isinstance(result, BaseException):
        return "failed"
    return "…" if running else "cancelled"


class LiveGrid:
    """The grid output of one cell. Call :meth:`update` as outcomes come in (each tick of the
    run) and :meth:`finish` once with the final ones."""

    def __init__(self, axes: Sequence[Axis], *, fmt: str = "auto", cell: int = 384) -> None:
        self.axes, self.fmt, self.cell = list(axes), fmt, cell
        self._thumbs: dict[int, Image.Image] = {}
        self._handle: Any = None

    def update(self, outcomes: Outcomes) -> None:
        """Redraw when an image arrived since the last call and others are still running."""
        if self._take(outcomes) and any(result is None for result in outcomes):
            self._show(*self.render(outcomes, running=True))

    def finish(self, outcomes: Outcomes) -> None:
        """The final grid, every caption settled; nothing when no image was made."""
        self._take(outcomes)
        if self._thumbs:
            self._show(*self.render(outcomes, running=False))

    def render(self, outcomes: Outcomes, *, running: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``(data, metadata)`` of the grid for ``outcomes`` (thumbnails made beforehand)."""
        from ..client import encode_preview, image_info, output_bundle
        from ._gallery import GridLayout, compose_grid

        captions = [caption(r, running=running) for r in outcomes]
        if len(self.axes) >= 2:
            rows, columns = rows_and_columns(self.axes)
            layout = GridLayout(len(columns), rows, columns, captions)
        else:
            labels = self.axes[0].labels if self.axes else tuple(f"#{i + 1}" for i in range(len(outcomes)))
            captions = [f"{text} · {note}" for text, note in zip(labels, captions, strict=True)]
            layout = GridLayout(min(4, len(outcomes)), captions=captions)
        canvas = compose_grid([self._thumbs.get(i) for i in range(len(outcomes))], layout, self.cell)
        mime, data = encode_preview(canvas, self.fmt)
        made = sum(isinstance(r, GeneratedImage) for r in outcomes)
        text = f"<{made} generated images: {', '.join(captions)}>"
        info = {
            "grid": True,
            "rows": list(layout.row_labels),
            "columns": list(layout.column_labels),
            "captions": captions,
            "images": [image_info(r) if isinstance(r, GeneratedImage) else None for r in outcomes],
        }
        if running:
            info["running"] = True
        return output_bundle(mime, data, text, info)

    def _take(self, outcomes: Outcomes) -> bool:
        """Make the thumbnails of images not seen yet; True if there was any."""
        from ._gallery import thumbnail

        new = [
            (i, r) for i, r in enumerate(outcomes) if isinstance(r, GeneratedImage) and i not in self._thumbs
        ]
        for index, image in new:
            self._thumbs[index] = thumbnail(image, self.cell)
        return bool(new)

    def _show(self, bundle: dict[str, Any], metadata: dict[str, Any]) -> None:
        from ._ipython_display import display

        if self._handle is None:
            self._handle = display(bundle, raw=True, metadata=metadata, display_id=True)
        else:
            self._handle.update(bundle, raw=True, metadata=metadata)
