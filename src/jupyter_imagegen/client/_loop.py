"""The event loop the blocking :class:`Client` runs its async twin on: one daemon thread per
process, started on first use (and again after a fork, which keeps no threads).

A blocking call made from that loop's own thread (the live catalog asked for a model's schema
while a request runs) cannot wait on the loop it blocks, so it runs on a second such thread.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["LOOP_THREAD_PREFIX", "WORKER_THREAD_PREFIX", "run_blocking"]

# The process-wide threads of the client (tests tell them from a request's leftovers by name).
LOOP_THREAD_PREFIX = "imagegen-client-loop"
WORKER_THREAD_PREFIX = "imagegen-client-worker"

_T = TypeVar("_T")


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        # Name resolution and blocking transports run here; idle workers stay for the next call.
        self.loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix=WORKER_THREAD_PREFIX))
        self.thread = threading.Thread(target=self._serve, name=LOOP_THREAD_PREFIX, daemon=True)
        self.pid = os.getpid()
        self.thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    @property
    def alive(self) -> bool:
        return self.pid == os.getpid() and self.thread.is_alive()


_lock = threading.Lock()
_threads: list[_LoopThread] = []


def _loop_for_caller() -> asyncio.AbstractEventLoop:
    """The first loop thread that is not the caller's own (nested calls take the next one)."""
    current = threading.current_thread()
    with _lock:
        for index, candidate in enumerate(_threads):
            if not candidate.alive:
                _threads[index] = candidate = _LoopThread()
            if candidate.thread is not current:
                return candidate.loop
        fresh = _LoopThread()
        _threads.append(fresh)
        return fresh.loop


def run_blocking(work: Coroutine[Any, Any, _T]) -> _T:
    """Run ``work`` on the client loop and wait for it; an interrupt (Ctrl-C, a kernel's
    interrupt) cancels it there, so its connection is closed rather than left reading."""
    future = asyncio.run_coroutine_threadsafe(work, _loop_for_caller())
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise
