"""Reading Cloudflare's answers: every envelope and output shape of docs/cloudflare.md §3, and every
error of §4 turned into the matching exception with a message that says what to do.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import (
    APIResponseError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContentPolicyError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from ._cloudflare import GATEWAY_HEADERS, RATE_LIMIT_CODES
from ._imagebytes import decode_base64_image, sniff_mime

__all__ = ["Answer", "error_from_response", "parse_answer", "parse_retry_after"]

MAX_RETRY_AFTER = 60.0
MAX_ANSWER_IMAGES = 32
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_MODERATION_MARKERS = ("moderation_blocked", "safety system", "content_policy_violation", "content policy")


@dataclass(frozen=True)
class Answer:
    """What a successful call gave: image bytes, or a URL the bytes must be fetched from; for an
    answer with several images (``result.images``), the others in ``more``, each bytes or a URL;
    and the seed the answer reports it used, if any."""

    image: bytes | None
    url: str | None
    log_id: str | None
    cache_status: str | None
    more: tuple[bytes | str, ...] = ()
    seed: int | None = None

    @property
    def count(self) -> int:
        return 1 + len(self.more)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta or HTTP date), capped; None when absent."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds):  # "nan" parses as a float, and sleeping NaN seconds raises
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _code(value: Any) -> int | str | None:
    """An error code as documented (a number or a short name); anything else is no code."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    return value


def _first_error(payload: Any) -> tuple[int | str | None, str | None]:
    if not isinstance(payload, dict):
        return None, None
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return _code(errors[0].get("code")), str(errors[0].get("message", "")) or None
    error = payload.get("error")
    if isinstance(error, dict):
        return _code(error.get("code")), str(error.get("message", "")) or None
    if isinstance(error, str):
        return None, error
    return None, None


def _advice(cls: type[APIStatusError], code: int | str | None, model: str) -> str:
    if cls is AuthenticationError:
        return (
            "Check CLOUDFLARE_API_TOKEN: it must be a current API token with the Workers AI Read permission."
        )
    if cls is InsufficientCreditsError:
        return "Add credits to the account's AI Gateway, then run again."
    if cls is PermissionDeniedError:
        return f"The token or account may not use {model}: check the token's permissions and accept the model's terms in the Cloudflare dashboard."
    if cls is NotFoundError:
        return f"Check the model id {model!r} (`imagegen models` lists known ones) and CLOUDFLARE_ACCOUNT_ID."
    if cls is RateLimitError:
        fact = RATE_LIMIT_CODES.get(code) if isinstance(code, int) else None
        return (fact or RATE_LIMIT_CODES[3040]).advice
    if cls is ContentPolicyError:
        return "The provider's safety system refused this request: rephrase the prompt or change the input image."
    if cls is ServerError:
        return "The service or the model provider failed; try again in a moment."
    return "Check the request's parameters against the model's schema."


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, model: str
) -> APIStatusError:
    """The exception for an error answer, with the service's own message kept verbatim."""
    try:
        payload: Any = json.loads(body) if body else None
    except RecursionError:  # nested too deeply to read: the status says enough
        payload, body = None, b""
    except (ValueError, UnicodeDecodeError):
        payload = None
    code, service_message = _first_error(payload)
    if service_message is None and payload is None and body:
        service_message = body[:300].decode("utf-8", "replace").strip() or None
    text = (service_message or "").lower()
    cls: type[APIStatusError]
    if any(marker in text for marker in _MODERATION_MARKERS) or code == "moderation_blocked":
        cls = ContentPolicyError
    elif status == 400 or status == 413:
        cls = BadRequestError
    elif status == 401:
        cls = AuthenticationError
    elif status == 402:
        cls = InsufficientCreditsError
    elif status == 403:
        cls = PermissionDeniedError
    elif status == 404:
        cls = NotFoundError
    elif status == 429:
        cls = RateLimitError
    elif status >= 500 or (200 <= status < 300):  # a 2xx here is a run that reported "Failed"
        cls = ServerError
    else:
        cls = APIStatusError
    what = f"HTTP {status}" + (f", Cloudflare code {code}" if code is not None else "")
    # The service's text usually ends a sentence already: avoid "..".
    said = f": {service_message.rstrip().rstrip('.')}" if service_message else ""
    message = f"{model} request failed ({what}){said}. {_advice(cls, code, model)}"
    return cls(
        message,
        status_code=status,
        code=code,
        service_message=service_message,
        log_id=headers.get(GATEWAY_HEADERS["log_id"]),
        retry_after=parse_retry_after(headers.get("retry-after")),
    )


def _find_images(
    payload: Any, status: int, headers: Mapping[str, str], body: bytes, model: str
) -> tuple[list[str], int | None]:
    """The image strings of a JSON answer (``result.image`` or ``result.images``) and its seed."""
    # Unwrap up to three layers: the v4 envelope, the run-style envelope, or both nested.
    for _ in range(4):
        if not isinstance(payload, dict):
            break
        if payload.get("success") is False or str(payload.get("state", "")).lower() == "failed":
            raise error_from_response(status, headers, json.dumps(payload).encode(), model=model)
        seed = payload.get("seed")
        seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
        image, images = payload.get("image"), payload.get("images")
        if isinstance(image, str):
            return [image], seed
        if isinstance(images, list) and images and all(isinstance(i, str) for i in images):
            if len(images) > MAX_ANSWER_IMAGES:  # each is a download: a runaway answer is refused
                raise APIResponseError(
                    f"{model} answered {len(images)} images to one request; at most "
                    f"{MAX_ANSWER_IMAGES} are read (the catalog's largest count is 15).",
                    log_id=headers.get(GATEWAY_HEADERS["log_id"]),
                )
            return list(images), seed
        if "result" not in payload:
            break
        payload = payload["result"]
    raise APIResponseError(
        f"{model} answered without an image (unexpected JSON shape); "
        "this may be a model the package does not know yet: please report it.",
        log_id=headers.get(GATEWAY_HEADERS["log_id"]),
    )


def _image_or_url(image: str, model: str, log_id: str | None) -> bytes | str:
    if _URL_SCHEME.match(image):  # any scheme: unsafe ones are refused, with a reason, at download
        return image
    try:
        return decode_base64_image(image)
    except ValueError as exc:
        raise APIResponseError(f"{model} answered with an unusable image: {exc}.", log_id=log_id) from None


def parse_answer(status: int, headers: Mapping[str, str], body: bytes, *, model: str) -> Answer:
    """An :class:`Answer` from a 2xx response, or the error it really carries."""
    log_id = headers.get(GATEWAY_HEADERS["log_id"])
    cache_status = headers.get(GATEWAY_HEADERS["cache_status"])
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.startswith("image/") or (sniff_mime(body) and not content_type.endswith("json")):
        return Answer(body, None, log_id, cache_status)
    try:
        payload = json.loads(body)
    except RecursionError:
        raise APIResponseError(
            f"{model} answered with JSON nested too deeply to read ({len(body)} bytes); try again.",
            log_id=log_id,
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise APIResponseError(
            f"{model} answered with a body that is neither JSON nor an image "
            f"(content-type {content_type or 'missing'}, {len(body)} bytes); try again.",
            log_id=log_id,
        ) from None
    images, seed = _find_images(payload, status, headers, body, model)
    found = [_image_or_url(image, model, log_id) for image in images]
    first, more = found[0], tuple(found[1:])
    if isinstance(first, str):
        return Answer(None, first, log_id, cache_status, more, seed)
    return Answer(first, None, log_id, cache_status, more, seed)
