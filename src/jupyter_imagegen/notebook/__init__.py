"""The notebook front ends: the ``%%imagegen`` magic and the control panel widget.

Names load on first use: ``%load_ext`` imports the magic without the widget.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._comparison import Comparison
    from ._magic import load_ipython_extension, unload_ipython_extension
    from ._panel import ImageGenPanel

_LAZY = {
    "Comparison": "._comparison",
    "ImageGenPanel": "._panel",
    "load_ipython_extension": "._magic",
    "unload_ipython_extension": "._magic",
}

__all__ = [
    "Comparison",
    "ImageGenPanel",
    "load_ipython_extension",
    "unload_ipython_extension",
]


def __getattr__(name: str) -> Any:  # each name's module is imported on first use
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name], __name__), name)
