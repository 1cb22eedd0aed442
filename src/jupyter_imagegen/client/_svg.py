"""SVG answers (the Recraft vector models): recognised, checked and measured without parsing.

An SVG is text, not pixels: it is kept as the service sent it (displayed, saved as ``.svg``), never
rasterised. Nothing here parses XML; an SVG declaring entities or a DTD is refused, since such
declarations serve no drawing and are how XML bombs are made.
"""

from __future__ import annotations

import re

__all__ = ["SVG_MIME", "is_svg", "svg_size", "with_comment"]

SVG_MIME = "image/svg+xml"
# A DTD is recognised here only so that it can be refused by name (see svg_size).
_START = re.compile(
    rb"^\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*(<!DOCTYPE[^\[>]*(\[.*?\])?\s*>\s*)?<svg[\s>]", re.DOTALL
)
_ROOT = re.compile(rb"<svg\b([^>]*)>", re.DOTALL)
_NUMBER = rb"\s*=\s*[\"']\s*([0-9]+(?:\.[0-9]+)?)\s*(?:px)?\s*[\"']"
_VIEWBOX = re.compile(rb"viewBox\s*=\s*[\"']\s*[-0-9.]+[\s,]+[-0-9.]+[\s,]+([0-9.]+)[\s,]+([0-9.]+)\s*[\"']")


def is_svg(data: bytes) -> bool:
    return bool(_START.match(data[:4096].removeprefix(b"\xef\xbb\xbf")))


def svg_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` from the root element's attributes, else its viewBox, else (0, 0);
    ValueError for an SVG that is not whole or declares a DTD."""
    head = data[:4096]
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in data.upper():
        raise ValueError("the SVG declares a DTD or entities")
    if not data.rstrip().endswith(b"</svg>") and not data.rstrip().endswith(b"/>"):
        raise ValueError("the SVG is cut short (no closing </svg>)")
    root = _ROOT.search(head)
    attributes = root.group(1) if root else b""
    width = re.search(rb"\bwidth" + _NUMBER, attributes)
    height = re.search(rb"\bheight" + _NUMBER, attributes)
    if width and height:
        return round(float(width.group(1))), round(float(height.group(1)))
    box = _VIEWBOX.search(attributes)
    if box:
        return round(float(box.group(1))), round(float(box.group(2)))
    return 0, 0


def with_comment(data: bytes, text: str) -> bytes:
    """``data`` with an XML comment holding ``text`` before the root element (the provenance of
    a saved SVG). ``--`` cannot appear inside a comment, so ``-`` is written as its JSON escape."""
    comment = b"<!-- " + text.replace("-", "\\u002d").encode("utf-8") + b" -->\n"
    root = re.search(rb"<svg[\s>]", data)
    at = root.start() if root else 0
    return data[:at] + comment + data[at:]
