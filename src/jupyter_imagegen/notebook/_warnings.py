"""The package's warnings in a notebook: one line, as every message here is.

Python shows a warning as ``path/to/module.py:123: ImageGenWarning: message`` followed by the
source line that raised it, which in a notebook cell is the package's own code, not the user's.
The magic and the panel (in Jupyter and marimo alike) replace ``warnings.showwarning`` with one
that writes an :class:`ImageGenWarning` as ``ImageGenWarning: message`` and hands every other
warning to the function it replaced, so other libraries' warnings look as they always did.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from typing import TextIO

from .._exceptions import ImageGenWarning

__all__ = ["show_warnings_on_one_line"]


class _OneLine:
    """``warnings.showwarning`` for ImageGenWarning; the previous one for the rest."""

    def __init__(self, previous: object) -> None:
        self.previous = previous

    def __call__(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if not issubclass(category, ImageGenWarning):
            if callable(self.previous):
                self.previous(message, category, filename, lineno, file, line)
            return
        stream = sys.stderr if file is None else file
        # No stderr, or a closed one: the warning is lost, as Python's own showwarning does.
        with contextlib.suppress(OSError, AttributeError, ValueError):
            stream.write(f"{category.__name__}: {message}\n")


def show_warnings_on_one_line() -> None:
    """Show this package's warnings on one line from now on (once; idempotent)."""
    if not isinstance(warnings.showwarning, _OneLine):
        warnings.showwarning = _OneLine(warnings.showwarning)
