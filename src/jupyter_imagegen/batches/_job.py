"""One run of a batch: read the manifest, skip or adopt what is finished, then generate the rest
under the rate limit and record each outcome.

Every request goes through the runtime's one executor, at most ``concurrency`` at once, with
what is the batch's own plugged in: its rate limiter as the retry policy of the client's one
retry loop (every attempt waits for the limiter, a 429 pauses and slows it and the item is tried
again later, a bounded number of times; other retryable errors back off as the client would),
and its grouped ledger updates as the way each request is reserved. Credentials, credit or
daily-allocation errors stop the run, since every other item would fail the same way.

Each image is saved under a name fixed by its index and prompt, and only then recorded in the
manifest, both from one writer thread, so files and lines land in one order off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .._exceptions import (
    AuthenticationError,
    BudgetExceededError,
    ConfigurationError,
    ImageGenError,
    InsufficientCreditsError,
    PermissionDeniedError,
    RateLimitError,
    ValidationError,
)
from ..client import estimate_total, retry_delay
from ..runtime import Executor
from ._inputs import BatchItem
from ._manifest import Manifest, ManifestEntry
from ._outcomes import OutcomeRecorder
from ._plan import adopt, changed_since, clash, is_settled, recorded_files, scan_folder
from ._progress import BatchCounters
from ._ratelimit import RateLimiter
from ._reserve import GroupedReservations
from ._result import BatchResult

if TYPE_CHECKING:
    from ..client import Settings
    from ..runtime import Meter

__all__ = ["BatchJob"]

MAX_RATE_LIMITED = 10  # 429s one item may meet before it is recorded as failed
_FATAL = (ConfigurationError, AuthenticationError, InsufficientCreditsError, PermissionDeniedError)


class BatchJob(OutcomeRecorder):
    """One run of a batch over validated items; :meth:`run` is the whole run."""

    def __init__(
        self,
        items: list[BatchItem],
        out_dir: str,
        *,
        rpm: float,
        burst: int,
        concurrency: int,
        resume: bool,
        retry_failed: bool,
        max_retries: int,
        client_options: Mapping[str, Any],
        settings: Settings,
        meter: Meter,
    ) -> None:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a whole number of at least 1, got {concurrency!r}.")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries!r}.")
        self.limiter = RateLimiter(rpm, burst=burst)  # checks rpm and burst
        self.items, self.out_dir = items, out_dir
        self.concurrency, self.max_retries = concurrency, max_retries
        self.resume, self.retry_failed = resume, retry_failed
        self.client_options = dict(client_options)
        self.settings = settings  # what the client_options resolve to: credentials, service
        self.counters = BatchCounters(total=len(items), rpm_limit=float(rpm), rpm_nominal=float(rpm))
        self.manifest = Manifest(out_dir)
        self._final: dict[int, ManifestEntry] = {}
        self._made: list[int] = []  # indices generated (not from cache) by this run
        self._on_disk: dict[str, list[str]] = {}
        self._replaceable: set[str] = set()
        self._changed: list[str] = []  # recorded images changed since written: left alone
        self.meter, self.spend = meter, meter.reservation()
        self._reservations = GroupedReservations(self.spend)
        self.stopped: str | None = None  # why the run stopped before the end (the daily budget)

    def require_credentials(self) -> None:
        """The one-line ConfigurationError now, when the account id or token is missing."""
        self.settings.require_credentials()

    async def run(self) -> BatchResult:
        """The whole run; cancelling its task stops it, and what is finished stays recorded."""
        self.counters.started = time.monotonic()
        known = self.manifest.open()
        try:
            todo = self._plan(known)
            self.counters.planned = True
            if todo:
                await self._generate(todo)
        finally:
            self.manifest.close()
        return self._result()

    def _plan(self, known: Mapping[int, ManifestEntry]) -> list[BatchItem]:
        """The items to generate; records the ones found already made."""
        self._on_disk = scan_folder(self.out_dir)
        self._replaceable = recorded_files(known, self.out_dir)
        todo = []
        for item in self.items:
            entry = known.get(item.index)
            if (
                self.resume
                and entry is not None
                and is_settled(entry, item, self.out_dir, retry_failed=self.retry_failed)
            ):
                self.counters.skipped += 1
            elif self.resume and entry is not None and changed_since(entry, item, self.out_dir):
                self.counters.skipped += 1
                self._changed.append(str(entry.file))
            else:
                entry = adopt(item, self._on_disk.get(item.stem, []), self.out_dir) if self.resume else None
                if entry is None:
                    todo.append(item)
                    continue
                self.manifest.append(entry)
                self.counters.adopted += 1
            self._final[item.index] = entry
            if entry.done:
                self._remove_other_files(item, keep=entry.file)
        self._refuse_clashes(todo, known)
        return todo

    def _refuse_clashes(self, todo: list[BatchItem], known: Mapping[int, ManifestEntry]) -> None:
        """Stop before sending anything when an item would replace an image made for another request."""
        clashes = [
            name
            for item in todo
            if (name := clash(item, known.get(item.index), self._on_disk.get(item.stem, []), self.out_dir))
        ]
        if clashes:
            more = f" and {len(clashes) - 1} more" if len(clashes) > 1 else ""
            raise ValidationError(
                f"{self.out_dir} already holds images of an earlier batch with other parameters "
                f"({clashes[0]}{more}); nothing was sent. Write this batch to another folder, or move "
                "the earlier images away first: a batch never overwrites finished work."
            )

    async def _generate(self, todo: list[BatchItem]) -> None:
        from ..runtime import get_runtime

        # One writer thread: files and manifest lines land in one order, off the event loop.
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imagegen-batch-writer")
        # Retries go through the limiter (see _one); a pool as large as the concurrency.
        client = get_runtime().own_async_client(
            self.client_options, connections=self.concurrency, max_retries=0
        )
        executor = Executor(
            client, concurrency=min(self.concurrency, len(todo)), begin=self._reservations.begin
        )
        writes = _Writes(writer, self.concurrency)

        async def generate(item: BatchItem) -> None:
            if self.stopped is not None:  # an item taken after the budget stop stays pending
                return
            record = await self._one(item, executor)
            if record is not None:
                await writes.submit(record)

        try:
            await executor.each(todo, generate)
            await writes.finished()
        finally:
            # Images already received are still written and recorded before returning.
            writer.shutdown(wait=True)
            await client.aclose()

    async def _one(self, item: BatchItem, executor: Executor) -> Callable[[], None] | None:
        """Generate one item, reserved against the daily budget just before it is sent and
        paced by this batch (see :class:`_ItemRetries`). Returns how to record its outcome, to
        run on the writer thread, or None when the budget stopped the run (requests in flight
        finish, the rest stay pending for another day)."""
        retries = _ItemRetries(self)
        try:
            image = await executor.fetch(item.request, spend=self.spend, retry_policy=retries)
        except BudgetExceededError as error:
            self.stopped = str(error)
            return None
        except _FATAL:
            raise
        except RateLimitError as error:
            if error.daily_limit:
                raise
            failure: ImageGenError = error
        except ImageGenError as error:
            failure = error
        else:
            elapsed = time.monotonic() - retries.started
            return functools.partial(self._save, item, image, retries.attempts, elapsed)
        elapsed = time.monotonic() - retries.started
        return functools.partial(self._fail, item, failure, retries.attempts, elapsed)

    def _result(self) -> BatchResult:
        counters = self.counters
        usd, unknown, basis = estimate_total(self.items[i].request for i in self._made)
        return BatchResult(
            out_dir=self.out_dir,
            manifest=self.manifest.path,
            total=len(self.items),
            entries=[self._final[i] for i in sorted(self._final)],
            generated=counters.generated,
            adopted=counters.adopted,
            skipped=counters.skipped,
            requests=counters.requests,
            rate_limited=counters.rate_limited,
            elapsed=counters.elapsed,
            estimated_usd=None if self._made and unknown == len(self._made) else usd,
            cost_unknown=unknown,
            cost_basis=tuple(basis),
            stopped=self.stopped,
            changed=tuple(self._changed),
        )


class _Writes:
    """The images received and waiting for the writer thread: at most ``limit`` are held in memory
    (a request that brings one more waits), and the first failed write (a full disk) is raised
    at the next submit, stopping the batch, or at :meth:`finished`."""

    def __init__(self, writer: ThreadPoolExecutor, limit: int) -> None:
        self._writer, self._room = writer, asyncio.Semaphore(limit)
        self._pending: set[asyncio.Future[None]] = set()
        self._failed: BaseException | None = None

    async def submit(self, record: Callable[[], None]) -> None:
        self._raise_failure()
        try:
            await self._room.acquire()
        except asyncio.CancelledError:
            # The batch is stopping: an image received (and paid for) is still written and
            # recorded, so a rerun never asks for it again.
            self._start(record, holds_room=False)
            raise
        self._start(record, holds_room=True)

    def _start(self, record: Callable[[], None], *, holds_room: bool) -> None:
        future = asyncio.get_running_loop().run_in_executor(self._writer, record)
        self._pending.add(future)
        future.add_done_callback(functools.partial(self._done, holds_room))

    async def finished(self) -> None:
        """Until every write submitted so far is done; raises the first that failed."""
        await asyncio.gather(*self._pending, return_exceptions=True)
        self._raise_failure()

    def _done(self, holds_room: bool, future: asyncio.Future[None]) -> None:
        self._pending.discard(future)
        if holds_room:
            self._room.release()
        if not future.cancelled() and future.exception() is not None and self._failed is None:
            self._failed = future.exception()

    def _raise_failure(self) -> None:
        if self._failed is not None:
            raise self._failed


class _ItemRetries:
    """One item's attempts, as a retry policy of the client's loop: each attempt waits for the
    batch's rate limiter; a 429 slows the limiter down and is tried again (at most
    MAX_RATE_LIMITED times, without counting as a retry); other transient errors are retried
    ``max_retries`` times with the usual backoff; fatal ones stop at once."""

    def __init__(self, job: BatchJob) -> None:
        self._job = job
        self.attempts = self.retries = self.refused = 0
        self.started = 0.0

    async def before_attempt(self) -> None:
        counters, limiter = self._job.counters, self._job.limiter
        await limiter.acquire()
        counters.rpm_limit = limiter.rpm
        self.attempts += 1
        counters.requests += 1
        self.started = self.started or time.monotonic()

    def delay(self, error: ImageGenError, retries: int) -> float | None:
        if isinstance(error, _FATAL):
            return None
        if isinstance(error, RateLimitError):
            if error.daily_limit:
                return None
            counters, limiter = self._job.counters, self._job.limiter
            counters.rate_limited += 1
            limiter.slow_down(error.retry_after)
            counters.rpm_limit = limiter.rpm
            self.refused += 1
            return 0.0 if self.refused <= MAX_RATE_LIMITED else None  # the limiter paces the next
        delay = retry_delay(error, self.retries, self._job.max_retries)
        if delay is not None:
            self.retries += 1
        return delay
