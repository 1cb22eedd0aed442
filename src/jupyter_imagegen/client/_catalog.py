"""The account's live model catalog (docs/cloudflare.md §6): which image models exist, and the schema of a
model the package does not ship, so a new model is checked offline and gets controls and help.

It talks through a blocking client of this package (the caller's, or one made with the same
settings, so proxies, the CA bundle and deadlines apply as to every request), and keeps what it read on disk (``_catalog_store``). It never stops a generation: when the
catalog cannot be read (unreachable, a token without ``Workers AI Read``, a malformed schema) the
model falls back to a schema saved earlier or to being sent unchecked, with one warning line.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

import httpx

from .._exceptions import ImageGenError, ImageGenWarning
from .._version import __version__
from ._catalog_store import CatalogStore
from ._config import BearerToken, Settings
from ._loop import run_blocking
from ._model_schema import spec_from_schema
from ._models import ModelSpec, OutputKind, forget_learned, learn_model
from ._network import Network
from ._redact import redact

__all__ = [
    "CatalogConnection",
    "CatalogUnavailable",
    "HasNetwork",
    "HasSettings",
    "NotListed",
    "catalog_get",
    "catalog_model",
    "catalog_service",
    "catalog_settings",
    "catalog_store",
    "forget",
    "is_model_id",
    "learn_shape",
]

DEFAULT_TASK = "Text-to-Image"
PER_PAGE = 100
MAX_PAGES = 50
# Bounds on one answer (documented in docs/RELIABILITY.md): a real schema is a few KB and a
# search page of 100 models under 300 KB; a larger answer is refused, never parsed or saved.
MAX_ANSWER_BYTES = {"schema": 512 * 1024, "search": 2 * 1024 * 1024}
# Short: the catalog only adds checks and help, so waiting long for it would only delay images.
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
TOTAL_SECONDS = 30.0  # a whole read, however slowly a server trickles it
# How long a model the catalog could not describe stays unchecked before it is asked again.
RETRY_AFTER = 300.0
_MODEL_ID = re.compile(r"(@cf/)?[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)+")
_TOKEN_ADVICE = "the API token may not read the live model catalog: give it the Workers AI Read permission"

_lock = threading.Lock()
# Saved entries older than this (a time.time()) are stale: set by a refresh.
_stale_before = 0.0
# model id -> (spec, monotonic expiry, the (base URL, account) it was read for)
_memo: dict[str, tuple[ModelSpec, float, tuple[str, str] | None]] = {}


class HasSettings(Protocol):
    """A client, as far as the catalog needs one: the settings it would send with."""

    @property
    def settings(self) -> Settings: ...


@runtime_checkable
class CatalogConnection(Protocol):
    """A blocking client of this package, as far as the catalog needs one."""

    @property
    def settings(self) -> Settings: ...

    def get(self, url: str, **options: Any) -> httpx.Response: ...


class CatalogUnavailable(Exception):
    """The catalog could not be read; ``str()`` says why in words for the user."""


class NotListed(Exception):
    """The catalog answered, and has no such model."""


def forget(*, refresh: bool = False) -> None:
    """Drop what this process remembers of the catalog; with ``refresh`` the disk copy also
    counts as stale (it is still used if the catalog cannot be read again)."""
    global _stale_before
    with _lock:
        _memo.clear()
        forget_learned()
        if refresh:
            _stale_before = time.time()


@runtime_checkable
class HasNetwork(Protocol):
    """A client's network settings (proxies, CA bundle), as far as the catalog needs them."""

    @property
    def network(self) -> Network: ...


class _OwnConnection:
    """The catalog's connection when no blocking client is given: the given network (proxies,
    CA bundle), else the environment's, on the loop thread blocking clients use, with a deadline
    on each read; closed once read, so a read leaves no connection open."""

    def __init__(self, settings: Settings, network: Network | None = None) -> None:
        self.settings = settings
        self._http = (network or Network.resolve()).async_client(TIMEOUT, 1)

    def get(self, url: str, **options: Any) -> httpx.Response:
        return run_blocking(asyncio.wait_for(self._http.get(url, **options), TOTAL_SECONDS))

    def close(self) -> None:
        run_blocking(self._http.aclose())


def catalog_settings(client: HasSettings | None) -> Settings | None:
    """The settings to ask the catalog with: ``client``'s, else the environment's; None when
    there are no credentials to ask with (or the settings are malformed)."""
    try:
        settings = client.settings if client is not None else Settings.resolve()
        settings.require_credentials()
    except ImageGenError:
        return None
    return settings


@contextlib.contextmanager
def catalog_service(client: HasSettings | None) -> Iterator[CatalogConnection | None]:
    """The catalog's service: ``client`` itself if it is a blocking client, else a connection
    of its own with its settings and network (or the environment's); None when there are no
    credentials to ask with."""
    settings = catalog_settings(client)
    if settings is None:
        yield None
        return
    if isinstance(client, CatalogConnection):
        yield client
        return
    own = _OwnConnection(settings, client.network if isinstance(client, HasNetwork) else None)
    try:
        yield own
    finally:
        own.close()


def catalog_store(settings: Settings) -> CatalogStore:
    """Where what the catalog of ``settings``' service and account said is kept on disk."""
    return CatalogStore(settings.base_url, settings.account_id or "")


def catalog_get(client: CatalogConnection, route: str, params: dict[str, Any]) -> dict[str, Any]:
    settings = client.settings
    assert settings.api_token is not None
    url = f"{settings.base_url}/accounts/{settings.account_id}/ai/models/{route}"
    try:
        response = client.get(
            url,
            params=params,
            headers={"User-Agent": f"jupyter-imagegen/{__version__}"},
            auth=BearerToken(settings.api_token),
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise CatalogUnavailable(
            f"the live model catalog at {settings.base_url} could not be reached ({type(exc).__name__})"
        ) from None
    status = response.status_code
    if status in (401, 403):
        raise CatalogUnavailable(_TOKEN_ADVICE)
    if status in (400, 404):
        raise NotListed
    if status != 200:
        raise CatalogUnavailable(f"the live model catalog answered HTTP {status}")
    limit = MAX_ANSWER_BYTES[route]
    if len(response.content) > limit:
        raise CatalogUnavailable(
            f"the live model catalog's {route} answer is over the {limit // 1024:,} KB limit and was not read"
        )
    try:
        # Masked before it is parsed: names, descriptions and defaults are shown, synced to the
        # panel (and saved in the notebook) and kept on disk, never with the token in them.
        payload = json.loads(redact(response.content.decode("utf-8"), settings.api_token.get()))
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict) or payload.get("success") is False:
        raise CatalogUnavailable("the live model catalog answered with malformed JSON")
    return payload


def is_model_id(text: str) -> bool:
    """A model id the package sends and prints: no control characters, spaces, ``..`` or ``?``."""
    return bool(_MODEL_ID.fullmatch(text)) and "/../" not in f"/{text}/" and "/./" not in f"/{text}/"


def _service_key(client: HasSettings | CatalogConnection) -> tuple[str, str]:
    return client.settings.base_url, client.settings.account_id or ""


def _resolve(model_id: str, client: HasSettings | None) -> tuple[ModelSpec, float, tuple[str, str] | None]:
    """The spec for a model that is not shipped, how long to keep it, and whose catalog said so."""
    if not is_model_id(model_id):
        return ModelSpec.unknown(model_id), float("inf"), None  # never sent with the token in a URL
    with catalog_service(client) as service:
        if service is None:
            return ModelSpec.unknown(model_id), RETRY_AFTER, None
        spec, keep = _read_schema(model_id, service)
        return spec, keep, _service_key(service)


def _read_schema(model_id: str, service: CatalogConnection) -> tuple[ModelSpec, float]:
    store = catalog_store(service.settings)
    saved = store.read("schema", model_id, stale_before=_stale_before)
    if saved is not None and saved[1]:
        with contextlib.suppress(ValueError):
            return _with_seen_shape(spec_from_schema(model_id, saved[0]), store), _keep(store)
    try:
        schema = catalog_get(service, "schema", {"model": model_id}).get("result")
    except NotListed:
        # The catalog was read and has no such model: a typo, refused before sending.
        unlisted = ModelSpec.unknown(model_id, "the live catalog does not list it")
        return dataclasses.replace(unlisted, origin="unlisted"), RETRY_AFTER
    except CatalogUnavailable as exc:
        if saved is not None:
            with contextlib.suppress(ValueError):
                spec = spec_from_schema(model_id, saved[0])
                warnings.warn(
                    f"Checking {model_id} against its saved schema: {exc}.", ImageGenWarning, stacklevel=4
                )
                return spec, RETRY_AFTER
        return ModelSpec.unknown(model_id, str(exc)), RETRY_AFTER
    try:
        spec = spec_from_schema(model_id, schema)
    except ValueError as exc:
        return ModelSpec.unknown(model_id, f"its schema in the live catalog is unusable: {exc}"), RETRY_AFTER
    store.write("schema", model_id, schema)
    return _with_seen_shape(spec, store), _keep(store)


def _keep(store: CatalogStore) -> float:
    # In memory at least a minute, even with a lifetime of 0: one request reads its spec often.
    return max(store.ttl, 60.0)


def _with_seen_shape(spec: ModelSpec, store: CatalogStore) -> ModelSpec:
    """The spec with the answer shape its answers showed, when that differs from its schema's."""
    seen = store.read("shape", spec.id)
    if seen is None or not isinstance(seen[0], dict):
        return spec
    kind, content_type = seen[0].get("kind"), seen[0].get("content_type")
    if kind not in ("url", "base64-json", "binary"):
        return spec
    return dataclasses.replace(spec, output_kind=kind, binary_content_type=content_type)


def learn_shape(model_id: str, kind: OutputKind, content_type: str | None) -> None:
    """Record the shape a catalog model's answer came in (its content type says more than an
    output schema that is vague or wrong); kept beside its schema."""
    with _lock:
        hit = _memo.get(model_id)
        if hit is None or hit[2] is None or hit[0].output_kind == kind:
            return
        mime = content_type if kind == "binary" else None
        _memo[model_id] = (dataclasses.replace(hit[0], output_kind=kind, binary_content_type=mime), *hit[1:])
        learn_model(_memo[model_id][0])
    CatalogStore(*hit[2]).write("shape", model_id, {"kind": kind, "content_type": mime})


def catalog_model(model_id: str, client: HasSettings | None = None) -> ModelSpec:
    """The spec of a model the package does not ship, read from the live catalog on first use
    (with ``client``'s credentials, else the environment's) and kept on disk."""
    now = time.monotonic()
    with _lock:
        hit = _memo.get(model_id)
    # Without a client, whatever was read last (a client's prepare() reads first); with one,
    # only what was read from that client's service and account.
    if hit is not None and hit[1] > now and (client is None or hit[2] == _service_key(client)):
        return hit[0]
    spec, keep, key = _resolve(model_id, client)
    with _lock:
        _memo[model_id] = (spec, now + keep, key)
        learn_model(spec)
    return spec
