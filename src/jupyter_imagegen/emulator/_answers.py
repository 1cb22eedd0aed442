"""The emulator's answers that need no stored file: base64 JSON, binary bodies, and what an answer
carries besides its image (the seed, for the models whose answer reports it)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Iterator
from typing import Any

from ..client import ModelSpec
from ._faults import BAD_IMAGE_STRING, Fault, FaultSpec, oversize_chunks, spoiled_image
from ._inputs import Job
from ._reply import Reply, v4

__all__ = ["answer_seed", "base64_answer", "binary_answer", "wants_data_uri"]


def _base64_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        whole = len(pending) - len(pending) % 3  # only whole 3-byte groups concatenate cleanly
        yield base64.b64encode(pending[:whole])
        pending = pending[whole:]
    yield base64.b64encode(pending)


def answer_seed(spec: ModelSpec, inputs: dict[str, Any]) -> int | None:
    """The seed an answer reports (Bria's models): the one sent, else one the service chose."""
    if not spec.answers_seed:
        return None
    sent = inputs.get("seed")
    return (
        int(sent)
        if isinstance(sent, (int, float)) and not isinstance(sent, bool)
        else secrets.randbelow(2**31)
    )


def wants_data_uri(job: Job) -> bool:
    """Whether the request asked for base64 (xAI's ``response_format: b64_json``, its default on
    some models): the answer's image is then a ``data:`` URI instead of a URL."""
    rule = job.spec.properties.get("response_format", {})
    return job.inputs.get("response_format", rule.get("default")) == "b64_json"


def base64_answer(data: bytes, fault: FaultSpec | None, seed: int | None = None) -> Reply:
    if fault is not None and fault.kind is Fault.OVERSIZE:
        total = fault["bytes"]
        head = b'{"success": true, "errors": [], "messages": [], "result": {"image": "'
        tail = b'"}}'
        chunks = [[head], _base64_stream(oversize_chunks(total)), [tail]]
        length = len(head) + 4 * ((total + 2) // 3) + len(tail)
        body = (piece for part in chunks for piece in part)
        return Reply(200, {"content-type": "application/json"}, body, length=length)
    if fault is not None and fault.kind is Fault.BAD_IMAGE_STRING:
        image = BAD_IMAGE_STRING
    else:
        image = base64.b64encode(spoiled_image(fault, data)).decode()
    return Reply.json(200, v4({"image": image, **({"seed": seed} if seed is not None else {})}))


def binary_answer(job: Job, data: bytes, fault: FaultSpec | None) -> Reply:
    headers = {"content-type": job.fmt.mime}
    if fault is not None and fault.kind is Fault.OVERSIZE:
        return Reply(200, headers, oversize_chunks(fault["bytes"]), length=fault["bytes"])
    return Reply(200, headers, spoiled_image(fault, data))
