"""What a package hands on, imported on first use (PEP 562), so importing the package stays cheap:
``%load_ext jupyter_imagegen`` loads the magic without the widget, ``imagegen --help`` without httpx.

Each ``__init__`` lists its names three ways, each for its own reader: ``if TYPE_CHECKING:``
imports for type checkers, a literal ``__all__`` for linters and ``import *``, and the table
given to :func:`lazy_exports`, which says where each name is imported from when first used.
The test suite checks that every name of every ``__all__`` loads.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, sources: Mapping[str, Sequence[str]], exported: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package``: a name listed under its module in
    ``sources`` (``{"._panel": ["ImageGenPanel"]}``) is imported from there on first use, then kept
    in the package like any other name."""
    where = {name: module for module, names in sources.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name], package), name)
        setattr(sys.modules[package], name, value)  # the next use is a plain attribute read
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exported))

    return __getattr__, __dir__
