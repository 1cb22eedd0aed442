"""IPython's ``display``, called through one typed name by every notebook output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["display"]


def display(*objs: Any, **kwargs: Any) -> Any:
    """IPython's ``display`` (imported on use; it carries no type annotations)."""
    from IPython.display import display as ipython_display

    # Called through a typed name, so the check holds whether or not an IPython release types it.
    show: Callable[..., Any] = ipython_display
    return show(*objs, **kwargs)
