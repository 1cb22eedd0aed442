"""A comparison's contact sheet: the originals in a folder and one ``index.html`` beside them.

The page stands alone: every thumbnail is embedded as a data URI (it shows offline, mailed or
moved without its folder), each links to its original by a relative path, the labels, times and
costs are text, and the command that made it is quoted. It holds no script and nothing of the
settings or credentials: only what the images' provenance already says.
"""

from __future__ import annotations

import base64
import html
import os
from typing import TYPE_CHECKING, Protocol

from ._matrix_layout import ComparisonCell, Outcome, cell_caption, footer_text, groups_of

if TYPE_CHECKING:
    from ..client import GeneratedImage
    from ..runtime import Axis


class SheetSource(Protocol):
    """What a sheet is made of (a :class:`~jupyter_imagegen.Comparison` is one)."""

    axes: list[Axis]
    cells: list[ComparisonCell]
    command: str
    labels: list[tuple[str, ...]]
    paths: dict[int, str]

    @property
    def outcomes(self) -> list[Outcome]: ...


__all__ = ["contact_sheet_html", "write_contact_sheet"]

_THUMB = 320
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
table{border-collapse:collapse;margin:0 0 24px}
th,td{padding:6px;vertical-align:top;text-align:left}
thead th{border-bottom:1px solid #ccc}
tbody th{white-space:nowrap}
figure{margin:0}
img{display:block;max-width:320px;height:auto;border:1px solid #ddd}
figcaption{color:#555;font-size:13px}
.labels{color:#222}
pre{background:#f4f4f4;padding:8px;white-space:pre-wrap}
"""


def write_contact_sheet(comparison: SheetSource, folder: str) -> str:
    """Write the originals and ``index.html`` (``index-2.html``... when one exists) to ``folder``,
    made if missing; nothing already there is replaced. Returns the page's path."""
    from ..client import safe_filename, unique_path, write_new_file

    os.makedirs(folder, exist_ok=True)
    for index, cell in enumerate(comparison.cells):
        if cell.image is not None:
            stem = safe_filename(" ".join(cell.labels) or cell.image.prompt)
            comparison.paths[index] = _save_new(cell.image, folder, stem)
    page = contact_sheet_html(comparison, folder).encode("utf-8")
    for _ in range(100):  # another writer may take the free name between check and write
        try:
            return write_new_file(unique_path(folder, "index", ".html"), page)
        except FileExistsError:
            continue
    raise FileExistsError(f"Could not write index.html in {folder}: every free name was taken.")


def _save_new(image: GeneratedImage, folder: str, stem: str) -> str:
    from ..client import unique_path

    for _ in range(100):
        try:
            return image.save(unique_path(folder, stem, image.extension))
        except FileExistsError:
            continue
    raise FileExistsError(f"Could not save {stem}{image.extension} in {folder}: every free name was taken.")


def _data_uri(image: GeneratedImage) -> str:
    from ..client import encode_preview
    from ._gallery import thumbnail

    mime, data = encode_preview(thumbnail(image, _THUMB), "auto")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _cell(comparison: SheetSource, index: int, folder: str) -> str:
    cell = comparison.cells[index]
    labels = html.escape(" · ".join(cell.labels))
    caption = html.escape(cell_caption(cell.image if cell.image is not None else cell.error))
    if cell.image is None:
        why = html.escape(str(cell.error)) if cell.error is not None else "cancelled"
        return f'<td><figure><figcaption><span class="labels">{labels}</span><br>{caption}: {why}</figcaption></figure></td>'
    alt = html.escape(f"{cell.image.prompt} ({' · '.join(cell.labels)})", quote=True)
    href = html.escape(os.path.relpath(comparison.paths[index], folder).replace(os.sep, "/"), quote=True)
    size = f"{cell.image.width}x{cell.image.height}" if cell.image.width else ""
    return (
        f'<td><figure><a href="{href}"><img src="{_data_uri(cell.image)}" alt="{alt}"></a>'
        f'<figcaption><span class="labels">{labels}</span><br>{caption} · {html.escape(size)}'
        "</figcaption></figure></td>"
    )


def contact_sheet_html(comparison: SheetSource, folder: str) -> str:
    """The page for ``comparison`` whose originals were saved under ``folder``."""
    count = len(comparison.cells)
    groups = groups_of(comparison.labels, count)
    prompts = sorted({c.image.prompt for c in comparison.cells if c.image is not None})
    sizes = " x ".join(f"{len(a.values)} {a.name}" for a in comparison.axes)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Comparison: {html.escape(sizes)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Comparison: {html.escape(sizes)}</h1>",
    ]
    parts += [f"<p>Prompt: {html.escape(p)}</p>" for p in prompts[:3]]
    for group in groups:
        parts.append("<table>")
        if group.title:
            parts.append(f"<caption><h2>{html.escape(group.title)}</h2></caption>")
        if group.columns:
            heads = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in group.columns)
            parts.append(f"<thead><tr>{'<td></td>' if group.rows else ''}{heads}</tr></thead>")
        parts.append("<tbody>")
        for start in range(0, len(group.indices), group.across):
            row = group.indices[start : start + group.across]
            head = group.rows[start // group.across] if group.rows else None
            cells = "".join(_cell(comparison, i, folder) for i in row)
            row_head = f'<th scope="row">{html.escape(head)}</th>' if head is not None else ""
            parts.append(f"<tr>{row_head}{cells}</tr>")
        parts.append("</tbody></table>")
    parts.append(f"<p><strong>Total:</strong> {html.escape(footer_text(comparison.outcomes))}</p>")
    parts.append("<p>Costs are estimates from published prices; the provider's bill is the reference.</p>")
    if comparison.command:
        parts.append(f"<p>Made with:</p><pre><code>{html.escape(comparison.command)}</code></pre>")
    parts.append("</body></html>")
    return "\n".join(parts)
