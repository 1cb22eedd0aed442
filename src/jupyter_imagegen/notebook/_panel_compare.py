"""The panel's comparisons: the "compare" choice of the model and of each parameter with an enum.

The ``compare`` trait says which options are compared and with which values
(``{"model": [...], "quality": [...]}``). Generate turns the form and those values into the
matrix the magic plans (:func:`~jupyter_imagegen.runtime.plan_requests`, the one expansion): each
compared model gets the form's values that fit it (as when the form switches to it), the matrix
is one action for ``max_images`` and the daily budget, and it is refused whole. Its images go to
the gallery like any other; the front end shows them as one labelled matrix from a
``{"type": "comparison"}`` message that carries the labels, each cell's time and cost (or
"cached"), the totals and what "copy as code" writes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import traitlets

from .._exceptions import ValidationError
from ..client import GeneratedImage, get_model
from ..runtime import GridCell, get_runtime, plan_requests
from ._matrix_layout import cell_caption, footer_text, groups_of
from ._panel_state import keep_params

if TYPE_CHECKING:
    from ..runtime import Matrix

__all__ = [
    "MAX_COMPARED",
    "PanelComparison",
    "checked_compare",
    "code_settings",
    "compare_problem",
    "plan_comparison",
]

MAX_COMPARED = 4  # values of one option: a matrix a panel shows side by side
_FLAGS = ("quality", "size", "style")  # the options the magic has flags for (-q, -s, --style)
_SHOWN = {"done": "done", "failed": "failed", "cancelled": "cancelled"}  # a cell's state, else pending


def checked_compare(value: Any) -> dict[str, list[Any]]:
    """The ``compare`` trait's shape: option name -> distinct values, at most MAX_COMPARED each;
    options with no value are dropped. Raises TraitError with one line saying what is wrong."""
    if not isinstance(value, Mapping):
        raise traitlets.TraitError("compare takes {option: [values]}, e.g. {'quality': ['low', 'high']}.")
    kept: dict[str, list[Any]] = {}
    for name, values in value.items():
        if not isinstance(name, str) or not isinstance(values, (list, tuple)):
            raise traitlets.TraitError(f"compare[{name!r}] must be a list of values, e.g. ['low', 'high'].")
        distinct: list[Any] = []
        for item in values:
            if isinstance(item, (dict, list)) or item is None:
                raise traitlets.TraitError(f"compare[{name!r}]: {item!r} is not one of the option's values.")
            if item not in distinct:
                distinct.append(item)
        if len(distinct) > MAX_COMPARED:
            raise traitlets.TraitError(
                f"Compare at most {MAX_COMPARED} values of {name} at once (got {len(distinct)})."
            )
        if distinct:
            kept[name] = distinct
    return kept


def compare_problem(compare: Mapping[str, Sequence[Any]], model: str, offered: Sequence[str]) -> str | None:
    """What is wrong with comparing ``compare`` on the form of ``model``, in one line, or None.
    Only the model and the form's enum parameters compare, with values the list or enum offers."""
    rules = get_model(model).parameters
    for name, values in compare.items():
        if len(values) < 2:  # one ticked value would hide the form's own: say so instead
            return f"Tick two or more values of {name} to compare (or untick its compare)."
        if name == "model":
            allowed: Sequence[Any] = offered
        else:
            enum = rules.get(name, {}).get("enum")
            if not isinstance(enum, list):
                return f"{model} has no {name} with a list of values to compare; untick its compare."
            allowed = enum
        for item in values:
            if item not in allowed:
                return (
                    f"{name} {item!r} is not one of the values to compare ({', '.join(map(str, allowed))})."
                )
    return None


def _values_text(name: str, values: Sequence[Any]) -> str:
    """The values as one option's comma-separated text, each read back whole by split_values."""
    texts = []
    for item in values:
        text = item if isinstance(item, str) else json.dumps(item)
        if text and not any(c in text for c in ",'\"") and text[0] not in "[{":
            texts.append(text)
        elif '"' not in text:
            texts.append(f'"{text}"')
        elif "'" not in text:
            texts.append(f"'{text}'")
        else:
            raise ValidationError(f"{name} {text!r} holds both kinds of quote; it cannot be compared.")
    return ",".join(texts)


def plan_comparison(
    compare: Mapping[str, Sequence[Any]],
    *,
    model: str,
    params: Mapping[str, Any],
    prompt: str,
    variations: int,
    images: list[bytes] | None,
    mask: bytes | None = None,
    gateway: Mapping[str, Any],
) -> Matrix:
    """The form with its compared values as the magic's matrix (ValidationError when it is not)."""
    models = [str(m) for m in compare.get("model", [model])]
    args = argparse.Namespace(model=_values_text("model", models), param=[], n=variations)
    for name in _FLAGS:
        setattr(args, name, _values_text(name, compare[name]) if name in compare else None)
    args.param = [f"{n}={_values_text(n, v)}" for n, v in compare.items() if n not in ("model", *_FLAGS)]
    form = {m: keep_params(m, params) for m in models}
    return plan_requests(
        get_runtime(),
        args,
        [GridCell(prompt, ())],
        images=images,
        mask=mask,
        gateway=gateway,
        form_params=form,
    )


def code_settings(
    matrix: Matrix,
    compare: Mapping[str, Sequence[Any]],
    params: Mapping[str, Any],
    prompt: str,
    variations: int,
) -> dict[str, Any]:
    """What "copy as code" writes: the compared values, the form's values every compared model
    takes (the others are named in ``left_out``: one cell gives every model the same)."""
    models = list(dict.fromkeys(r.model for r in matrix.requests))
    common = {
        n: v
        for n, v in params.items()
        if n not in compare and all(n in keep_params(m, {n: v}) for m in models)
    }
    left_out = sorted(n for n in params if n not in compare and n not in common)
    first = matrix.requests[0] if matrix.requests else None
    return {
        "models": models,
        "compare": {n: list(v) for n, v in compare.items() if n != "model"},
        "params": common,
        "left_out": left_out,
        "prompt": prompt,
        "variations": variations,
        # Files the cell cannot name: its notes say to add them, as a gallery image's code does.
        "inputs": len(first.images) if first else 0,
        "mask": first is not None and first.mask is not None,
    }


@dataclass
class PanelComparison:
    """One comparison the panel started: its matrix, a job per cell, each cell's state and image."""

    id: str
    matrix: Matrix
    jobs: list[str]
    code: dict[str, Any]
    entries: dict[int, tuple[str, GeneratedImage]] = field(default_factory=dict)
    states: dict[int, str] = field(default_factory=dict)
    sent: dict[str, Any] | None = None  # the last message sent, so only a change is sent again

    def add(self, job_id: str, entry_id: str, image: GeneratedImage) -> bool:
        """Record a cell's image; False when the job is not one of this comparison's."""
        if job_id not in self.jobs:
            return False
        self.entries[self.jobs.index(job_id)] = (entry_id, image)
        return True

    def update(self, states: Mapping[str, str]) -> None:
        """Take the jobs' states (a finished job may since have left the panel's job list)."""
        for index, job in enumerate(self.jobs):
            if job in states:
                self.states[index] = states[job]

    def message(self) -> dict[str, Any]:
        """The ``{"type": "comparison"}`` message: labels, groups, each cell's state and caption."""
        # Queued and running look alike in a cell ("…"): one state, so a start sends nothing.
        states = [_SHOWN.get(self.states.get(i, "queued"), "pending") for i in range(len(self.jobs))]
        outcomes: list[GeneratedImage | BaseException | None] = [
            self.entries[i][1] if i in self.entries else RuntimeError() if state == "failed" else None
            for i, state in enumerate(states)
        ]
        groups = groups_of(self.matrix.labels, len(self.jobs))
        return {
            "type": "comparison",
            "id": self.id,
            "title": self.matrix.dimensions(),
            "groups": [
                {
                    "title": g.title,
                    "rows": list(g.rows),
                    "columns": list(g.columns),
                    "indices": list(g.indices),
                }
                for g in groups
            ],
            "cells": [
                {
                    "labels": list(self.matrix.cell_labels(i)),
                    "entry": self.entries[i][0] if i in self.entries else None,
                    "state": state,
                    "caption": cell_caption(outcomes[i], running=state == "pending"),
                }
                for i, state in enumerate(states)
            ],
            "footer": footer_text(outcomes),
            "running": "pending" in states,
            "code": self.code,
        }
