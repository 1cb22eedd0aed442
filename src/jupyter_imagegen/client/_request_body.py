"""The body of an API call, in the request format of its model, and the seed the client picks.

JSON: the inputs at the top level for ``@cf`` models, ``{"model", "input"}`` for the others.
multipart/form-data (the hosted FLUX.2 models, even for a prompt alone): text fields and the
input images as file parts, encoded by httpx from ``data=``/``files=``.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from ._imagebytes import sniff_mime

if TYPE_CHECKING:
    from ._request import ImageRequest

__all__ = ["pick_seed", "request_body"]

_SEED_CEILING = 2**31 - 1  # every documented seed range reaches at least this far
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def pick_seed(request: ImageRequest) -> int | None:
    """A seed for a model that takes one when the user gave none, so the image can be made
    again with ``seed=``; None otherwise."""
    spec = request.spec
    if not spec.takes_seed or request.params.get("seed") is not None:
        return None
    rule = spec.properties["seed"]
    low = max(int(rule.get("minimum", 0)), 0)  # some ranges reach far below zero; seeds are counts
    high = int(min(rule.get("maximum", _SEED_CEILING), _SEED_CEILING))
    return low + secrets.randbelow(max(high - low, 0) + 1)


def _form_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def request_body(request: ImageRequest, seed: int | None) -> dict[str, Any]:
    """Keyword arguments for ``httpx`` that carry the body: ``json=``, or ``data=`` and ``files=``."""
    inputs = request.model_inputs(seed)
    spec = request.spec
    if spec.request_format == "multipart":
        files: list[tuple[str, tuple[str | None, bytes | str, str | None]]] = []
        data: dict[str, str] = {}
        for name, value in inputs.items():
            if isinstance(value, bytes):
                mime = sniff_mime(value) or "application/octet-stream"
                files.append((name, (f"{name}.{_EXTENSIONS.get(mime, 'bin')}", value, mime)))
            else:
                data[name] = _form_text(value)
        if not files:
            # httpx sends a form without files url-encoded; these models want multipart even
            # for a prompt alone, so the text fields go as parts without a file name.
            return {"files": [(name, (None, text, None)) for name, text in data.items()]}
        return {"data": data, "files": files}
    if spec.hosting == "hosted":
        return {"json": inputs}
    return {"json": {"model": request.model, "input": inputs}}
