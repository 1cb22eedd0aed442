"""What every front end shares: one runtime per process (settings, clients, cache, loop, limits,
budgets), the request options, the disk cache and the one fetch path through it.

The front ends import from here, never a private module; names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

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


# Type checkers read the imports above instead, so a name missing there is an error, not Any.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "._budget": ["Meter", "spend_today"],
            "._builder": ["CATALOG_WAIT", "build_call", "build_requests", "learn_model_soon", "model_spec"],
            "._cache": ["ImageCache"],
            "._cache_entry": ["service_of"],
            "._compare": ["Matrix", "compares", "first_value", "plan_requests", "split_values"],
            "._executor": ["Executor", "RunOutcome"],
            "._fetch": ["expected_misses", "fetch_async", "reserve_misses"],
            "._options": ["add_request_options", "chosen_model", "named_params", "request_params"],
            "._reservation": ["Charge", "Reservation"],
            "._runtime": ["ImageGenConfig", "Runtime", "check_image_count", "get_runtime"],
            "._templating": ["Axis", "GridCell", "expand_grid", "fill", "rows_and_columns"],
            "._usage": ["Usage"],
        },
        __all__,
    )
