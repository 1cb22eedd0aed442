"""The notebook front ends: the ``%%imagegen`` magic and the control panel widget.

Names load on first use: ``%load_ext`` imports the magic without the widget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._comparison import Comparison
    from ._magic import load_ipython_extension, unload_ipython_extension
    from ._panel import ImageGenPanel

__all__ = [
    "Comparison",
    "ImageGenPanel",
    "load_ipython_extension",
    "unload_ipython_extension",
]


# Type checkers read the imports above instead, so a name missing there is an error, not Any.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "._comparison": ["Comparison"],
            "._magic": ["load_ipython_extension", "unload_ipython_extension"],
            "._panel": ["ImageGenPanel"],
        },
        __all__,
    )
