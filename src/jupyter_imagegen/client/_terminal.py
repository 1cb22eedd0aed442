"""Text from a server or a file, made safe to print to a terminal."""

from __future__ import annotations

__all__ = ["printable"]


def printable(text: str) -> str:
    """``text`` with every control character escaped: a name from a server never moves the
    cursor, clears the screen or writes the clipboard (OSC 52) of the terminal it is printed to."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
