"""Batch generation: hundreds or thousands of images at the account's rate limit, resumable,
with progress. ``batch()`` for scripts and notebook cells, ``await abatch()`` for asyncio code.

Results go to an output folder as they finish, each image under a name fixed by its index and
prompt, with ``manifest.jsonl`` recording every item (see :mod:`._manifest`). Running the same
batch again skips what is finished, adopts images an interrupted run saved without recording,
and retries failures when asked; :mod:`._job` does one run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any, Literal, overload

from ..client import BaseClient
from ._dry_run import BatchDryRun, dry_run_of
from ._inputs import load_items
from ._job import BatchJob
from ._progress import ProgressDisplay
from ._result import BatchResult

__all__ = ["BatchDryRun", "abatch", "batch"]

DEFAULT_RPM = 720.0  # Workers AI's default text-to-image limit per account
DEFAULT_CONCURRENCY = 32
_TICK = 0.2  # seconds between progress redraws


def _job(
    items: Any,
    out_dir: str | os.PathLike[str],
    *,
    rpm: float = DEFAULT_RPM,
    concurrency: int = DEFAULT_CONCURRENCY,
    burst: int = 1,
    resume: bool = True,
    retry_failed: bool = False,
    n: int = 1,
    max_retries: int = 2,
    client_options: Mapping[str, Any] | None = None,
    max_images_per_day: int | None = None,
    max_usd_per_day: float | None = None,
    **common: Any,
) -> BatchJob:
    from ..runtime import get_runtime

    # The runtime's configured model and gateway, unless the call gives its own client options.
    options = {**get_runtime().client_options(), **(client_options or {})}
    meter = get_runtime().meter(max_images_per_day, max_usd_per_day)
    planner = BaseClient(**{k: v for k, v in options.items() if k != "transport"})
    loaded = load_items(items, planner, common, n)
    return BatchJob(
        loaded,
        os.fspath(out_dir),
        rpm=rpm,
        burst=burst,
        concurrency=concurrency,
        resume=resume,
        retry_failed=retry_failed,
        max_retries=max_retries,
        client_options=options,
        settings=planner.settings,
        meter=meter,
    )


@overload
def batch(
    items: Any,
    out_dir: str | os.PathLike[str],
    *,
    progress: bool = ...,
    dry_run: Literal[False] = ...,
    **options: Any,
) -> BatchResult: ...
@overload
def batch(
    items: Any,
    out_dir: str | os.PathLike[str],
    *,
    progress: bool = ...,
    dry_run: Literal[True],
    **options: Any,
) -> BatchDryRun: ...
def batch(
    items: Any,
    out_dir: str | os.PathLike[str],
    *,
    progress: bool = True,
    dry_run: bool = False,
    **options: Any,
) -> BatchResult | BatchDryRun:
    """Generate every item into ``out_dir`` under a rate limit; see :func:`abatch` for the options.

    Works from a script and from a notebook cell (the batch runs on the runtime's event loop in
    its worker thread). Ctrl-C or a kernel interrupt stops it cleanly: finished images stay recorded and the
    same call continues where it stopped.
    """
    from ..runtime import get_runtime

    job = _job(items, out_dir, **options)
    if dry_run:
        return _dry_run(job)
    job.require_credentials()  # before a progress bar is drawn or the folder is made
    display = ProgressDisplay(progress)
    # On the process runtime's event loop (the magic's and the CLI's), waited for as every
    # blocking front end waits: Ctrl-C or a kernel interrupt cancels it once what is finished
    # is recorded.
    try:
        return get_runtime().loop.wait(job.run(), on_tick=lambda: display.update(job.counters), tick=_TICK)
    finally:
        display.close(job.counters)


@overload
async def abatch(
    items: Any,
    out_dir: str | os.PathLike[str],
    *,
    progress: bool = ...,
    dry_run: Literal[False] = ...,
    **options: Any,
) -> BatchResult: ...
@overload
async def abatch(
    items: Any,
    out_dir: str | os.PathLike[str],
    *,
    progress: bool = ...,
    dry_run: Literal[True],
    **options: Any,
) -> BatchDryRun: ...
async def abatch(
    items: Any,
    out_dir: str | os.PathLike[str],
    *,
    progress: bool = True,
    dry_run: bool = False,
    **options: Any,
) -> BatchResult | BatchDryRun:
    """Generate every item of ``items`` into ``out_dir``; the asyncio form of :func:`batch`.

    ``items``: a list of prompts or dicts, a pandas DataFrame, or a .csv/.tsv/.jsonl/.txt path
    (see :mod:`._inputs` for the columns). ``rpm`` (default 720) and ``burst`` (default 1)
    shape the token bucket; ``concurrency`` (default 32) caps requests in flight. ``resume``
    (default True) skips items the manifest lists as done; ``retry_failed`` also reruns failed
    ones. ``n`` makes that many variations of each row. ``max_retries`` bounds retries of
    transient errors other than 429. ``client_options`` go to :class:`AsyncClient` (credentials,
    base_url, timeout...). Other keyword arguments are parameters for every row (a row's own
    columns win), e.g. ``model=``, ``quality=``, ``size=``.

    ``max_images_per_day`` / ``max_usd_per_day`` set the daily budgets for this call (else
    %config, else the environment): at the budget the batch stops cleanly, finished items kept and
    the rest pending for another day (``BatchResult.stopped`` says why). ``dry_run=True``
    returns a :class:`BatchDryRun` (the requests it would send, expected cache hits, estimated
    cost; its repr is the summary) and sends nothing.
    """
    job = _job(items, out_dir, **options)
    if dry_run:
        return _dry_run(job)
    job.require_credentials()  # before a progress bar is drawn or the folder is made
    display = ProgressDisplay(progress)

    async def tick() -> None:
        while True:
            display.update(job.counters)
            await asyncio.sleep(_TICK)

    ticker = asyncio.ensure_future(tick())
    try:
        return await job.run()
    finally:
        ticker.cancel()
        display.close(job.counters)


def _dry_run(job: BatchJob) -> BatchDryRun:
    """What ``job`` would do; sends and writes nothing. It is returned, not printed: a notebook
    shows it once, as the cell's result, and the command prints it."""
    return dry_run_of(job.items, job.out_dir, job.meter, resume=job.resume, retry_failed=job.retry_failed)
