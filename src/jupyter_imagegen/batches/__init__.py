"""Many images at an account's rate limit: inputs, plan, job, manifest, progress and results.

Names load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._batch import abatch, batch
    from ._cli import add_parser, run
    from ._result import BatchResult

_LAZY = {
    "BatchResult": "._result",
    "abatch": "._batch",
    "batch": "._batch",
    "add_parser": "._cli",
    "run": "._cli",
}

__all__ = [
    "BatchResult",
    "abatch",
    "add_parser",
    "batch",
    "run",
]


def __getattr__(name: str) -> Any:  # each name's module is imported on first use
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name], __name__), name)
