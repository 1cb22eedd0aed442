"""The :class:`Emulator`: a local Cloudflare Workers AI that answers like the real service."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, get_args

from ._api import Envelope, ImageUrlStyle, Service
from ._catalog import load_models_dir
from ._faults import MAX_SECONDS, Fault, FaultQueue, FaultSpec
from ._http import EmulatorHTTPServer
from ._state import RecordedRequest, RequestLog

__all__ = ["Emulator"]

# How often the serving loop checks for stop(): socketserver's default of 0.5 s would make
# every test that starts an emulator half a second slower.
_POLL_SECONDS = 0.02


class Emulator:
    """A real HTTP server on loopback speaking Cloudflare's image-generation contract.

    The socket is bound when the emulator is created (``port=0`` picks a free port), so
    :attr:`base_url` and :attr:`env` are known at once. Serve in a background thread with
    :meth:`start` or ``with Emulator() as emulator:``, or in the calling thread with
    :meth:`serve_forever`. :meth:`stop` shuts the server and its connections; it is idempotent.

    ``latency`` delays every API request (seconds). Image URLs can be fetched again and again for
    ``url_ttl`` seconds, like the service's public objects; with ``single_use_urls`` (a strict
    mode for tests) only until their first download. ``envelope`` picks how URL-answering
    models wrap their result: ``"v4"``, ``"run"`` or ``"v4+run"`` (docs/cloudflare.md §3), and
    ``image_url_style`` whether they answer with a ``"url"`` or a ``"data-uri"``. ``log``, when
    given, receives one line per request. At most ``max_connections`` connections are served at
    once, and a request must arrive whole within ``read_timeout`` seconds (see :mod:`._http`).
    ``models_dir`` adds the models described by its ``*.json`` files to the catalog and the run
    routes (see ``_catalog``).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_id: str = "emulator-account",
        token: str = "emulator-token",
        latency: float = 0.0,
        url_ttl: float = 60.0,
        single_use_urls: bool = False,
        envelope: Envelope = "v4+run",
        image_url_style: ImageUrlStyle = "url",
        log: Callable[[str], None] | None = None,
        max_connections: int = EmulatorHTTPServer.max_connections,
        read_timeout: float = EmulatorHTTPServer.read_seconds,
        models_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if envelope not in get_args(Envelope):
            raise ValueError(f"envelope must be one of {', '.join(get_args(Envelope))}, got {envelope!r}")
        if image_url_style not in get_args(ImageUrlStyle):
            raise ValueError(f"image_url_style must be 'url' or 'data-uri', got {image_url_style!r}")
        self._service = Service(
            account_id=account_id,
            token=token,
            envelope=envelope,
            image_url_style=image_url_style,
            url_ttl=float(url_ttl),
            single_use_urls=single_use_urls,
        )
        if models_dir is not None:
            self._service.added = load_models_dir(models_dir)
        self._faults = FaultQueue()
        self._requests = RequestLog()
        self._file_requests = RequestLog()
        self._log = log
        self._latency = 0.0
        self.latency = latency
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._serving = False
        self._stopped = False
        self._http = EmulatorHTTPServer(
            (host, port), self, max_connections=max_connections, read_seconds=read_timeout
        )
        self._host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self._service.file_base = f"http://{self._host}:{self.port}"

    # Where it is and how to reach it.

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def base_url(self) -> str:
        """The API base URL, to use as ``CLOUDFLARE_BASE_URL``."""
        return f"http://{self._host}:{self.port}/client/v4"

    @property
    def account_id(self) -> str:
        return self._service.account_id

    @property
    def token(self) -> str:
        """The API token the emulator accepts (not a secret)."""
        return self._service.token

    @property
    def env(self) -> dict[str, str]:
        """The environment variables that point a client at this emulator."""
        return {
            "CLOUDFLARE_ACCOUNT_ID": self.account_id,
            "CLOUDFLARE_API_TOKEN": self.token,
            "CLOUDFLARE_BASE_URL": self.base_url,
        }

    @property
    def latency(self) -> float:
        """Seconds every API request waits before it is answered."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not 0 <= seconds <= MAX_SECONDS
        ):
            raise ValueError(f"latency must be 0 to {MAX_SECONDS:g} seconds, got {seconds!r}")
        self._latency = float(seconds)

    @property
    def catalog_readable(self) -> bool:
        """False makes catalog reads answer 401/10000, as for a token without ``Workers AI Read``
        (docs/cloudflare.md §5), while model calls still work."""
        return self._service.catalog_readable

    @catalog_readable.setter
    def catalog_readable(self, readable: bool) -> None:
        self._service.catalog_readable = bool(readable)

    # Lifecycle.

    def start(self) -> Emulator:
        """Serve in a background daemon thread; returns the emulator."""
        with self._lock:
            self._claim_serving()
            self._thread = threading.Thread(
                target=self._http.serve_forever,
                args=(_POLL_SECONDS,),
                name=f"cloudflare-emulator:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` is called from another thread."""
        with self._lock:
            self._claim_serving()
        self._http.serve_forever(_POLL_SECONDS)

    def _claim_serving(self) -> None:
        if self._stopped:
            raise RuntimeError("this emulator was stopped; create a new one")
        if self._serving:
            raise RuntimeError("this emulator is already serving")
        self._serving = True

    def stop(self) -> None:
        """Stop serving, drop open connections and close the socket. Safe to call twice."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            serving, thread = self._serving, self._thread
        self._http.stopping.set()  # ends latency and hang waits at once
        if serving and thread is not threading.current_thread():
            self._http.shutdown()
        self._http.drop_connections()
        self._http.server_close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        if not self._serving:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "serving" if self._serving else "not started"
        return f"<Emulator {self.base_url} ({state})>"

    # Faults, records and counters.

    def inject(self, kind: Fault | str, *, times: int = 1, **options: Any) -> None:
        """Queue fault ``kind`` for the next ``times`` model calls (after any already queued);
        catalog reads (``/ai/models/...``) never take a queued fault.

        See :class:`Fault` for the kinds and their options; ValueError for an unknown kind or
        option.
        """
        self._faults.push(FaultSpec.create(kind, options), times)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The API requests received so far, oldest first (a copy)."""
        return self._requests.snapshot()

    def wait_for_requests(self, count: int, *, timeout: float = 30.0) -> bool:
        """Wait until ``count`` API requests have arrived in all: True, or False after ``timeout``
        seconds. Tests and demos wait on this event instead of polling ``requests``."""
        return self._requests.wait_for(count, timeout)

    @property
    def file_requests(self) -> list[RecordedRequest]:
        """The image downloads received so far, oldest first (a copy)."""
        return self._file_requests.snapshot()

    def stats(self) -> dict[str, Any]:
        """Counts for ``GET /__emulator__/stats``."""
        return {
            "api_requests": len(self._requests),
            "file_requests": len(self._file_requests),
            "faults_pending": self._faults.pending(),
            "files_stored": len(self._service.files),
            "latency": self.latency,
        }

    def reset(self) -> None:
        """Forget recorded requests, queued faults, stored files and sample counters."""
        self._requests.clear()
        self._file_requests.clear()
        self._faults.clear()
        self._service.files.clear()
        self._service.samples.clear()

    def _log_line(self, line: str) -> None:
        if self._log is not None:
            self._log(line)
