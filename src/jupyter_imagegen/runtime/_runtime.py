"""The one runtime of a kernel or process, under every front end.

:class:`Runtime` (one per process, :func:`get_runtime`) reads the user's defaults
(:class:`ImageGenConfig`) and owns what the magic, the panel, ``batch()``, the Python API and the CLI share: the clients
(rebuilt in :meth:`Runtime._client_for` only, when the credentials or the configured model or
gateway change), the disk cache, the background event loop and the limits. Precedence everywhere:
keyword or option > configuration > environment > built-in default.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigurationError, ImageGenError, ValidationError
from ..client import DISPLAY_FORMATS, MAX_IMAGES, environment_fingerprint
from ._clients import SharedClients, retire
from ._config import (
    ENVIRONMENT_NAMES,
    MODEL_DEFAULTS,
    OFF_WORDS,
    ON_WORDS,
    ImageGenConfig,
    check_image_count,
    standalone_config,
)

if TYPE_CHECKING:
    from ..client import AsyncClient, Client, GeneratedImage, ImageRequest
    from ._budget import Meter
    from ._cache import ImageCache
    from ._executor import RunOutcome
    from ._runner import LoopThread

__all__ = [
    "MAX_IMAGES",
    "MODEL_DEFAULTS",
    "ImageGenConfig",
    "Runtime",
    "check_image_count",
    "get_runtime",
]


class Runtime:
    """Settings, clients, cache, event loop and limits shared by every front end of a process."""

    def __init__(self, config: ImageGenConfig | None = None) -> None:
        self._own_config = config or standalone_config()
        self.config: ImageGenConfig = self._own_config
        self._lock = threading.Lock()
        self._loop_thread: LoopThread | None = None
        self._clients = SharedClients()

    # Configuration ---------------------------------------------------------------------------
    def use_config(self, config: ImageGenConfig | None) -> None:
        """Read defaults from ``config`` (the magic, once the extension is loaded), or go back to
        the process's own configuration with None."""
        self.config = config if config is not None else self._own_config

    def value(self, name: str, given: Any = None) -> Any:
        """``given`` if set, else the configuration's value, else the environment's, else None."""
        if given is not None:
            return given
        value = getattr(self.config, name)
        if value is None and name in ENVIRONMENT_NAMES:
            value = os.environ.get(ENVIRONMENT_NAMES[name], "").strip() or None
        return value

    def flag(self, name: str, default: bool) -> bool:
        """A switch: an environment value of 0/false/no/off turns it off, 1/true/yes/on on."""
        value = self.value(name)
        if isinstance(value, str):
            return value.lower() in ON_WORDS if default is False else value.lower() not in OFF_WORDS
        return default if value is None else bool(value)

    def number(self, name: str, default: int, given: int | None = None) -> int:
        value = self.value(name, given)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise ConfigurationError(
                f"{ENVIRONMENT_NAMES[name]} must be a whole number, got {value!r}."
            ) from None

    @property
    def concurrency(self) -> int:
        return max(1, self.number("concurrency", 4))

    @property
    def max_images(self) -> int:
        return int(self.config.max_images)

    def meter(self, max_images_per_day: int | None = None, max_usd_per_day: float | None = None) -> Meter:
        """The usage ledger beside the cache folder and the daily budgets (keyword > %config >
        environment > none), through which every front end reserves before sending."""
        from ._budget import Budget, Meter
        from ._emulator_probe import answers_as_emulator
        from ._usage import UsageLedger, ledger_path_for

        images = self.value("max_images_per_day", max_images_per_day)
        budget = Budget.read(images, self.value("max_usd_per_day", max_usd_per_day))
        # The emulator keeps a ledger of its own; it is known by what it answers.
        emulator = answers_as_emulator(os.environ.get("CLOUDFLARE_BASE_URL", "").strip())
        path = ledger_path_for(self.value("cache_dir"), emulator=emulator)
        return Meter(UsageLedger(path, emulator=emulator), budget)

    def usage_report(self) -> str:
        """The usage table of the service in use, and the other ledger's too when it holds
        anything: someone on the emulator asking without its settings (a terminal with no
        credentials) still sees what the emulator made, labelled as not billed."""
        from ._budget import Budget, Meter
        from ._usage import UsageLedger, ledger_path_for

        meter = self.meter()
        tables = [meter.usage().table()]
        other = not meter.ledger.emulator
        other_ledger = UsageLedger(ledger_path_for(self.value("cache_dir"), emulator=other), emulator=other)
        with contextlib.suppress(ImageGenError):
            usage = Meter(other_ledger, Budget.read(None, None)).usage()
            if usage.rows:
                tables.append(usage.table())
        return "\n\n".join(tables)

    def display_format(self, given: str | None = None) -> str:
        value = self.value("display_format", given) or "auto"
        if value not in DISPLAY_FORMATS:
            raise ValidationError(
                f"IMAGEGEN_DISPLAY_FORMAT must be one of {', '.join(DISPLAY_FORMATS)}, got {value!r}."
            )
        return str(value)

    def model_defaults(self, model: str, given: dict[str, Any] | None = None) -> dict[str, Any]:
        """``given`` parameters plus the configured quality/size/style that ``model`` takes."""
        from ..client import get_model

        spec = get_model(model)
        params = dict(given or {})
        for name in MODEL_DEFAULTS:
            default = self.value(name)
            if params.get(name) is None and default is not None and name in spec.parameters:
                params[name] = default
        return {name: value for name, value in params.items() if value is not None}

    def default_model(self) -> str:
        """The model used when none is named: %config, else $IMAGEGEN_MODEL, else the default."""
        from ..client import DEFAULT_MODEL, Settings

        try:
            return Settings.resolve(model=self.config.model).model
        except ConfigurationError:  # another setting is malformed; the client will say so
            return self.config.model or DEFAULT_MODEL

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for a client: the configured model, gateway, proxy, CA bundle and
        HTTP/2 (the client reads the rest, credentials included, from the environment)."""
        options = {"model": self.config.model, "gateway_id": self.config.gateway}
        network = {"proxy": self.config.proxy, "ca_bundle": self.config.ca_bundle, "http2": self.config.http2}
        return {
            **{name: value for name, value in options.items() if value},
            **{name: value for name, value in network.items() if value is not None},
        }

    # Clients -------------------------------------------------------------------------------
    def client(self) -> Client:
        """The process's blocking client for the current settings."""
        from ..client import Client

        return self._client_for("sync", lambda: Client(**self.client_options()), None)  # type: ignore[return-value]

    def async_client(self, loop: asyncio.AbstractEventLoop | None = None) -> AsyncClient:
        """The async client of ``loop`` (default: the running one) for the current settings."""
        from ..client import AsyncClient

        loop = loop or asyncio.get_running_loop()
        connections = self.concurrency
        return self._client_for(  # type: ignore[return-value]
            loop, lambda: AsyncClient(**self.client_options(), connections=connections), loop
        )

    def own_async_client(self, options: dict[str, Any], *, connections: int, max_retries: int) -> AsyncClient:
        """A new async client for one job that closes it itself (a batch): ``options`` over the
        configured ones, a pool of ``connections`` and ``max_retries`` retries of its own."""
        from ..client import AsyncClient

        settings = {"connections": connections, **self.client_options(), **options}
        return AsyncClient(**{**settings, "max_retries": max_retries})

    def _client_for(
        self, key: object, make: Callable[[], Client | AsyncClient], loop: asyncio.AbstractEventLoop | None
    ) -> Client | AsyncClient:
        """The one place shared clients are made and replaced: when the environment's credentials,
        the configured model or gateway, or the concurrency (the pool's size) changed since the
        client was built."""
        fingerprint = hashlib.sha256(
            f"{environment_fingerprint()}\0{self.client_options()}\0{self.concurrency}".encode()
        ).hexdigest()
        return self._clients.get(key, fingerprint, make, loop)

    def release(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Close the async client of ``loop`` (a panel closing); the next use makes a new one."""
        self._clients.release(loop)

    # Cache and loop ------------------------------------------------------------------------
    def cache(self, *, api: bool = False) -> ImageCache | None:
        """The disk cache, or None when it is off (``api``: for generate()/generate_many())."""
        from ._cache import DEFAULT_MAX_BYTES, ImageCache

        if not self.flag("cache", True) or (api and not self.flag("api_cache", False)):
            return None
        megabytes = self.number("cache_max_mb", 0)
        max_bytes = megabytes * 1024 * 1024 if megabytes > 0 else DEFAULT_MAX_BYTES
        directory = self.value("cache_dir")
        if directory:
            return ImageCache(os.path.expanduser(directory), max_bytes=max_bytes)
        return ImageCache.default(max_bytes=max_bytes)

    @property
    def loop(self) -> LoopThread:
        """The background event loop that blocking front ends (the magic, the CLI) run on."""
        from ._runner import LoopThread

        with self._lock:
            if self._loop_thread is None:
                self._loop_thread = LoopThread()
            return self._loop_thread

    def run(
        self,
        requests: Sequence[ImageRequest],
        *,
        refresh: bool = False,
        api: bool = False,
        concurrency: int | None = None,
        on_progress: Callable[[int, int, float], None] | None = None,
        on_outcomes: Callable[[list[GeneratedImage | BaseException | None]], None] | None = None,
        tick: float = 0.2,
    ) -> RunOutcome[GeneratedImage]:
        """Every request through the one executor on the background loop: from the cache (see
        :meth:`cache`) or the service, at most ``concurrency`` at once. What will be sent is
        reserved against the daily budgets first, all or none (BudgetExceededError).

        The caller waits on its own thread: ``on_progress(finished, total, elapsed)`` is called
        every ``tick`` seconds, and ``on_outcomes`` then gets a copy of the outcomes so far (None
        for those still running), to show results as they come. A KeyboardInterrupt while
        waiting cancels what is still running and returns the run with ``interrupted=True``."""
        from ._executor import Executor, RunOutcome
        from ._fetch import reserve_misses
        from ._runner import CANCEL_GRACE

        client = self.async_client(self.loop.loop())
        cache = self.cache(api=api)
        spend = reserve_misses(self.meter(), client, requests, cache, refresh=refresh)
        executor = Executor(client, concurrency=concurrency or self.concurrency)
        outcomes: list[GeneratedImage | BaseException | None] = [None] * len(requests)
        started = time.monotonic()

        def progress() -> None:
            if on_progress is not None:
                on_progress(sum(o is not None for o in outcomes), len(outcomes), time.monotonic() - started)
            if on_outcomes is not None:
                on_outcomes(list(outcomes))

        interrupted = False
        try:
            work = executor.run(requests, outcomes, cache=cache, refresh=refresh, spend=spend)
            self.loop.wait(work, on_tick=progress, tick=tick, grace=CANCEL_GRACE)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            spend.close()  # what cache hits and cancelled requests did not use goes back
        return RunOutcome(list(outcomes), interrupted, time.monotonic() - started)

    def close(self) -> None:
        """Close every client and stop the background loop; both are made again on next use."""
        clients = self._clients.take_all()
        with self._lock:
            thread, self._loop_thread = self._loop_thread, None
        for _, client, loop in clients:
            if thread is not None and loop is thread.current():
                with contextlib.suppress(Exception):  # best effort: the loop may be stopping
                    thread.call(client.aclose(), timeout=5)  # type: ignore[union-attr]
            else:
                retire(client, loop)
        if thread is not None:
            thread.stop()


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The process's runtime, made on first use."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = Runtime()
        return _runtime
