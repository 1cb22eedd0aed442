"""Comparison: what a comparison made, kept by ``-o VAR``: each image with the values that made it.

``result["openai/gpt-image-1.5", "low"]`` is the image of that model and quality (one value per
varying thing, in the order of ``result.axes``; a dict by name works too), ``result.where(model=...)``
the images that match some values, ``result.to_pandas()`` one row per image and
``result.save("out/")`` every original plus a self-contained ``index.html`` contact sheet.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..client import GeneratedImage
from ._matrix_layout import ComparisonCell, Outcome, cell_caption, footer_text

if TYPE_CHECKING:
    from ..runtime import Axis, Matrix

__all__ = ["Comparison", "ComparisonCell"]


@dataclass
class Comparison:
    """The images of one comparison with the values that made each; see the module's doc."""

    axes: list[Axis]
    cells: list[ComparisonCell]
    command: str = ""
    labels: list[tuple[str, ...]] = field(default_factory=list)
    paths: dict[int, str] = field(default_factory=dict)  # where save() wrote each original

    @classmethod
    def of(cls, matrix: Matrix, outcomes: Sequence[Outcome]) -> Comparison:
        cells = []
        for index, outcome in enumerate(outcomes):
            values = dict(zip((axis.name for axis in matrix.axes), matrix.keys[index], strict=True))
            image = outcome if isinstance(outcome, GeneratedImage) else None
            error = outcome if isinstance(outcome, BaseException) else None
            cells.append(ComparisonCell(values, matrix.cell_labels(index), image, error))
        return cls(list(matrix.axes), cells, matrix.command, list(matrix.labels))

    @property
    def names(self) -> list[str]:
        """What varies, in order: ``["model", "quality"]``."""
        return [axis.name for axis in self.axes]

    @property
    def images(self) -> list[GeneratedImage]:
        """Every image made, in matrix order (a failed combination has none)."""
        return [cell.image for cell in self.cells if cell.image is not None]

    @property
    def outcomes(self) -> list[Outcome]:
        return [cell.image if cell.image is not None else cell.error for cell in self.cells]

    def __len__(self) -> int:
        return len(self.cells)

    def __iter__(self) -> Iterator[ComparisonCell]:
        return iter(self.cells)

    def __getitem__(self, key: Any) -> GeneratedImage:
        """The image of one combination: a value per axis (a tuple, or the value alone when one
        thing varies) or a dict by axis name. A value matches as given or as its text."""
        wanted = self._wanted(key)
        found = self.where(**wanted) if len(wanted) == len(self.axes) else []
        if not found:
            choices = "; ".join(f"{a.name}: {', '.join(map(str, a.values))}" for a in self.axes)
            raise KeyError(f"No image for {key!r}: give one value for each of {self.names} ({choices}).")
        return found[0]

    def where(self, **values: Any) -> list[GeneratedImage]:
        """The images whose values match every given one (by axis name)."""
        unknown = sorted(set(values) - set(self.names))
        if unknown:
            raise KeyError(f"{', '.join(unknown)} does not vary here; these do: {', '.join(self.names)}.")
        return [
            cell.image
            for cell in self.cells
            if cell.image is not None and all(_same(cell.values[k], v) for k, v in values.items())
        ]

    def _wanted(self, key: Any) -> dict[str, Any]:
        if isinstance(key, Mapping):
            return dict(key)
        values = key if isinstance(key, tuple) else (key,)
        if len(values) != len(self.axes):
            raise KeyError(f"Give {len(self.axes)} values, one for each of {self.names}; got {key!r}.")
        return dict(zip(self.names, values, strict=True))

    def to_pandas(self) -> Any:
        """One row per combination: the varying values, model, seed (where there is one),
        seconds, estimated cost, cached and the saved path (after :meth:`save`)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("to_pandas() needs pandas: pip install pandas") from None
        rows = []
        for index, cell in enumerate(self.cells):
            image = cell.image
            row = dict(cell.values)
            row.update(
                model=image.model if image else None,
                seed=image.params.get("seed") if image else None,
                seconds=image.elapsed if image else None,
                estimated_cost_usd=image.estimated_cost_usd if image else None,
                cached=image.cached if image else None,
                path=self.paths.get(index),
                error=str(cell.error) if cell.error is not None else None,
            )
            rows.append(row)
        return pandas.DataFrame(rows)

    def save(self, folder: str | os.PathLike[str]) -> str:
        """Write every original (provenance embedded, never overwriting) and a contact sheet,
        ``index.html`` (thumbnails embedded, no script); return the sheet's path."""
        from ._contact_sheet import write_contact_sheet

        return write_contact_sheet(self, os.fspath(folder))

    def cell_labels(self, index: int) -> tuple[str, ...]:
        return self.cells[index].labels

    def dimensions(self) -> str:
        return " x ".join(f"{len(a.values)} {a.name}" for a in self.axes)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The matrix again, as the cell showed it."""
        from ._live_matrix import LiveMatrix

        live = LiveMatrix(self)
        outcomes = self.outcomes
        live._take(outcomes)  # the thumbnails, each image decoded once
        return live.render(outcomes, running=False)

    def caption(self, index: int) -> str:
        """What cell ``index`` says under its image: time and estimated cost, or "cached"."""
        cell = self.cells[index]
        return cell_caption(cell.image if cell.image is not None else cell.error)

    def summary(self) -> str:
        return footer_text(self.outcomes)

    def __repr__(self) -> str:
        return f"<Comparison {self.dimensions()}: {self.summary()}>"


def _same(value: Any, wanted: Any) -> bool:
    return bool(value == wanted or str(value) == str(wanted))
