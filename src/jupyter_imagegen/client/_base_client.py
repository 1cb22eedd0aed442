"""Everything the sync and async clients share that is not I/O: settings, building requests,
reading answers, deciding on retries and URL safety, and making the GeneratedImage. The errors a
failed transfer ends with are worded in :mod:`._failures`.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from .._exceptions import (
    APIResponseError,
    ConfigurationError,
    ImageGenError,
    ValidationError,
)
from .._version import __version__
from ._catalog import catalog_model, learn_shape
from ._cloudflare import GATEWAY_HEADERS
from ._config import BearerToken, Secret, Settings, as_secret
from ._failures import (
    note_attempts,
    scrub,
)
from ._imagebytes import verify_image
from ._imagehost import (
    IDENTITY,
    MAX_REDIRECTS,
    Resolver,
    Target,
    check_image_url,
    check_proxied,
    pin,
    system_resolver,
)
from ._models import check_model_id, shipped_model
from ._network import Network
from ._offline import uses_local_service
from ._pricing import estimate_cost
from ._redact import redact
from ._request import GatewayOptions, ImageRequest
from ._request_body import request_body
from ._response import Answer, error_from_response, parse_answer
from ._result import GeneratedImage
from ._retry import retry_delay
from ._wire import WireFailures

__all__ = ["IDENTITY", "BaseClient", "BearerToken", "RequestLike", "hide_token"]

RequestLike = str | ImageRequest | Mapping[str, Any]
MAX_HOPS = MAX_REDIRECTS + 1
REDIRECTS = {301, 302, 303, 307, 308}
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]+")


def _learn_shape(model: str, answer: Answer, content_type: str | None) -> None:
    mime = (content_type or "").split(";")[0].strip().lower()
    if answer.url is not None:
        learn_shape(model, "url-array" if answer.more else "url", None)
    else:
        learn_shape(model, "binary" if mime.startswith("image/") else "base64-json", mime or None)


def _seed_of(request: ImageRequest, picked: int | None) -> int | None:
    given = request.params.get("seed")
    if isinstance(given, (int, float)) and not isinstance(given, bool):
        return int(given)
    return picked


class BaseClient(WireFailures):
    """Settings and the pure logic of a request; subclasses add only the I/O."""

    def __init__(
        self,
        *,
        account_id: str | None = None,
        api_token: str | Secret | None = None,
        base_url: str | None = None,
        gateway_id: str | None = None,
        model: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        max_image_bytes: int | None = None,
        allow_plain_http: bool | None = None,
        resolver: Resolver | None = None,
        proxy: str | None = None,
        ca_bundle: str | None = None,
        http2: bool | None = None,
    ) -> None:
        api_token = as_secret(api_token)  # first: no frame below may hold the token in clear
        self._resolver = resolver or system_resolver
        self.network = Network.resolve(proxy=proxy, ca_bundle=ca_bundle, http2=http2)
        # False when a transport or an httpx client of the caller's decides the routes.
        self._own_routes = True
        self.settings = Settings.resolve(
            account_id=account_id,
            api_token=api_token,
            base_url=base_url,
            gateway_id=gateway_id,
            model=model,
            timeout=timeout,
            max_retries=max_retries,
            max_image_bytes=max_image_bytes,
            allow_plain_http=allow_plain_http,
        )

    def __repr__(self) -> str:
        settings = getattr(self, "settings", None)
        if settings is None:  # a verbose traceback of a settings error shows the half-made client
            return f"<{type(self).__name__} (not configured)>"
        return f"<{type(self).__name__} model={settings.model!r} base_url={settings.base_url!r}>"

    @property
    def model(self) -> str:
        return self.settings.model

    def prepare(
        self,
        prompt: str,
        *,
        model: str | None = None,
        images: Any = None,
        gateway_id: str | None = None,
        skip_cache: bool = False,
        cache_ttl: int | None = None,
        cache_key: str | None = None,
        metadata: Mapping[str, str | int | float | bool] | None = None,
        request_timeout_ms: int | None = None,
        variation: int = 0,
        **params: Any,
    ) -> ImageRequest:
        """Validate a request without sending it; raises :class:`ValidationError` on bad input."""
        gateway = GatewayOptions(gateway_id, skip_cache, cache_ttl, cache_key, metadata, request_timeout_ms)
        if shipped_model(model or self.model) is None:  # a new model: its schema, with our credentials
            catalog_model(model or self.model, client=self)
        return ImageRequest.create(
            prompt, model=model or self.model, images=images, gateway=gateway, variation=variation, **params
        )

    def _to_request(self, item: RequestLike, common: Mapping[str, Any]) -> ImageRequest:
        if isinstance(item, ImageRequest):
            return item
        if isinstance(item, str):
            return self.prepare(item, **common)
        if isinstance(item, Mapping):
            fields = {**common, **item}
            if "prompt" not in fields:
                raise ValidationError(f"A request dict needs a 'prompt' key; got keys {sorted(fields)}.")
            return self.prepare(**fields)
        raise TypeError(f"Expected a prompt, a dict or an ImageRequest, got {type(item).__name__}.")

    def _to_requests(self, items: Iterable[RequestLike], common: Mapping[str, Any]) -> list[ImageRequest]:
        if isinstance(items, (str, ImageRequest, Mapping)):
            items = [items]
        return [self._to_request(item, common) for item in items]

    def _api_call(
        self, request: ImageRequest, seed: int | None = None
    ) -> tuple[str, dict[str, str], dict[str, Any], httpx.Auth]:
        """URL, headers, body (httpx's ``json=``, or ``data=``/``files=`` for a multipart model,
        see :mod:`._wire`) and credentials of the API call (docs/cloudflare.md §1).

        The token travels in an :class:`httpx.Auth`, never in the headers dict: tracebacks that
        show local variables (``%xmode Verbose``, an interrupted cell) must not print it.
        """
        account_id = self.settings.require_credentials()[0]
        assert self.settings.api_token is not None  # checked just above
        if not _ACCOUNT_ID.fullmatch(account_id):
            raise ConfigurationError(
                "CLOUDFLARE_ACCOUNT_ID may hold only letters, digits, '-' and '_' (it is a 32-character "
                "hex id in the Cloudflare dashboard); copy it again."
            )
        # The ids go into the URL path of a request that carries the token: checked, then encoded.
        model = quote(check_model_id(request.model), safe="@/")
        base = f"{self.settings.base_url}/accounts/{quote(account_id, safe='')}/ai/run"
        headers = {
            **IDENTITY,
            "User-Agent": f"jupyter-imagegen/{__version__}",
            # Variations of one prompt are identical on the wire; keying the gateway's cache on
            # our own key (which includes the variation index) keeps them distinct samples.
            GATEWAY_HEADERS["cache_key"]: request.cache_key,
            **request.gateway.headers(self.settings.gateway_id),
        }
        auth = BearerToken(self.settings.api_token)
        body = request_body(request, seed)
        hosted = request.spec.hosting == "hosted"
        return (f"{base}/{model}" if hosted else base), headers, body, auth

    def _answer(self, request: ImageRequest, response: httpx.Response, body: bytes) -> Answer:
        status, headers = response.status_code, response.headers
        try:
            self._check_proxy_answer(response, self.settings.base_url)
            if status >= 300:
                raise error_from_response(status, headers, body, model=request.model)
            answer = parse_answer(status, headers, body, model=request.model)
            if request.spec.origin == "catalog":
                _learn_shape(request.model, answer, headers.get("content-type"))
            return answer
        except ImageGenError as exc:
            error = exc
        # Raised from here, without the parser's frames and with the raw answer dropped: a
        # service that echoes the token would otherwise show it in a traceback that prints
        # local variables (%xmode Verbose, debuggers).
        del body
        raise self._scrub(error).with_traceback(None) from None

    @property
    def _local_service(self) -> bool:
        return uses_local_service(self.settings.base_url)

    @property
    def _trusted_host(self) -> tuple[str, int] | None:
        """With ``allow_plain_http``, the plain-http service's own host and port, whose image URLs
        are fetched as they are (an emulator shared on a trusted network)."""
        parts = urlsplit(self.settings.base_url)
        if not self.settings.allow_plain_http or parts.scheme != "http" or not parts.hostname:
            return None
        return parts.hostname.lower(), parts.port or 80

    def _target(self, url: str) -> tuple[Target, tuple[str, int] | None]:
        """The request for one hop, and the host and port still to resolve and check (sync
        and async clients resolve in their own way, then call :func:`pin`)."""
        unresolved = check_image_url(url, local_service=self._local_service, trusted=self._trusted_host)
        # The host as check_image_url saw it (httpx parses the URL again when it sends it).
        host = urlsplit(url).hostname or ""
        return Target(url, host), unresolved

    def _pin(self, url: str, unresolved: tuple[str, int], addresses: list[str]) -> Target:
        if self._route(url) is not None:  # the proxy connects: it is asked for the checked name
            return check_proxied(url, unresolved[0], addresses)
        return pin(url, *unresolved, resolver=lambda host, port: addresses)

    def _image(
        self, request: ImageRequest, data: bytes, answer: Answer, started: float, seed: int | None = None
    ) -> GeneratedImage:
        # The log id is kept in provenance, manifests and notebooks: never with the token in it.
        log_id = redact(answer.log_id, self._token()) if answer.log_id else answer.log_id
        try:
            mime, width, height = verify_image(data)
        except ValueError as exc:
            raise APIResponseError(f"{request.model} sent an unusable image: {exc}.", log_id=log_id) from None
        cached = (answer.cache_status or "").upper() == "HIT"  # the AI Gateway's cache: free
        usd = estimate_cost(request).usd
        each = None if usd is None else usd / max(request.expected_images, 1)
        return GeneratedImage(
            data=data,
            mime_type=mime,
            prompt=request.prompt,
            model=request.model,
            params=dict(request.params),
            width=width,
            height=height,
            log_id=log_id,
            elapsed=round(time.monotonic() - started, 3),
            cached=cached,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            variation=request.variation,
            input_images=request.image_hashes,
            estimated_cost_usd=0.0 if cached else each,
            seed=answer.seed if answer.seed is not None else _seed_of(request, seed),
            answer_count=answer.count,
        )

    def _with_others(self, first: GeneratedImage, others: list[GeneratedImage]) -> GeneratedImage:
        """The first image of an answer, holding the others (each with its place in the answer)."""
        if not others:
            return first
        placed = tuple(dataclasses.replace(image, answer_index=i) for i, image in enumerate(others, 1))
        return dataclasses.replace(first, others=placed)

    def _retry_delay(self, error: ImageGenError, attempt: int) -> float | None:
        return retry_delay(error, attempt, self.settings.max_retries)

    def _final(self, error: ImageGenError, attempts: int) -> None:
        note_attempts(error, attempts)

    def _scrub(self, error: ImageGenError) -> ImageGenError:
        """The same error with the API token removed from every text it carries."""
        return scrub(error, self._token())

    def _token(self) -> str:
        return self.settings.api_token.get() if self.settings.api_token else ""


def hide_token(settings: dict[str, Any]) -> None:
    """Wrap a token given as a keyword in place: the frame that holds ``**settings`` must not
    show it in a verbose traceback."""
    if "api_token" in settings:
        settings["api_token"] = as_secret(settings["api_token"])
