"""The one wait-and-interrupt loop: LoopThread.wait, under Runtime.run and batch()."""

from __future__ import annotations

import asyncio
import threading

import pytest

from jupyter_imagegen.runtime._runner import LoopThread


def test_an_interrupt_cancels_the_work_and_waits_for_its_cleanup() -> None:
    thread = LoopThread("test-runner")
    began, cleaned = threading.Event(), threading.Event()

    async def forever() -> None:
        began.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # cleanup that needs the loop, as closing connections does
            cleaned.set()

    def ctrl_c() -> None:  # Ctrl-C arriving while the caller waits
        if began.is_set():
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            thread.wait(forever(), on_tick=ctrl_c, tick=0.01)
        assert cleaned.is_set()  # the cleanup ran before the interrupt reached the caller
        assert thread.wait(asyncio.sleep(0, result="the loop still serves")) == "the loop still serves"
    finally:
        thread.stop()


def test_a_result_and_an_error_come_back_as_they_are() -> None:
    thread = LoopThread("test-runner")

    async def fails() -> None:
        raise ValueError("from the loop")

    try:
        with pytest.raises(ValueError, match="from the loop"):
            thread.wait(fails())
    finally:
        thread.stop()
