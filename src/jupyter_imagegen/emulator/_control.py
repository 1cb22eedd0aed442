"""The control endpoints under ``/__emulator__/``, for tests that run the emulator in another process:
``POST faults`` (``{"kind": ..., "times": n, ...options}``), ``POST latency`` (``{"seconds": s}``),
``POST reset`` and ``GET stats``.

They take the emulator's token (``Authorization: Bearer <token>``) and send no CORS header, so a web
page cannot drive them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._reply import Reply

if TYPE_CHECKING:
    from ._parts import EmulatorParts

__all__ = ["control_reply"]


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
