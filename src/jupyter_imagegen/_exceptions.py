"""Every error jupyter-imagegen raises, in one tree:

* ImageGenError
  * ConfigurationError - a credential or setting is missing or malformed.
  * ValidationError - the request breaks the model's schema; nothing was sent.
  * BudgetExceededError - the request would pass a daily budget; nothing was sent.
  * APIConnectionError - no answer from the service (DNS, refused, reset).
    * APITimeoutError - an answer did not come in time.
  * APIStatusError - the service answered with an error status.
    * BadRequestError - 400: the service rejected the input.
      * ContentPolicyError - the provider's safety system refused the prompt or image.
    * AuthenticationError - 401: the API token is missing, wrong or expired.
    * InsufficientCreditsError - 402: the AI Gateway has no credits left.
    * PermissionDeniedError - 403: the token or account may not use this model.
    * NotFoundError - 404: no such model or account.
    * RateLimitError - 429: too many requests, or the daily free allocation is used up.
    * ServerError - 5xx: the service or the model provider failed.
  * APIResponseError - a success answer that holds no usable image.
    * ImageDownloadError - the image URL could not be fetched safely.

Messages never contain the API token. Every API error carries ``status_code``, Cloudflare's
error ``code``, the service's own ``service_message`` and the AI Gateway ``log_id`` when known.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ConfigurationError",
    "ContentPolicyError",
    "ImageDownloadError",
    "ImageGenError",
    "ImageGenWarning",
    "InsufficientCreditsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ValidationError",
]


class ImageGenWarning(UserWarning):
    """Something worked but deserves attention, such as an unknown model sent unvalidated."""


class ImageGenError(Exception):
    """Base class of every error raised by jupyter-imagegen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(ImageGenError):
    """A credential or setting is missing or malformed."""


class ValidationError(ImageGenError, ValueError):
    """The request breaks the model's input schema; nothing was sent."""

    def __init__(self, message: str, *, problems: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class BudgetExceededError(ImageGenError):
    """The request would pass a daily budget (IMAGEGEN_MAX_IMAGES_PER_DAY or
    IMAGEGEN_MAX_USD_PER_DAY); nothing was sent. The message names the limit, today's use and
    how to raise it."""


class APIConnectionError(ImageGenError):
    """The service could not be reached, or the connection broke before an answer."""


class APITimeoutError(APIConnectionError):
    """The service did not answer in time; ``phase`` is connect, read, write or pool, or
    total when the whole answer took longer than all of those together."""

    def __init__(self, message: str, *, phase: str = "read") -> None:
        super().__init__(message)
        self.phase = phase


class APIStatusError(ImageGenError):
    """The service answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | str | None = None,
        service_message: str | None = None,
        log_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.service_message = service_message
        self.log_id = log_id
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """400: the service rejected the request's input."""


class ContentPolicyError(BadRequestError):
    """The provider's safety system refused the prompt or an input image."""


class AuthenticationError(APIStatusError):
    """401: the API token is missing, wrong or expired."""


class InsufficientCreditsError(APIStatusError):
    """402: the AI Gateway account has no credits left."""


class PermissionDeniedError(APIStatusError):
    """403: the token or account is not allowed to use this model."""


class NotFoundError(APIStatusError):
    """404: no such model, account or route."""


# Cloudflare's 429 codes that retrying cannot help: the daily free allocation used up (3036), an AI
# Gateway's spend limit reached (2045). Here, at the bottom, so the client's table of rate-limit
# codes (client/_cloudflare.py) and this error read one set.
FINAL_RATE_LIMIT_CODES = frozenset({2045, 3036})


class RateLimitError(APIStatusError):
    """429: too many requests, or the daily free allocation is used up (``daily_limit``)."""

    @property
    def daily_limit(self) -> bool:
        return self.code in FINAL_RATE_LIMIT_CODES


class ServerError(APIStatusError):
    """5xx: the service or the model provider failed."""


class APIResponseError(ImageGenError):
    """The service answered with success but the answer holds no usable image."""

    def __init__(self, message: str, *, log_id: str | None = None) -> None:
        super().__init__(message)
        self.log_id = log_id


class ImageDownloadError(APIResponseError):
    """The image URL in the answer could not be fetched safely (expired, unsafe, too large).

    ``transient`` is True when fetching the same URL again may work (a reset connection, a 5xx
    from the image host); the client does that itself, without generating the image again."""

    transient: bool = False
