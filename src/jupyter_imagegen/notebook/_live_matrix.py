"""The one output of a comparison cell: the live grid, laid out as a labelled matrix.

It is a :class:`LiveGrid` (each image decoded once to its thumbnail on arrival, the output updated
in place as images finish) whose picture is the matrix of :mod:`._matrix_layout`: row and column
labels named by what differs, a titled block per group when more than two things vary, each
cell's time and estimated cost (or "cached"), and a footer with the totals. Every label is also
in the output's text and metadata, so nothing is only in pixels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..client import GeneratedImage
from ._live_grid import LiveGrid, Outcomes
from ._matrix_layout import Group, Labelled, cell_caption, footer_text, groups_of

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["LiveMatrix", "compose_matrix", "matrix_text"]

_BAND = 26  # pixels of a group's title and of the footer line


class LiveMatrix(LiveGrid):
    """The matrix output of one comparison; :meth:`update` and :meth:`finish` as a LiveGrid."""

    def __init__(self, matrix: Labelled, *, fmt: str = "auto", cell: int = 384) -> None:
        super().__init__(matrix.axes, fmt=fmt, cell=cell)
        self.matrix = matrix

    def render(self, outcomes: Outcomes, *, running: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        from ..client import encode_preview, image_info, output_bundle

        captions = [cell_caption(r, running=running) for r in outcomes]
        groups = groups_of(self.matrix.labels, len(outcomes))
        footer = footer_text(outcomes)
        thumbs = [self._thumbs.get(i) for i in range(len(outcomes))]
        canvas = compose_matrix(thumbs, groups, self._shown_captions(captions), footer, self.cell)
        mime, data = encode_preview(canvas, self.fmt)
        info = {
            "grid": True,
            "comparison": True,
            "axes": [
                {"name": axis.name, "labels": list(labels)}
                for axis, labels in zip(self.matrix.axes, self.matrix.labels, strict=True)
            ],
            "groups": [group.title for group in groups],
            "rows": list(groups[0].rows),
            "columns": list(groups[0].columns),
            "cells": [list(self.matrix.cell_labels(i)) for i in range(len(outcomes))],
            "captions": captions,
            "footer": footer,
            "images": [image_info(r) if isinstance(r, GeneratedImage) else None for r in outcomes],
        }
        if running:
            info["running"] = True
        return output_bundle(mime, data, matrix_text(self.matrix, captions, footer), info)

    def _shown_captions(self, captions: list[str]) -> list[str]:
        """Captions as drawn: with the cell's labels when no header carries them (one long row)."""
        groups = groups_of(self.matrix.labels, len(captions))
        if len(self.matrix.labels) == 1 and not groups[0].columns:
            return [f"{self.matrix.labels[0][i]} · {text}" for i, text in enumerate(captions)]
        return captions


def matrix_text(matrix: Labelled, captions: list[str], footer: str) -> str:
    """The matrix as text: what varies, one line per cell with its labels, and the totals."""
    lines = [f"<comparison: {matrix.dimensions()}>"]
    lines += [f"  {' · '.join(matrix.cell_labels(i))}: {text}" for i, text in enumerate(captions)]
    lines.append(f"  total: {footer}")
    return "\n".join(lines)


def compose_matrix(
    thumbs: list[Image.Image | None], groups: list[Group], captions: list[str], footer: str, cell: int
) -> Image.Image:
    """One picture: each group's labelled grid under its title, then the footer line."""
    from PIL import Image, ImageDraw

    from ._gallery import GridLayout, compose_grid

    blocks = []
    for group in groups:
        layout = GridLayout(group.across, group.rows, group.columns, [captions[i] for i in group.indices])
        blocks.append((group.title, compose_grid([thumbs[i] for i in group.indices], layout, cell)))
    width = max(block.width for _, block in blocks)
    height = sum(block.height + (_BAND if title else 0) for title, block in blocks) + _BAND
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font = _font()
    y = 0
    for title, block in blocks:
        if title:
            draw.text((8, y + 6), title, fill=(20, 20, 20), font=font)
            y += _BAND
        canvas.paste(block, (0, y))
        y += block.height
    draw.line((8, y + 2, width - 8, y + 2), fill=(200, 200, 200))
    draw.text((8, y + 6), footer, fill=(40, 40, 40), font=font)
    return canvas


def _font() -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=14)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()
