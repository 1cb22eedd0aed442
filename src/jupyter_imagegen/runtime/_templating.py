"""Prompt templates: ``{name}`` filled from a namespace, and grids over list-valued names.

``fill("a {animal} in {style}", ns)`` substitutes every ``{name}`` (optionally ``{name:spec}`` or
``{name!r}``) from ``ns``; a name that is not there is an error with "did you mean" (a typo would
otherwise be paid for as written), and ``{{`` / ``}}`` write single braces. Only ``{identifier}``
is a placeholder: other braces (JSON, ``{ }``) stay as written. No expression is evaluated.

``expand_grid`` turns every ``{name}`` bound to a list or tuple into an axis and returns one
prompt per combination, in row-major order (the first axis varies slowest).
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import ValidationError

__all__ = [
    "Axis",
    "GridCell",
    "expand_grid",
    "fill",
    "grid_axes",
    "label",
    "rows_and_columns",
    "template_names",
]

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(![rsa])?(?::([^{}]*))?\}")
_CONVERSIONS: dict[str, Callable[[Any], str]] = {"r": repr, "s": str, "a": ascii}
# Width and precision in the standard format mini-language. Beyond the limit a spec is a typo
# that would build a string of gigabytes before the prompt's length is ever checked.
_SPEC_NUMBERS = re.compile(r"^(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[a-zA-Z%]?$", re.S)
MAX_FORMAT_WIDTH = 10_000
# A grid is expanded in memory before anything else looks at its size.
MAX_GRID_CELLS = 10_000


@dataclass(frozen=True)
class Axis:
    """One dimension of a grid: a name from the template and the values it takes."""

    name: str
    values: tuple[Any, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label(v) for v in self.values)


@dataclass(frozen=True)
class GridCell:
    """One combination: the filled prompt and, per axis, the value used."""

    prompt: str
    values: tuple[Any, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label(v) for v in self.values)


def label(value: Any, limit: int = 40) -> str:
    """A short, single-line text for a value, for grid labels and captions."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def template_names(template: str) -> list[str]:
    """The ``{name}`` placeholders in ``template``, each once, in order of first appearance."""
    names: list[str] = []
    for match in _TOKEN.finditer(template):
        name = match.group(1)
        if name and name not in names:
            names.append(name)
    return names


def _too_wide(spec: str) -> bool:
    found = _SPEC_NUMBERS.match(spec)
    numbers = [n.lstrip("0") or "0" for n in (found.groups() if found else ()) if n]
    return any(len(n) > 5 or int(n) > MAX_FORMAT_WIDTH for n in numbers)


def _format(match: re.Match[str], value: Any) -> str:
    conversion, spec = match.group(2), match.group(3) or ""
    if _too_wide(spec):
        raise ValidationError(
            f"{match.group(0)} in the prompt: a width or precision over {MAX_FORMAT_WIDTH:,} is not allowed."
        )
    if conversion:
        value = _CONVERSIONS[conversion[1]](value)
    try:
        return format(value, spec)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"{match.group(0)} in the prompt: cannot format a {type(value).__name__} with {spec!r} ({exc})."
        ) from None


def _unknown_name(token: str, name: str, namespace: Mapping[str, Any]) -> ValidationError:
    known = [key for key in namespace if isinstance(key, str) and not key.startswith("_")]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {{{close[0]}}}? " if close else ""
    return ValidationError(
        f"{token} in the prompt: there is no variable {name!r}; {hint}"
        f"Define it, or write {{{token}}} for literal braces."
    )


def fill(template: str, namespace: Mapping[str, Any]) -> str:
    """``template`` with every ``{name}`` replaced; a ValidationError for a name not in ``namespace``."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = match.group(1)
        if name not in namespace:
            raise _unknown_name(token, name, namespace)
        return _format(match, namespace[name])

    return _TOKEN.sub(replace, template)


def grid_axes(template: str, namespace: Mapping[str, Any]) -> list[Axis]:
    """An axis for each ``{name}`` in ``template`` bound to a list or tuple, in template order."""
    axes = []
    for name in template_names(template):
        value = namespace.get(name)
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValidationError(f"{{{name}}} is an empty {type(value).__name__}: give it some values.")
            axes.append(Axis(name, tuple(value)))
    return axes


def expand_grid(template: str, namespace: Mapping[str, Any]) -> tuple[list[Axis], list[GridCell]]:
    """The axes and one cell per combination of their values (first axis varies slowest).

    With no list-valued name there are no axes and one cell: the plain filled prompt.
    """
    axes = grid_axes(template, namespace)
    total = math.prod(len(axis.values) for axis in axes)
    if total > MAX_GRID_CELLS:
        sizes = " x ".join(f"{len(axis.values)} {axis.name}" for axis in axes)
        raise ValidationError(
            f"The grid has {total:,} combinations ({sizes}); at most {MAX_GRID_CELLS:,}: use fewer values."
        )
    cells = []
    for combo in itertools.product(*(axis.values for axis in axes)):
        scope = dict(namespace)
        scope.update((axis.name, value) for axis, value in zip(axes, combo, strict=True))
        cells.append(GridCell(fill(template, scope), tuple(combo)))
    return axes, cells


def rows_and_columns(axes: Sequence[Axis]) -> tuple[list[str], list[str]]:
    """Row and column labels for a grid: the last axis across, the others combined down."""
    if not axes:
        return [], []
    columns = list(axes[-1].labels)
    rows = [" · ".join(combo) for combo in itertools.product(*(axis.labels for axis in axes[:-1]))]
    return rows, columns
