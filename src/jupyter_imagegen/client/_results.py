"""GenerationResults: the outcome of many requests, in input order, successes and failures."""

from __future__ import annotations

from collections.abc import Sequence

from .._exceptions import ImageGenError
from ._request import ImageRequest
from ._result import GeneratedImage

__all__ = ["GenerationResults"]


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

    def __repr__(self) -> str:
        return f"<GenerationResults {len(self.images)} images, {len(self.errors)} errors>"
