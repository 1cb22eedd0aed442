"""Helpers for the panel tests: a stand-in for the browser that sends exactly the messages
``js/panel.js`` sends (state updates and custom messages, through ipywidgets' own message
handler) and records what the kernel sends back."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from ipywidgets.widgets.widget import _remove_buffers
from PIL import Image

from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_state import HISTORY

T = TypeVar("T")


@pytest.fixture
def fresh_history() -> Iterator[None]:
    """An empty kernel gallery before and after a test (there is one per process)."""
    HISTORY.clear()
    yield
    HISTORY.clear()


def api_requests(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if "/ai/run" in r.path]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a test scenario on an event loop, as the kernel's loop runs the panel. Anything the
    loop reports (an exception nobody retrieved, a failing callback) fails the test: in a kernel
    it would only reach the log."""
    reported: list[dict[str, Any]] = []

    async def main() -> T:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: reported.append(context))
        result = await coroutine
        # A kernel's loop keeps running after a panel closes, so its client gets closed; let the
        # closing finish here too rather than have asyncio.run cancel it.
        leftovers = asyncio.all_tasks() - {asyncio.current_task()}
        if leftovers:
            await asyncio.wait(leftovers, timeout=10)
        return result

    result = asyncio.run(main())
    if reported:
        raise AssertionError(
            f"the event loop reported: {reported[0].get('message')} {reported[0].get('exception')!r}"
        )
    return result


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for ``condition``; the timeout only keeps a broken test from hanging."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "orange") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


class FrontEnd:
    """The browser side of one panel, for tests."""

    def __init__(self, panel: ImageGenPanel) -> None:
        self.panel = panel
        self.received: list[tuple[dict[str, Any], list[bytes]]] = []  # custom messages
        self.updates: list[dict[str, Any]] = []  # state updates
        self.bytes_received = 0  # JSON and binary buffers of every comm message from the kernel
        panel.comm.publish_msg = self._record

    def _record(
        self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **_: Any
    ) -> None:
        if msg_type != "comm_msg" or not isinstance(data, dict):
            return
        blobs = [bytes(b) for b in buffers or []]
        self.bytes_received += len(json.dumps(data, default=repr)) + sum(len(b) for b in blobs)
        if data.get("method") == "custom":
            self.received.append((data["content"], blobs))
        elif data.get("method") == "update":
            self.updates.append(data["state"])

    def set(self, **state: Any) -> None:
        """``model.set(...); model.save_changes()`` in panel.js."""
        data = {"method": "update", "state": state, "buffer_paths": []}
        self._deliver({"content": {"data": data}, "buffers": []})

    def send(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        """``model.send(content, undefined, buffers)`` in panel.js."""
        data = {"method": "custom", "content": content}
        self._deliver({"content": {"data": data}, "buffers": [memoryview(b) for b in buffers or []]})

    def _deliver(self, message: dict[str, Any]) -> None:
        """Hand a message to ipywidgets as the comm does. ipywidgets logs and swallows what a
        handler raises, which is exactly the silent failure the panel must never have: fail."""
        escaped: list[logging.LogRecord] = []
        handler = _Collect(escaped)
        logger = logging.getLogger("traitlets")
        logger.addHandler(handler)
        try:
            self.panel._handle_msg(message)
        finally:
            logger.removeHandler(handler)
        if escaped:
            raise AssertionError(f"an exception escaped the panel: {escaped[0].getMessage()}")

    def replies(self, kind: str) -> list[tuple[dict[str, Any], list[bytes]]]:
        return [(content, blobs) for content, blobs in self.received if content.get("type") == kind]

    def generate(self, prompt: str | None = None, **state: Any) -> None:
        if prompt is not None:
            state["prompt"] = prompt
        if state:
            self.set(**state)
        self.send({"type": "generate"})

    def states(self) -> list[str]:
        return [job["state"] for job in self.panel.jobs]

    def saved_state(self) -> tuple[str, list[list[Any]], list[bytes]]:
        """The widget state as a notebook would save it: JSON plus the binary buffers."""
        state, paths, buffers = _remove_buffers(self.panel.get_state())
        return json.dumps(state), paths, [bytes(b) for b in buffers]
