"""What the service answers: an HTTP :class:`Reply`, Cloudflare's v4 envelope, and the answers
Cloudflare gives when an injected fault stands for a failure of its own (docs/cloudflare.md §4)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._faults import Fault, FaultSpec

__all__ = ["Reply", "fault_reply", "log_id", "v4"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MODERATION_TEXT = (
    "Your request was rejected by the safety system. If you believe this is an error, contact us at "
    "help.openai.com and include the request ID {request_id}. code: moderation_blocked"
)
_DAILY_LIMIT_TEXT = (
    "Account limited: you have used up your daily free allocation of 10,000 neurons, please upgrade "
    "to Cloudflare's Workers Paid plan if you would like to continue usage."
)
_SERVER_ERROR_TEXT = {
    500: "Internal server error",
    502: "Bad gateway: InferenceUpstreamError: the model provider failed",
    503: "Service temporarily unavailable",
    504: "Gateway timeout: the model provider did not answer in time",
}


def log_id() -> str:
    """A ULID-shaped id, like AI Gateway's ``cf-aig-log-id``."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


@dataclass
class Reply:
    """An HTTP answer. ``body`` may be an iterable of chunks (then ``length`` must be given);
    ``cut_after`` sends only that many body bytes, then drops the connection; ``reset`` drops it
    without answering at all."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    length: int | None = None
    cut_after: int | None = None
    reset: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        body = json.dumps(payload).encode()
        return cls(status, {"content-type": "application/json", **(headers or {})}, body)

    @classmethod
    def error(
        cls,
        status: int,
        code: int,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        result: Any = None,
    ) -> Reply:
        errors = [{"code": code, "message": message}]
        payload = {"success": False, "errors": errors, "messages": [], "result": result}
        return cls.json(status, payload, headers)

    @property
    def size(self) -> int:
        if self.length is not None:
            return self.length
        assert isinstance(self.body, bytes), "a streamed body needs its length"
        return len(self.body)


def v4(result: Any) -> dict[str, Any]:
    """``result`` in the v4 envelope every API answer shares."""
    return {"success": True, "errors": [], "messages": [], "result": result}


def fault_reply(fault: FaultSpec | None, envelope: str) -> Reply | None:
    """The answer ``fault`` gives in place of the model's, or None when it gives none (no fault, or
    one that spoils the image or the connection later)."""
    if fault is None:
        return None
    if fault.kind is Fault.RATE_LIMIT:
        retry_after = fault.get("retry_after")
        extra = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        return Reply.error(429, 3040, "Capacity temporarily exceeded, please try again.", extra)
    if fault.kind is Fault.DAILY_LIMIT:
        return Reply.error(429, 3036, _DAILY_LIMIT_TEXT)
    if fault.kind is Fault.SERVER_ERROR:
        status = fault["status"]
        return Reply.error(status, 3000, _SERVER_ERROR_TEXT.get(status, "Upstream failure"))
    if fault.kind is Fault.MODERATION:
        message = _MODERATION_TEXT.format(request_id=f"req_{os.urandom(12).hex()}")
        return Reply.error(400, fault["code"], message)
    if fault.kind is Fault.FAILED_STATE:
        failed = {"state": "Failed", "error": {"code": fault["code"], "message": fault["message"]}}
        return Reply.json(200, failed if envelope == "run" else v4(failed))
    if fault.kind is Fault.RESET:
        return Reply(0, reset=True)
    return None
