"""Many images at an account's rate limit: inputs, plan, job, manifest, progress and results.

Names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._batch import abatch, batch
    from ._cli import add_parser, run
    from ._result import BatchResult

__all__ = [
    "BatchResult",
    "abatch",
    "add_parser",
    "batch",
    "run",
]


# Type checkers read the imports above instead, so a name missing there is an error, not Any.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "._batch": ["abatch", "batch"],
            "._cli": ["add_parser", "run"],
            "._result": ["BatchResult"],
        },
        __all__,
    )
