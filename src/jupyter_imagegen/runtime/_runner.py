"""Running async work from a notebook cell, interruptibly.

ipykernel already runs an asyncio loop in the main thread, so a cell cannot ``asyncio.run``.
:class:`LoopThread` keeps one event loop in a daemon thread; a cell hands it a coroutine (an
executor's run, a batch) and waits on the main thread in short slices, so a kernel interrupt
(SIGINT, which Python delivers to the main thread) arrives within a slice. On interrupt the
coroutine is cancelled (closing its HTTP requests) and its cleanup waited for; what it finished
is kept by whoever it reported to.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["CANCEL_GRACE", "LoopThread"]

T = TypeVar("T")

CANCEL_GRACE = 5.0  # seconds to wait for cancelled requests to close their connections


class LoopThread:
    """One asyncio event loop in a daemon thread, started on first use."""

    def __init__(self, name: str = "jupyter-imagegen") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def current(self) -> asyncio.AbstractEventLoop | None:
        """The loop if it is running, without starting one."""
        return self._loop if self.running else None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=self._serve, args=(loop,), name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run one coroutine on the loop and wait for its result (not interruptible)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop()).result(timeout)

    def stop(self) -> None:
        """Stop the loop and wait for its thread; pending tasks are cancelled first."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or not thread.is_alive():
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(CANCEL_GRACE)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(CANCEL_GRACE)

    def wait(
        self,
        coroutine: Coroutine[Any, Any, T],
        *,
        on_tick: Callable[[], None] | None = None,
        tick: float = 0.2,
        grace: float | None = None,
    ) -> T:
        """Run ``coroutine`` on the loop and wait for it on the calling thread in slices of
        ``tick`` seconds (calling ``on_tick`` after each), so a KeyboardInterrupt (Ctrl-C, a kernel
        interrupt) reaches this thread. On one, the coroutine is cancelled, its cleanup waited for
        (at most ``grace`` seconds; None: until it ends) and the KeyboardInterrupt raised again.
        The one wait-and-interrupt loop of the package: ``Runtime.run`` and ``batch()`` use it."""
        stop, settled = threading.Event(), threading.Event()
        running: list[asyncio.Task[Any]] = []

        async def guarded() -> T:
            try:
                task = asyncio.current_task()
                running.extend([task] if task is not None else [])
                if stop.is_set():  # interrupted before it began: it never begins
                    coroutine.close()
                    raise asyncio.CancelledError
                return await coroutine
            finally:
                settled.set()

        loop = self.loop()
        future = asyncio.run_coroutine_threadsafe(guarded(), loop)
        try:
            while not settled.wait(tick) and not future.done():  # done unsettled: the loop stopped
                if on_tick is not None:
                    on_tick()
        except KeyboardInterrupt:
            stop.set()  # then read `running`: guarded() records its task before it reads `stop`
            for task in running:
                with contextlib.suppress(RuntimeError):  # the loop already closed
                    loop.call_soon_threadsafe(task.cancel)
            ends = None if grace is None else time.monotonic() + grace
            while not settled.wait(0.1) and not future.done():  # its cleanup runs on the loop
                if ends is not None and time.monotonic() > ends:
                    break
            raise
        return future.result()
