"""How a comparison is laid out and labelled, the same in the notebook, the contact sheet and the
terminal: two varying things are rows x columns, one is a single row, more are labelled groups
of rows x columns (one group per combination of the leading axes). Each cell says its time and
estimated cost, or "cached"; the footer gives the totals.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..client import GeneratedImage
from ._live_grid import more_images

if TYPE_CHECKING:
    from ..runtime import Axis

__all__ = ["ComparisonCell", "Group", "Labelled", "cell_caption", "footer_text", "groups_of", "money"]

Outcome = GeneratedImage | BaseException | None


@dataclass(frozen=True)
class ComparisonCell:
    """One combination: its value on each varying axis, and its image or why there is none."""

    values: dict[str, Any]
    labels: tuple[str, ...]
    image: GeneratedImage | None
    error: BaseException | None = None


class Labelled(Protocol):
    """What a matrix shows about its cells: a planned Matrix, or a Comparison it made."""

    axes: list[Axis]
    labels: list[tuple[str, ...]]

    def cell_labels(self, index: int) -> tuple[str, ...]: ...

    def dimensions(self) -> str: ...


@dataclass(frozen=True)
class Group:
    """One block of the matrix: a title (empty for a lone block), which requests it shows in
    row-major order, its row and column labels and how many images go across."""

    title: str
    indices: tuple[int, ...]
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    across: int


def money(usd: float | None) -> str:
    return "cost unknown" if usd is None else f"~${usd:.4f}"


def cell_caption(result: Outcome, *, running: bool = False) -> str:
    """A cell's time and estimated cost, "cached" when it was free; its state otherwise."""
    if isinstance(result, GeneratedImage):
        shown = "cached" if result.cached else f"{result.elapsed:.1f} s · {money(result.estimated_cost_usd)}"
        return shown + more_images(result)
    if isinstance(result, BaseException):
        return "failed"
    return "…" if running else "cancelled"


def groups_of(labels: Sequence[Sequence[str]], count: int) -> list[Group]:
    """The blocks of a matrix whose axes have ``labels`` (first axis varies slowest)."""
    if len(labels) <= 1:
        columns = tuple(labels[0]) if labels else tuple(f"#{i + 1}" for i in range(count))
        across = len(columns) if len(columns) <= 6 else 4
        shown = columns if across == len(columns) else ()
        return [Group("", tuple(range(count)), (), shown, across)]
    rows, columns = tuple(labels[-2]), tuple(labels[-1])
    block = len(rows) * len(columns)
    titles = [" · ".join(combo) for combo in itertools.product(*labels[:-2])] or [""]
    return [
        Group(title, tuple(range(g * block, (g + 1) * block)), rows, columns, len(columns))
        for g, title in enumerate(titles)
    ]


def footer_text(outcomes: Sequence[Outcome]) -> str:
    """The totals: images, how many were cached, the longest generation time, estimated cost."""
    images = [r for r in outcomes if isinstance(r, GeneratedImage)]
    made = [image for image in images if not image.cached]
    parts = [
        f"{len(images)} of {len(outcomes)} images" if len(images) < len(outcomes) else f"{len(images)} images"
    ]
    cached = len(images) - len(made)
    if cached:
        parts.append(f"{cached} cached (free)")
    if made:
        parts.append(f"{len(made)} generated, longest {max(i.elapsed for i in made):.1f} s")
        known = [i.estimated_cost_usd for i in made if i.estimated_cost_usd is not None]
        unknown = len(made) - len(known)
        cost = f"~${math.fsum(known):.4f} estimated" if known else "cost unknown"
        parts.append(cost + (f" + {unknown} of unknown cost" if known and unknown else ""))
    else:
        parts.append("$0 (all from the cache)" if images else "nothing made")
    failed = sum(isinstance(r, BaseException) for r in outcomes)
    if failed:
        parts.append(f"{failed} failed")
    return " · ".join(parts)
