"""GenerationResults: the outcome of many requests, in input order, successes and failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .._exceptions import ImageGenError
from ._request import ImageRequest
from ._result import GeneratedImage

__all__ = ["GenerationResults"]


@dataclass(frozen=True)
class _Html:
    """HTML for marimo, which shows whatever ``_mime_`` returns."""

    html: str

    def _mime_(self) -> tuple[str, str]:
        return "text/html", self.html


class GenerationResults(list[GeneratedImage | BaseException]):
    """A list holding, per request, its GeneratedImage or the exception that stopped it."""

    def __init__(self, requests: Sequence[ImageRequest], outcomes: Sequence[GeneratedImage | BaseException]):
        super().__init__(outcomes)
        self.requests = list(requests)

    @property
    def images(self) -> list[GeneratedImage]:
        """The successful images, in input order (every image of an answer that held several)."""
        return [image for item in self if isinstance(item, GeneratedImage) for image in item.images]

    @property
    def errors(self) -> list[tuple[int, BaseException]]:
        """``(index, error)`` for every request that failed."""
        return [(i, item) for i, item in enumerate(self) if isinstance(item, BaseException)]

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise an ImageGenError summarising every failure, if there was any."""
        if self.errors:
            lines = "; ".join(f"#{i}: {error}" for i, error in self.errors)
            raise ImageGenError(f"{len(self.errors)} of {len(self)} requests failed: {lines}")

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        return {"text/plain": repr(self)}

    def _display_(self) -> _Html:
        """marimo's display protocol (first in its order, before its own display of lists): the
        images in a row, each captioned with its prompt, then one line per failure. Jupyter
        never asks for it; there the magic composes grids."""
        import html

        figures = []
        for image in self.images:
            src = html.escape(image._mime_()[1], quote=True)
            prompt = html.escape(image.prompt, quote=True)
            figures.append(
                f'<figure style="margin:0;width:192px"><img src="{src}" alt="{prompt}" '
                f'style="width:100%"><figcaption style="font-size:12px">{prompt}</figcaption></figure>'
            )
        failures = "".join(f"<p>#{i}: {html.escape(str(error))}</p>" for i, error in self.errors)
        row = f'<div style="display:flex;flex-wrap:wrap;gap:8px">{"".join(figures)}</div>'
        return _Html(row + failures)

    def __repr__(self) -> str:
        return f"<GenerationResults {len(self.images)} images, {len(self.errors)} errors>"
