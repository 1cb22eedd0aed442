"""What every front end shares: one runtime per process (settings, clients, cache, loop, limits,
budgets), the request options, the disk cache and the one fetch path through it.

The front ends import from here, never a private module; names load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._budget import Meter, spend_today
    from ._builder import CATALOG_WAIT, build_call, build_requests, learn_model_soon, model_spec
    from ._cache import ImageCache
    from ._cache_entry import service_of
    from ._compare import Matrix, compares, first_value, plan_requests, split_values
    from ._executor import Executor, RunOutcome
    from ._fetch import expected_misses, fetch_async, reserve_misses
    from ._options import add_request_options, chosen_model, named_params, request_params
    from ._reservation import Charge, Reservation
    from ._runtime import ImageGenConfig, Runtime, check_image_count, get_runtime
    from ._templating import Axis, GridCell, expand_grid, fill, rows_and_columns
    from ._usage import Usage

_LAZY = {
    "Matrix": "._compare",
    "compares": "._compare",
    "first_value": "._compare",
    "plan_requests": "._compare",
    "split_values": "._compare",
    "CATALOG_WAIT": "._builder",
    "build_call": "._builder",
    "build_requests": "._builder",
    "learn_model_soon": "._builder",
    "model_spec": "._builder",
    "Charge": "._reservation",
    "Meter": "._budget",
    "Reservation": "._reservation",
    "spend_today": "._budget",
    "ImageCache": "._cache",
    "service_of": "._cache_entry",
    "expected_misses": "._fetch",
    "fetch_async": "._fetch",
    "reserve_misses": "._fetch",
    "add_request_options": "._options",
    "chosen_model": "._options",
    "request_params": "._options",
    "named_params": "._options",
    "Executor": "._executor",
    "RunOutcome": "._executor",
    "ImageGenConfig": "._runtime",
    "Runtime": "._runtime",
    "check_image_count": "._runtime",
    "get_runtime": "._runtime",
    "Axis": "._templating",
    "GridCell": "._templating",
    "expand_grid": "._templating",
    "fill": "._templating",
    "rows_and_columns": "._templating",
    "Usage": "._usage",
}

__all__ = [
    "CATALOG_WAIT",
    "Axis",
    "Charge",
    "Executor",
    "GridCell",
    "ImageCache",
    "ImageGenConfig",
    "Matrix",
    "Meter",
    "Reservation",
    "RunOutcome",
    "Runtime",
    "Usage",
    "add_request_options",
    "build_call",
    "build_requests",
    "check_image_count",
    "chosen_model",
    "compares",
    "expand_grid",
    "expected_misses",
    "fetch_async",
    "fill",
    "first_value",
    "get_runtime",
    "learn_model_soon",
    "model_spec",
    "named_params",
    "plan_requests",
    "request_params",
    "reserve_misses",
    "rows_and_columns",
    "service_of",
    "spend_today",
    "split_values",
]


def __getattr__(name: str) -> Any:  # each name's module is imported on first use
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name], __name__), name)
