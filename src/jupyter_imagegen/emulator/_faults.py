"""Fault injection: the ways a real service, gateway or network misbehaves, on demand.

A fault is a kind plus options. It is queued on the server (``Emulator.inject`` or
``POST /__emulator__/faults``) for the next N API requests, first in first out, or chosen for one
request with the header ``x-emulator-fault: kind;key=value;key=value`` (which leaves the queue
alone). Every API request takes its turn from the queue, whatever its outcome.
"""

from __future__ import annotations

import functools
import math
import struct
import threading
import zlib
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "FAULT_HEADER",
    "Fault",
    "FaultQueue",
    "FaultSpec",
    "bomb_png",
    "oversize_chunks",
    "parse_fault_header",
    "spoiled_image",
]

FAULT_HEADER = "x-emulator-fault"


class Fault(str, Enum):
    """Every fault the emulator can inject, with its options and their defaults.

    Answer faults replace the whole answer (after authentication, before input checks):

    - ``latency`` (``seconds=1.0``): wait, then answer normally.
    - ``hang`` (``seconds=30.0``): wait, then answer normally; for read-timeout tests. The wait
      ends at once when the server stops.
    - ``rate_limit`` (``retry_after``: seconds, optional): 429, code 3040, ``Retry-After`` header.
    - ``daily_limit``: 429, code 3036 (daily free allocation used up).
    - ``server_error`` (``status=500``, any 5xx): v4 error envelope with code 3000 (``ours``).
    - ``moderation`` (``code=5004``): 400 v4 envelope carrying OpenAI's ``moderation_blocked`` text.
    - ``failed_state`` (``code="provider_unavailable"``, ``message``): HTTP 200 with a run-style
      ``{"state": "Failed", ...}``, inside the v4 envelope unless the envelope is ``"run"``.
    - ``malformed_json``: HTTP 200, ``application/json``, a body that is not JSON.
    - ``truncated``: declares the real answer's length, sends half of it, closes the connection.
    - ``reset``: closes the connection (TCP reset) without any answer.

    Image faults spoil the image of an otherwise good answer: the file behind the URL (URL
    models), the base64 string (base64-json models) or the body (binary models):

    - ``bad_image_string``: ``image`` is neither a URL, a data URI nor base64 (JSON models; a
      binary model's body becomes text, as with ``not_an_image``).
    - ``truncated_base64``: the image bytes are cut short (for base64 the string is cut at a
      whole base64 quantum, so it decodes to an incomplete image).
    - ``not_an_image``: an HTML error page served with an image content type.
    - ``decompression_bomb`` (``width=30000``, ``height=30000``): a small, valid 1-bit PNG that
      declares that many pixels.
    - ``oversize`` (``bytes=62914560``, 60 MiB): a valid PNG header followed by junk, streamed.
    - ``expired_url`` (URL models): the URL answers 404 from the start.
    - ``redirect_insecure`` (URL models, ``location="http://example.invalid/x.png"``): the file
      route answers 302 to a plain-http URL on another host.
    - ``image_reset`` (URL models, ``fetches=1``): the file route closes the connection without
      an answer for the first ``fetches`` downloads of the URL, then serves the image.

    URL faults (``expired_url``, ``redirect_insecure``, ``oversize``) always answer with a URL,
    even when the emulator is set to answer with data URIs.
    """

    LATENCY = "latency"
    HANG = "hang"
    RATE_LIMIT = "rate_limit"
    DAILY_LIMIT = "daily_limit"
    SERVER_ERROR = "server_error"
    MODERATION = "moderation"
    FAILED_STATE = "failed_state"
    MALFORMED_JSON = "malformed_json"
    TRUNCATED = "truncated"
    RESET = "reset"
    BAD_IMAGE_STRING = "bad_image_string"
    TRUNCATED_BASE64 = "truncated_base64"
    NOT_AN_IMAGE = "not_an_image"
    DECOMPRESSION_BOMB = "decompression_bomb"
    OVERSIZE = "oversize"
    EXPIRED_URL = "expired_url"
    REDIRECT_INSECURE = "redirect_insecure"
    IMAGE_RESET = "image_reset"


# The options each kind takes and their defaults; None means "optional, no default".
_OPTIONS: dict[Fault, dict[str, Any]] = {
    Fault.LATENCY: {"seconds": 1.0},
    Fault.HANG: {"seconds": 30.0},
    Fault.RATE_LIMIT: {"retry_after": None},
    Fault.SERVER_ERROR: {"status": 500},
    Fault.MODERATION: {"code": 5004},
    Fault.FAILED_STATE: {
        "code": "provider_unavailable",
        "message": "The model provider is unavailable right now (emulated failure).",
    },
    Fault.DECOMPRESSION_BOMB: {"width": 30000, "height": 30000},
    Fault.OVERSIZE: {"bytes": 60 * 1024 * 1024},
    Fault.REDIRECT_INSECURE: {"location": "http://example.invalid/x.png"},
    Fault.IMAGE_RESET: {"fetches": 1},
}
_TEXT_OPTIONS = {"message", "location"}
MAX_SECONDS = 3600.0  # the longest wait a fault or the latency setting may ask for
_CEILINGS = {"seconds": MAX_SECONDS, "retry_after": 86400.0}
_CEILING = 2**31 - 1
_INTEGER_OPTIONS = {"status", "width", "height", "bytes", "fetches"}
# Faults that spoil the image rather than the answer.
IMAGE_FAULTS = frozenset(
    {
        Fault.BAD_IMAGE_STRING,
        Fault.TRUNCATED_BASE64,
        Fault.NOT_AN_IMAGE,
        Fault.DECOMPRESSION_BOMB,
        Fault.OVERSIZE,
        Fault.EXPIRED_URL,
        Fault.REDIRECT_INSECURE,
        Fault.IMAGE_RESET,
    }
)
URL_ONLY_FAULTS = frozenset({Fault.EXPIRED_URL, Fault.REDIRECT_INSECURE, Fault.OVERSIZE, Fault.IMAGE_RESET})


def _coerce(kind: Fault, name: str, value: Any) -> Any:
    if name in _TEXT_OPTIONS or (kind is Fault.FAILED_STATE and name == "code"):
        return str(value)
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise ValueError(f"fault {kind.value}: option {name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ValueError(f"fault {kind.value}: option {name} must be a non-negative number, got {value!r}")
    ceiling = _CEILINGS.get(name, _CEILING)
    if value > ceiling:  # 1e300 seconds would pin a server thread for good
        raise ValueError(f"fault {kind.value}: option {name} must be at most {ceiling:g}, got {value!r}")
    if name in _INTEGER_OPTIONS or name == "code":
        if value != int(value):
            raise ValueError(f"fault {kind.value}: option {name} must be a whole number, got {value!r}")
        return int(value)
    return float(value)


@dataclass(frozen=True)
class FaultSpec:
    """One fault: its kind and its options, defaults filled in and types checked."""

    kind: Fault
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, kind: Fault | str, options: Mapping[str, Any]) -> FaultSpec:
        try:
            fault = Fault(kind)
        except ValueError:
            known = ", ".join(f.value for f in Fault)
            raise ValueError(f"unknown fault kind {kind!r} (known: {known})") from None
        allowed = _OPTIONS.get(fault, {})
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            takes = ", ".join(allowed) or "no options"
            raise ValueError(f"fault {fault.value} does not take {', '.join(unknown)} (it takes {takes})")
        merged = {name: default for name, default in allowed.items() if default is not None}
        merged.update({name: _coerce(fault, name, value) for name, value in options.items()})
        status = merged.get("status")
        if fault is Fault.SERVER_ERROR and not (isinstance(status, int) and 500 <= status <= 599):
            raise ValueError(f"fault server_error: status must be 500-599, got {status!r}")
        return cls(fault, merged)

    def __getitem__(self, name: str) -> Any:
        return self.options[name]

    def get(self, name: str) -> Any:
        return self.options.get(name)

    def describe(self) -> str:
        """The fault as the header would spell it, e.g. ``latency;seconds=0.4``."""
        return ";".join([self.kind.value, *(f"{k}={v}" for k, v in self.options.items())])


def parse_fault_header(value: str) -> FaultSpec:
    """``kind;key=value;...`` from the ``x-emulator-fault`` header; ValueError when malformed."""
    kind, *pairs = (part.strip() for part in value.split(";"))
    options: dict[str, str] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{FAULT_HEADER}: expected key=value, got {pair!r}")
        options[name.strip()] = text.strip()
    return FaultSpec.create(kind, options)


class FaultQueue:
    """Queued faults, each for a number of API requests, handed out first in first out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[list[Any]] = deque()  # [FaultSpec, remaining requests]

    def push(self, spec: FaultSpec, times: int) -> None:
        if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= _CEILING:
            raise ValueError(f"times must be a whole number from 1 to {_CEILING}, got {times!r}")
        with self._lock:
            self._queue.append([spec, times])

    def take(self) -> FaultSpec | None:
        with self._lock:
            if not self._queue:
                return None
            entry = self._queue[0]
            entry[1] -= 1
            if entry[1] <= 0:
                self._queue.popleft()
            spec: FaultSpec = entry[0]
            return spec

    def pending(self) -> int:
        """How many requests the queued faults still cover."""
        with self._lock:
            return sum(int(entry[1]) for entry in self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG signature and IHDR chunk declaring ``width`` x ``height``."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)


@functools.lru_cache(maxsize=4)
def bomb_png(width: int, height: int) -> bytes:
    """A complete, valid 1-bit greyscale PNG of all-black pixels: about 1/1000 of its raw size."""
    packer = zlib.compressobj(9)
    rows_per_block = 64
    block = (b"\x00" * (1 + (width + 7) // 8)) * rows_per_block
    parts = [packer.compress(block) for _ in range(height // rows_per_block)]
    parts.append(packer.compress(block[: len(block) // rows_per_block * (height % rows_per_block)]))
    parts.append(packer.flush())
    return png_header(width, height, bit_depth=1, colour_type=0) + _png_chunk(b"IDAT", b"".join(parts))


def oversize_chunks(total: int, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """``total`` bytes: a PNG header declaring 4096x4096, then junk, produced a chunk at a time."""
    head = png_header(4096, 4096)[:total]
    yield head
    junk = (bytes(range(256)) * (chunk_size // 256 + 1))[:chunk_size]
    left = total - len(head)
    while left > 0:
        piece = junk[: min(left, chunk_size)]
        left -= len(piece)
        yield piece


NOT_AN_IMAGE = (
    b"<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>\n"
    b"<body><h1>403 Forbidden</h1><p>This object is not available (emulated).</p></body></html>\n"
)
BAD_IMAGE_STRING = "<<image unavailable: storage error (emulated)>>"


def spoiled_image(fault: FaultSpec | None, data: bytes) -> bytes:
    """The image bytes as an image fault leaves them (unchanged for any other fault)."""
    kind = fault.kind if fault else None
    if kind is Fault.TRUNCATED_BASE64:
        return data[: len(data) // 2 // 3 * 3]  # a whole number of base64 quanta: still decodes
    if kind in (Fault.NOT_AN_IMAGE, Fault.BAD_IMAGE_STRING):
        return NOT_AN_IMAGE
    if fault is not None and kind is Fault.DECOMPRESSION_BOMB:
        return bomb_png(fault["width"], fault["height"])
    return data
