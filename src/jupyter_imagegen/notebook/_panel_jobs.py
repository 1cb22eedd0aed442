"""The panel's requests as asyncio tasks on the kernel's own event loop.

ipykernel runs its message handlers inside a running asyncio loop, so a task created from a
widget message runs while the kernel is idle and between other cells' statements: generating
never blocks the notebook. Each job is submitted to the runtime's one executor (cache, budget,
at most ``concurrency`` at once with the rest "queued", retries); this module keeps what is the
panel's own: every task referenced until it finishes (a loop keeps only weak references), the
jobs' states, and the gallery entries. Cancelling a task cancels its HTTP request. No exception
escapes a task: each ends as a job state (done / failed with the service's message / cancelled)
that the panel shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._exceptions import ImageGenError
from ..runtime import Executor, get_runtime, service_of
from ._panel_originals import keep_original
from ._panel_state import Entry, new_id, thumbnail

if TYPE_CHECKING:
    from ..client import AsyncClient, BaseClient, GeneratedImage, ImageRequest
    from ..runtime import ImageCache

__all__ = ["JobRunner", "PanelJob"]

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
_log = logging.getLogger(__name__)


def _import_now() -> None:
    """Load what the first request would otherwise import while running on the kernel's event
    loop (Pillow's format plugins; the asyncio backend httpcore loads through anyio on its first
    connection), so those tens of milliseconds are spent in the cell that creates the panel
    instead of stalling the notebook. Only a head start: nothing depends on it."""
    from PIL import Image

    Image.preinit()
    with contextlib.suppress(ImportError):
        import anyio._backends._asyncio  # noqa: F401


_import_now()


@dataclass
class PanelJob:
    """One request of the panel and where it stands."""

    id: str
    request: ImageRequest
    state: JobState = "queued"
    started: float | None = None  # wall clock, so the browser can count the seconds itself
    elapsed: float | None = None
    message: str = ""
    cached: bool = False

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prompt": self.request.prompt,
            "model": self.request.model,
            "variation": self.request.variation,
            "state": self.state,
            "started_ms": None if self.started is None else round(self.started * 1000),
            "elapsed": self.elapsed,
            "message": self.message,
            "cached": self.cached,
        }


OnImage = Callable[[PanelJob, Entry], None]


def gallery_entry(request: ImageRequest, image: GeneratedImage, cache_file: str | None) -> Entry:
    """A new image as a gallery entry: its thumbnail in memory, its original on disk (file work:
    run it in a worker thread)."""
    entry_id = new_id()
    original = keep_original(entry_id, image.data, cache_file)
    return Entry.create(entry_id, image, request, thumbnail(image.data), original)


class JobRunner:
    """Starts, tracks and cancels the panel's requests, on the runtime's client and limits."""

    def __init__(
        self,
        on_change: Callable[[], None],
        on_image: OnImage,
        *,
        client: AsyncClient | None = None,
        keep: int = 50,
    ) -> None:
        self._on_change = on_change
        self._on_image = on_image
        self._given_client = client
        self._keep = keep
        self._executor: Executor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.jobs: list[PanelJob] = []  # newest first

    # The client --------------------------------------------------------------------------
    def planner(self) -> BaseClient:
        """What checks the form and names the default model: the given client, else the
        runtime's. May raise ConfigurationError."""
        return self._given_client or get_runtime().client()

    def client(self) -> AsyncClient:
        """The client for the running loop: the given one, else the runtime's (made again when
        the credentials changed; they may be set in a cell after the panel was shown)."""
        return self._given_client or get_runtime().async_client()

    # Jobs ----------------------------------------------------------------------------------
    @property
    def active(self) -> list[PanelJob]:
        return [job for job in self.jobs if job.active]

    def submit(
        self,
        requests: list[ImageRequest],
        cache: ImageCache | None,
        *,
        refresh: bool,
        before_start: Callable[[list[str]], None] | None = None,
    ) -> list[PanelJob]:
        """Queue one job per request on the running loop; returns them at once. ``before_start``
        gets the jobs' ids before anyone is told of them (a comparison's cells)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ImageGenError(
                "The panel runs requests on the notebook's event loop and none is running here; "
                "use it in Jupyter (or call generate() from inside a running asyncio loop)."
            ) from None
        if loop is not self._loop or self._executor is None:  # an executor's queue belongs to one loop
            self._loop, self._executor = loop, Executor(self.client, concurrency=get_runtime().concurrency)
        jobs = [PanelJob(new_id(), request) for request in requests]
        if before_start is not None:
            before_start([job.id for job in jobs])
        for job in jobs:
            self.jobs.insert(0, job)
            task = loop.create_task(self._run(job, cache, refresh))
            self._tasks[job.id] = task
            task.add_done_callback(functools.partial(self._finished, job))
        self._trim()
        self._on_change()
        return jobs

    def cancel(self, job_id: str | None = None) -> int:
        """Cancel one job, or every unfinished one; returns how many were asked to stop."""
        targets = [job_id] if job_id is not None else list(self._tasks)
        count = 0
        for key in targets:
            task = self._tasks.get(key)
            if task is not None and not task.done():
                task.cancel()
                count += 1
        return count

    async def wait(self) -> None:
        """Until every job submitted so far has finished (however it ended)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def close(self) -> None:
        self.cancel()
        if self._given_client is None:
            get_runtime().release(self._loop)

    async def _run(self, job: PanelJob, cache: ImageCache | None, refresh: bool) -> None:
        assert self._executor is not None
        executor = self._executor

        def started() -> None:
            job.state, job.started = "running", time.time()
            self._on_change()

        try:
            spend = get_runtime().meter().reservation()
            image = await executor.fetch(
                job.request, cache=cache, refresh=refresh, spend=spend, on_start=started
            )
            cache_file = None if cache is None else cache.path_for(job.request, service_of(executor.client()))
            entries = [await asyncio.to_thread(gallery_entry, job.request, image, cache_file)]
            for other in image.others:  # a model's further images: each its own gallery entry
                entries.append(await asyncio.to_thread(gallery_entry, job.request, other, None))
        except ImageGenError as exc:
            self._fail(job, str(exc))
            return
        except Exception as exc:  # a bug must still show in the panel, not vanish in a task
            _log.exception("jupyter-imagegen panel request failed")
            self._fail(job, f"Unexpected {type(exc).__name__}: {exc}")
            return
        job.state, job.cached = "done", image.cached
        job.elapsed = round(time.time() - (job.started or time.time()), 3)
        for entry in entries:
            self._on_image(job, entry)

    def _fail(self, job: PanelJob, message: str) -> None:
        job.state, job.message = "failed", message
        job.elapsed = round(time.time() - (job.started or time.time()), 3)

    def _finished(self, job: PanelJob, task: asyncio.Task[None]) -> None:
        self._tasks.pop(job.id, None)
        if task.cancelled() and job.active:
            # Also reached when the task was cancelled before it ever started running.
            job.state = "cancelled"
            if job.started is not None:
                job.elapsed = round(time.time() - job.started, 3)
        elif not task.cancelled() and task.exception() is not None:
            error = task.exception()
            job.state, job.message = "failed", f"Unexpected {type(error).__name__}: {error}"
        self._on_change()

    def _trim(self) -> None:
        """Keep every unfinished job and the most recent finished ones."""
        finished = [job for job in self.jobs if not job.active]
        if len(finished) > self._keep:
            drop = {id(job) for job in finished[self._keep :]}
            self.jobs = [job for job in self.jobs if id(job) not in drop]
