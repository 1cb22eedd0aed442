"""Several images as ONE composed, labelled grid image.

Why one image: an HTML table of ``<img>`` tags would need base64 in ``text/html`` on top of the
image outputs (doubling the notebook), and a run of separate outputs cannot be laid out in rows
and columns. One composed picture holds every thumbnail with its row/column labels and captions,
embeds as a single compact image MIME type (a JPEG under the preview budget, via
:func:`_display.encode_preview`), and the full-size originals stay in the cache, ``-o`` and
``--save``. Every label is also written as text in the output's metadata and the status line, so
nothing is only in pixels.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..client import GeneratedImage

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

__all__ = ["GridLayout", "compose_grid", "thumbnail"]

_BACKGROUND = (255, 255, 255)
_INK = (40, 40, 40)
_MUTED = (120, 120, 120)
_EMPTY = (235, 235, 235)
_PAD = 8


@dataclass(frozen=True)
class GridLayout:
    """Where each image goes: ``columns`` per row, optional row/column labels, a caption each."""

    columns: int
    row_labels: Sequence[str] = ()
    column_labels: Sequence[str] = ()
    captions: Sequence[str] = ()


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Any, width: float) -> str:
    """``text`` shortened with an ellipsis until it fits ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…" if text else ""


def thumbnail(image: GeneratedImage, cell: int = 384) -> Image.Image:
    """``image`` at most ``cell`` pixels on a side, from one decode: a JPEG is decoded straight
    at the smallest scale still at least ``cell`` (Pillow's draft mode), then area-averaged down
    (BOX: an antialiased reduction at a fraction of the cost of a bicubic one, which cost more
    than the decode itself)."""
    from PIL import Image

    if image.mime_type == "image/svg+xml":  # never rasterised: a plain tile stands in for it
        return Image.new("RGB", (cell, cell), (235, 235, 235))
    picture = Image.open(io.BytesIO(image.data))
    picture.draft("RGB", (cell, cell))
    scale = min(1.0, cell / max(picture.size))
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return picture.resize(size, Image.Resampling.BOX) if size != picture.size else picture


def compose_grid(thumbs: Sequence[Image.Image | None], layout: GridLayout, cell: int = 384) -> Image.Image:
    """One RGB picture of ``thumbs`` (from :func:`thumbnail`; None leaves an empty cell) laid
    out and labelled as ``layout`` says."""
    from PIL import Image, ImageDraw

    columns = max(1, layout.columns)
    rows = -(-len(thumbs) // columns)
    cell_w = max([t.width for t in thumbs if t is not None] or [cell])
    cell_h = max([t.height for t in thumbs if t is not None] or [cell])
    font = _font(14)
    line_h = 20
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = 0
    if layout.row_labels:
        widest = max(measure.textlength(text, font=font) for text in layout.row_labels)
        label_w = int(min(widest, cell_w * 0.75)) + 2 * _PAD
    header_h = line_h + _PAD if layout.column_labels else 0
    caption_h = line_h if layout.captions else 0
    block_h = cell_h + caption_h + _PAD
    canvas = Image.new(
        "RGB", (label_w + columns * (cell_w + _PAD) + _PAD, header_h + rows * block_h + _PAD), _BACKGROUND
    )
    draw = ImageDraw.Draw(canvas)
    for col, text in enumerate(layout.column_labels[:columns]):
        x = label_w + _PAD + col * (cell_w + _PAD)
        draw.text((x, _PAD // 2), _fit(draw, text, font, cell_w), fill=_INK, font=font)
    for index, thumb in enumerate(thumbs):
        row, col = divmod(index, columns)
        x = label_w + _PAD + col * (cell_w + _PAD)
        y = header_h + _PAD + row * block_h
        if thumb is None:
            draw.rectangle((x, y, x + cell_w - 1, y + cell_h - 1), fill=_EMPTY)
        else:
            offset = (x + (cell_w - thumb.width) // 2, y + (cell_h - thumb.height) // 2)
            if thumb.mode in ("RGBA", "LA", "P"):
                rgba = thumb.convert("RGBA")
                canvas.paste(rgba, offset, rgba)
            else:
                canvas.paste(thumb.convert("RGB"), offset)
        if index < len(layout.captions):
            text = _fit(draw, layout.captions[index], font, cell_w)
            draw.text((x, y + cell_h + 2), text, fill=_MUTED, font=font)
    for row, text in enumerate(layout.row_labels[:rows]):
        y = header_h + _PAD + row * block_h + cell_h // 2 - line_h // 2
        draw.text((_PAD, y), _fit(draw, text, font, label_w - 2 * _PAD), fill=_INK, font=font)
    return canvas
