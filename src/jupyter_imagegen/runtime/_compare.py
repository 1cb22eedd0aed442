"""The requests of one action, built in one place for ``%%imagegen`` and ``imagegen generate``:
every request option may take several values separated by commas, and the action is then the
matrix of every combination (a comparison).

``-m a,b -q low,high`` is two models by two qualities: four requests, each checked against its
own model's schema before anything is sent. A value that is a JSON array or object
(``--param controls=[1,2]``) is one value, never split, and a quoted value keeps its commas
(``--param tag="a,b"``). The prompt cells of ``--grid`` and the ``-n`` variations multiply in,
and the whole matrix is one action for the ``max_images`` limit and the daily budgets.
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._exceptions import BudgetExceededError, ValidationError
from ..client import estimate_total
from ._builder import build_requests, model_spec
from ._config import MODEL_DEFAULTS
from ._templating import MAX_GRID_CELLS, Axis, GridCell, label

if TYPE_CHECKING:
    from ..client import ImageRequest, ModelSpec
    from ._runtime import Runtime

__all__ = ["Matrix", "compares", "first_value", "plan_requests", "split_values"]

_FLAGS = {"model": "-m", "quality": "-q", "size": "-s", "style": "--style"}
_OPENERS, _CLOSERS = "[{", "]}"


def split_values(text: str, option: str = "a value") -> list[str]:
    """The comma-separated values of an option, in order, each once.

    A value starting with ``[`` or ``{`` runs to its matching bracket (JSON is one value), and a
    value in quotes keeps its commas; an empty value is an error naming ``option``."""
    if not text:
        return [text]
    values: list[str] = []
    index = 0
    while True:
        if text[index] in "\"'":
            end = text.find(text[index], index + 1)
            if end < 0:
                raise ValidationError(f"{option} {text}: a quote is not closed; close it or remove it.")
            value, index = text[index + 1 : end], end + 1
            if index < len(text) and text[index] != ",":
                raise ValidationError(f'{option} {text}: write a comma after a quoted value (e.g. "a,b",c).')
        else:
            end = _value_end(text, index)
            value, index = text[index:end].strip(), end
            if not value:
                raise ValidationError(
                    f"{option} {text}: an empty value; separate values with single commas (e.g. low,high)."
                )
        if value not in values:
            values.append(value)
        if index >= len(text):
            return values
        index += 1  # the comma
        if index >= len(text):
            raise ValidationError(f"{option} {text}: an empty value after the last comma; remove it.")


def _value_end(text: str, start: int) -> int:
    """Where an unquoted value ends: the first comma outside brackets and JSON strings."""
    depth, in_string, index = 0, False, start
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"' and depth > 0:
            in_string = True
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth -= 1
        elif char == "," and depth <= 0:
            return index
        index += 1
    return index


def first_value(text: str) -> str:
    """The first of an option's values (the model whose help to show), never raising."""
    try:
        return split_values(text)[0]
    except ValidationError:
        return text


@dataclass
class Matrix:
    """The requests of one action in row-major order, and per request its value on each axis
    that varies (the options with several values, then ``--grid``'s prompt axes, then ``-n``)."""

    requests: list[ImageRequest]
    axes: list[Axis]
    keys: list[tuple[Any, ...]]
    options: int = 0  # how many leading axes are request options (a comparison when > 0)
    command: str = ""
    labels: list[tuple[str, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.labels = [_axis_labels(axis, index < self.options) for index, axis in enumerate(self.axes)]

    @property
    def varying(self) -> bool:
        """True when a request option takes several values: the action is a comparison."""
        return self.options > 0

    def cell_labels(self, index: int) -> tuple[str, ...]:
        """The labels of request ``index`` on each axis."""
        key = self.keys[index]
        return tuple(self.labels[a][self.axes[a].values.index(v)] for a, v in enumerate(key))

    def dimensions(self) -> str:
        """``2 model x 2 quality``: what the matrix varies."""
        return " x ".join(f"{len(a.values)} {a.name}" for a in self.axes) or "one combination"

    def cost_text(self, requests: Sequence[ImageRequest] | None = None) -> str:
        """The estimated cost of ``requests`` (default: all) as shown to the user."""
        chosen = self.requests if requests is None else requests
        usd, unknown, _ = estimate_total(chosen)
        if chosen and unknown == len(chosen):
            return "cost unknown"
        more = f" + {unknown} of unknown cost" if unknown else ""
        return f"~${usd:.4f} estimated{more}"

    def refused(self, exc: BudgetExceededError) -> BudgetExceededError:
        """The budget's refusal of the whole matrix, saying what the matrix would have been."""
        return BudgetExceededError(
            f"{exc} The comparison: {len(self.requests)} images ({self.dimensions()}), {self.cost_text()}."
        )

    def dry_run(self, runtime: Runtime, *, refresh: bool = False) -> str:
        """What the action would send and cost, one line per request; nothing is sent."""
        from ..client import estimate_cost
        from ._fetch import expected_misses

        cache = runtime.cache()
        sent = expected_misses(runtime.client(), self.requests, cache, refresh=refresh)
        sent_keys = {id(r) for r in sent}
        lines = [
            f"dry run: {_count(len(self.requests), 'request')} ({self.dimensions()}), {len(sent)} to send, "
            f"{len(self.requests) - len(sent)} expected cache hits; "
            f"{self.cost_text(sent) if sent else 'estimated cost $0.00 (nothing to send)'}; nothing was sent"
        ]
        for request in self.requests:
            usd = estimate_cost(request).usd
            cost = (
                "cached"
                if id(request) not in sent_keys
                else ("cost unknown" if usd is None else f"~${usd:.4f}")
            )
            params = ", ".join(f"{k}={v}" for k, v in sorted(request.params.items()))
            prompt = label(request.prompt, 60)
            lines.append(f"  {request.model} {params or '(defaults)'} {prompt!r} · {cost}")
        meter = runtime.meter()
        if meter.budget.max_images is not None:
            left = max(0, meter.budget.max_images - meter.usage().images_today)
            verdict = "it fits" if len(sent) <= left else "it would be refused whole"
            lines.append(f"daily image budget: {left} images left today (UTC); {verdict}")
        return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _axis_labels(axis: Axis, option: bool) -> tuple[str, ...]:
    if option and axis.name == "model":
        return tuple(axis.values)  # whole: ids share long prefixes (the picture shortens them)
    if option:
        return tuple(f"{axis.name}={label(v)}" for v in axis.values)
    return axis.labels


def _option_values(args: argparse.Namespace, default_model: str) -> list[tuple[str, list[str]]]:
    """Each request option's values as text: the model first, then the named parameters, then
    each ``--param`` (the last of a repeated name wins, as for one value)."""
    given: list[tuple[str, list[str]]] = [
        ("model", split_values(args.model, "-m") if args.model else [default_model])
    ]
    for name in MODEL_DEFAULTS:
        text = getattr(args, name, None)
        if text:
            given.append((name, split_values(text, _FLAGS[name])))
    params: dict[str, list[str]] = {}
    for item in args.param:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"--param takes NAME=VALUE (e.g. --param steps=4), got {item!r}.")
        params[name.strip()] = split_values(text.strip(), f"--param {name.strip()}=")
    return given + list(params.items())


def compares(args: argparse.Namespace) -> bool:
    """True when a request option in ``args`` has several values."""
    return any(len(values) > 1 for _, values in _option_values(args, ""))


def plan_requests(
    runtime: Runtime,
    args: argparse.Namespace,
    cells: Sequence[GridCell],
    prompt_axes: Sequence[Axis] = (),
    *,
    images: list[Any] | None = None,
    mask: Any = None,
    gateway_id: str | None = None,
    skip_cache: bool = False,
    gateway: Mapping[str, Any] | None = None,
    form_params: Mapping[str, Mapping[str, Any]] | None = None,
    command: str = "",
) -> Matrix:
    """Every request ``args`` ask for, validated, with no network call but a new model's schema.

    ``gateway``: all the gateway options (else ``gateway_id`` and ``skip_cache``). ``form_params``:
    per model, typed values a form set (the panel's), under the values ``args`` give.

    Raises ValidationError, naming the model and the parameter, for a value a model does not
    take, and for more images than the ``max_images`` limit (with their estimated cost)."""
    client = runtime.client()
    options = _option_values(args, client.model)
    n = int(getattr(args, "n", 1))
    total = math.prod(len(values) for _, values in options) * max(1, len(cells)) * n
    if total > MAX_GRID_CELLS:
        raise ValidationError(
            f"This asks for {total:,} images; the limit is {runtime.max_images}: use fewer values."
        )
    varying = [(name, values) for name, values in options if len(values) > 1]
    requests: list[ImageRequest] = []
    keys: list[tuple[Any, ...]] = []
    if gateway is None:
        gateway = {"gateway_id": gateway_id, "skip_cache": skip_cache}
    form = form_params or {}
    for combo in itertools.product(*(values for _, values in options)):
        chosen = dict(zip((name for name, _ in options), combo, strict=True))
        model = chosen.pop("model")
        if varying:
            _check_takes(model_spec(runtime, model), chosen)
        requests += build_requests(  # the one request builder, once per combination
            runtime,
            [cell.prompt for cell in cells],
            model=model,
            params={**form.get(model, {}), **{n: text for n, text in chosen.items() if n in MODEL_DEFAULTS}},
            param_texts=[f"{name}={text}" for name, text in chosen.items() if name not in MODEL_DEFAULTS],
            images=images or None,
            mask=mask,
            variations=n,
            gateway=gateway,
        )
        option_key = tuple(chosen.get(name, model) for name, _ in varying)
        keys += [
            (*option_key, *cell.values, *((f"#{variation + 1}",) if n > 1 else ()))
            for cell in cells
            for variation in range(n)
        ]
    axes = [Axis(name, tuple(values)) for name, values in varying] + list(prompt_axes)
    if n > 1:
        axes.append(Axis("variation", tuple(f"#{i + 1}" for i in range(n))))
    matrix = Matrix(requests, axes, keys, len(varying), command)
    if len(requests) > runtime.max_images:
        raise ValidationError(
            f"This asks for {len(requests)} images; the limit is {runtime.max_images} (they "
            f"would cost {matrix.cost_text()}); nothing was sent. Use fewer values or a smaller -n, "
            "or raise %config ImageGenMagics.max_images."
        )
    return matrix


def _check_takes(spec: ModelSpec, chosen: dict[str, str]) -> None:
    """In a comparison, a parameter the model's schema does not list is refused here, where the
    model and the parameter can both be named (an open schema would otherwise take it unseen)."""
    for name in chosen:
        if spec.known and name not in spec.properties:
            takes = ", ".join(spec.parameters) or "no parameters but the prompt"
            flag = _FLAGS.get(name, f"--param {name}")
            raise ValidationError(
                f"{spec.id} does not take {name} (it takes {takes}); nothing was sent. Compare it "
                f"without {flag}, or compare models that take {name}."
            )
