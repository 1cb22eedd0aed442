"""The control endpoints under ``/__emulator__/``, for tests that run the emulator in another process:
``POST faults`` (``{"kind": ..., "times": n, ...options}``), ``POST latency`` (``{"seconds": s}``),
``POST reset``, ``GET stats`` and ``GET requests`` (each API request's path, status and the names of
the model inputs it carried, for a test in another process to check what went on the wire).

They take the emulator's token (``Authorization: Bearer <token>``) and send no CORS header, so a web
page cannot drive them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._reply import Reply

if TYPE_CHECKING:
    from ._parts import EmulatorParts
    from ._state import RecordedRequest

__all__ = ["control_reply", "request_summary"]


def request_summary(request: RecordedRequest) -> dict[str, Any]:
    """An API request without its values: a JSON body's inputs (top level for ``@cf`` models,
    under ``input`` for the others) or a multipart body's part names."""
    body: dict[str, Any] = request.json if isinstance(request.json, dict) else {}
    nested = body.get("input")
    inputs = nested if isinstance(nested, dict) else body
    names = sorted(request.form if request.form is not None else inputs)
    return {"path": request.path, "status": request.status, "inputs": names}


def control_reply(
    emulator: EmulatorParts, method: str, path: str, headers: dict[str, str], payload: Any
) -> Reply:
    """The answer to one control request (``payload`` is its JSON body, or None)."""
    if headers.get("authorization") != f"Bearer {emulator.token}":
        # No CORS header either: a web page must not be able to drive the emulator.
        message = "control endpoints need the emulator's token: Authorization: Bearer <token>"
        return Reply.json(401, {"ok": False, "error": message})
    action = (method, path.removeprefix("/__emulator__/").rstrip("/"))
    options = dict(payload) if isinstance(payload, dict) else {}
    try:
        if action == ("GET", "stats"):
            return Reply.json(200, emulator.stats())
        if action == ("GET", "requests"):
            return Reply.json(200, {"requests": [request_summary(r) for r in emulator._requests.snapshot()]})
        if action == ("POST", "faults"):
            kind, times = options.pop("kind", None), options.pop("times", 1)
            emulator.inject(str(kind), times=times, **options)
            return Reply.json(200, {"ok": True, "faults_pending": emulator.stats()["faults_pending"]})
        if action == ("POST", "latency"):
            emulator.latency = options.get("seconds")  # type: ignore[assignment]  # checked by the setter
            return Reply.json(200, {"ok": True, "latency": emulator.latency})
        if action == ("POST", "reset"):
            emulator.reset()
            return Reply.json(200, {"ok": True})
        return Reply.json(404, {"ok": False, "error": f"no control endpoint {method} {path}"})
    except (TypeError, ValueError) as exc:
        return Reply.json(400, {"ok": False, "error": str(exc)})
