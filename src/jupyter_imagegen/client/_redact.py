"""Keeping the API token out of every text a server sends that the package keeps or shows.

A service (or anything between) may echo the token anywhere: an error message, the AI Gateway's
log id header, a catalog schema's description or default. It may also echo it encoded, so each
text loses the token raw, as ``repr()`` and JSON escape it, URL-encoded, base64-encoded at each
of the three alignments it can take inside a longer string (both alphabets), and any run of 12 of
its characters (a token cut short).
"""

from __future__ import annotations

import base64
import functools
import json
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "redact"]

MASK = "***"
FRAGMENT = 12  # characters of the token that identify it on their own
_SHORTEST_WITH_FRAGMENTS = 16  # a shorter token's fragments would mask ordinary words


@functools.lru_cache(maxsize=8)
def _forms(token: str) -> tuple[str, ...]:
    found = {token, repr(token)[1:-1], json.dumps(token)[1:-1], quote(token, safe=""), quote_plus(token)}
    raw = token.encode("utf-8")
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + raw).decode("ascii")
            found.add(encoded[4:-4])  # the part that does not depend on the neighbouring bytes
    if len(token) >= _SHORTEST_WITH_FRAGMENTS:
        found.update(token[i : i + FRAGMENT] for i in range(len(token) - FRAGMENT + 1))
    # Longest first: a whole token is masked as one, not piece by piece.
    return tuple(sorted((form for form in found if len(form) >= 8), key=len, reverse=True))


def redact(text: str, token: str | None) -> str:
    """``text`` without ``token`` in any of the forms the module docstring names."""
    if not token or not text:
        return text
    for form in _forms(token):
        if form in text:
            text = text.replace(form, MASK)
    return text
