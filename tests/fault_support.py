"""Helpers for the reliability tests: the fault cases and what the user must see for each, leak
accounting (threads, file descriptors, client sockets), a free port nobody listens on, a server
that trickles its answer to defeat a read timeout, and a scanner that searches everything a user
can see or keep for the API token."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from jupyter_imagegen import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    ContentPolicyError,
    ImageDownloadError,
    ImageGenError,
    RateLimitError,
    ServerError,
)
from jupyter_imagegen.client._loop import WORKER_THREAD_PREFIX, run_blocking

# Fault tests use small images and short waits so the whole matrix stays quick.
Model = tuple[str, dict[str, Any]]
URL_MODEL: Model = ("openai/gpt-image-1.5", {"size": "256x256"})
# flux answers with base64 JPEG: a truncated JPEG is the case Pillow verify() misses.
BASE64_MODEL: Model = ("@cf/black-forest-labs/flux-1-schnell", {"steps": 4})
BINARY_MODEL: Model = ("@cf/stabilityai/stable-diffusion-xl-base-1.0", {"width": 256, "height": 256})
MODELS: dict[str, Model] = {"url": URL_MODEL, "base64": BASE64_MODEL, "binary": BINARY_MODEL}


# Short enough that a hang ends quickly, long enough for a loaded CI machine to render 256x256.
TIMEOUT = httpx.Timeout(5.0, read=1.0)
CAP = 1_000_000  # max_image_bytes: the oversize fault sends 3 MB


@dataclass(frozen=True)
class Case:
    """One fault: how to inject it, on which kind of model, and what the user must get."""

    kind: str
    error: type[ImageGenError]
    match: str
    model: str = "url"
    options: dict[str, Any] = field(default_factory=dict)
    retried: bool = False  # a transient fault: one occurrence is absorbed by a retry

    @property
    def id(self) -> str:
        extra = "-".join(f"{k}={v}" for k, v in self.options.items() if k != "seconds")
        return "-".join(part for part in (self.kind, extra, self.model) if part)


CASES = [
    Case(
        "rate_limit",
        RateLimitError,
        r"HTTP 429, Cloudflare code 3040",
        options={"retry_after": 0.05},
        retried=True,
    ),
    Case("rate_limit", RateLimitError, r"HTTP 429, Cloudflare code 3040", retried=True),
    Case("daily_limit", RateLimitError, r"daily free allocation.*Not retried"),
    *(
        Case("server_error", ServerError, rf"HTTP {s}.*try again", options={"status": s}, retried=True)
        for s in (500, 502, 503)
    ),
    Case("truncated", APIConnectionError, r"peer closed connection without sending complete", retried=True),
    Case("reset", APIConnectionError, r"disconnected without sending a response", retried=True),
    Case("hang", APITimeoutError, r"within the read timeout", options={"seconds": 30}),
    Case("malformed_json", APIResponseError, r"neither JSON nor an image"),
    Case("bad_image_string", APIResponseError, r"neither an https URL nor valid base64"),
    Case("bad_image_string", APIResponseError, r"neither an https URL nor valid base64", "base64"),
    Case("bad_image_string", APIResponseError, r"not a PNG, JPEG, WebP or GIF", "binary"),
    *(Case("truncated_base64", APIResponseError, r"damaged or incomplete", m) for m in MODELS),
    Case("expired_url", ImageDownloadError, r"HTTP 404: it has probably expired"),
    *(Case("not_an_image", APIResponseError, r"not a PNG, JPEG, WebP or GIF", m) for m in MODELS),
    *(
        Case("decompression_bomb", APIResponseError, r"900,000,000 pixels.*decompression bomb", m)
        for m in MODELS
    ),
    Case(
        "redirect_insecure", ImageDownloadError, r"Refusing to download the image from http://example.invalid"
    ),
    *(
        Case(
            "oversize",
            APIResponseError,
            r"over the 1,000,000 bytes limit .*not read",
            m,
            options={"bytes": 3_000_000},
        )
        for m in MODELS
    ),
    Case("moderation", ContentPolicyError, r"safety system.*rephrase the prompt"),
    Case("failed_state", ServerError, r"provider_unavailable", retried=True),
]
FINAL = [c for c in CASES if not c.retried]
TRANSIENT = [c for c in CASES if c.retried]


def assert_readable(error: BaseException, case: Case) -> None:
    """A specific error whose text is one plain sentence or a few, naming what went wrong."""
    assert type(error) is case.error, f"{case.id}: got {type(error).__name__}: {error}"
    assert_readable_text(str(error), case)


def assert_readable_text(text: str, case: Case) -> None:
    """What a front end shows for the case: the core's message, one line."""
    assert re.search(case.match, text), text
    assert "\n" not in text and ".." not in text and "Traceback" not in text
    assert 20 < len(text) < 600


def free_port() -> int:
    """A loopback port with nothing listening on it (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _socket_inodes() -> set[str]:
    inodes = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # closed while listing
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def client_sockets(port: int) -> int:
    """How many sockets this process holds that are connected TO ``port`` (client side)."""
    mine = _socket_inodes()
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                rows = handle.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[9] in mine:
                count += 1
    return count


def fd_count() -> int:
    """Open descriptors, but for the locks a kernel holds on its panel's folders of originals for
    as long as it runs (they tell the next kernel the folder is in use; see _panel_originals)."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor)
        if not (target.endswith("/.lock") and "/.panel-" in target):
            count += 1
    return count


@dataclass
class Snapshot:
    threads: set[threading.Thread]
    fds: int


def snapshot() -> Snapshot:
    # The blocking client's loop thread lives as long as the process: started first, so that a
    # test that starts it does not count its thread and descriptors as left behind.
    run_blocking(asyncio.sleep(0))
    return Snapshot(set(threading.enumerate()), fd_count())


def settle(before: Snapshot, timeout: float = 5.0) -> tuple[list[str], int]:
    """Wait (briefly) for stray threads and descriptors to go; return what is still left over:
    the names of new threads and how many more descriptors are open than before. The client
    loop's idle worker threads are a pool kept for the process, not a request's leftovers."""
    deadline = time.monotonic() + timeout
    while True:
        extra = [
            t
            for t in threading.enumerate()
            if t not in before.threads and t.is_alive() and not t.name.startswith(WORKER_THREAD_PREFIX)
        ]
        fds = fd_count() - before.fds
        if (not extra and fds <= 0) or time.monotonic() > deadline:
            return [t.name for t in extra], fds
        time.sleep(0.02)


class DripServer:
    """An HTTP server that declares a body and sends it one byte every ``interval`` seconds:
    every single read is quick, so only a deadline on the whole answer can end it."""

    def __init__(self, interval: float = 0.05, size: int = 100_000) -> None:
        self.interval = interval
        self.size = size
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, name="drip-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.recv(65536)
                head = f"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {self.size}\r\n\r\n"
                try:
                    connection.sendall(head.encode() + b"\x89PNG\r\n\x1a\n")
                    while not self.stopping.wait(self.interval):
                        connection.sendall(b"\0")
                except OSError:
                    continue  # the client gave up: what the test wants

    @contextmanager
    def running(self) -> Iterator[DripServer]:
        self.thread.start()
        try:
            yield self
        finally:
            self.stopping.set()
            self.thread.join(5)
            self.listener.close()


# -- secret scanning ----------------------------------------------------------------------

TOKEN = "tok-SECRET-5f0c2a9e7d1b4c3a8e6f"
WRONG = "tok-SECRET-wrong-91d2e7c4b8a0"  # a token the service rejects must not show either
ODD = "tok-SECRET+odd/9c4e\\'a7="  # its escaped and URL-encoded forms differ from the raw one
TESTS = str(Path(__file__).parent)  # frames of test code hold the token on purpose


def forms(token: str) -> list[str]:
    """The token as it could appear anywhere: raw, escaped by repr() or JSON, URL-encoded, and
    base64-encoded at each of the three byte alignments it can take inside a longer text."""
    found = {token, repr(token)[1:-1], json.dumps(token)[1:-1], quote(token, safe=""), quote_plus(token)}
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + token.encode()).decode()
            found.add(encoded[4:-4])  # the part that does not depend on the neighbouring bytes
    return sorted(found)


NEEDLES = [
    *forms(TOKEN),
    *forms(WRONG),
    *forms(ODD),
    TOKEN[11:23],  # a fragment: catches a token cut short
]


class Scan:
    """Everything a user could see or keep, by name; then every needle is searched in all of it."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes]] = []

    def add(self, name: str, value: Any) -> None:
        if isinstance(value, bytes):
            data = value
        elif isinstance(value, str):
            data = value.encode("utf-8", "surrogatepass")
        else:
            data = json.dumps(value, default=repr).encode()
        self.items.append((name, data))

    def error(self, name: str, error: BaseException) -> None:
        self.add(f"{name}: str", str(error))
        self.add(f"{name}: repr", repr(error))
        self.add(f"{name}: attributes", {k: repr(v) for k, v in vars(error).items()})
        # With every frame's local variables, as %xmode Verbose and debuggers show them; the
        # test's own frames are left out (they hold the token to configure the client).
        trace = traceback.TracebackException.from_exception(error, capture_locals=True)
        trace.stack = traceback.StackSummary.from_list(
            [frame for frame in trace.stack if not frame.filename.startswith(TESTS)]
        )
        assert trace.stack, "no frame of the package to look at"
        self.add(f"{name}: traceback with locals", "".join(trace.format()))

    def files(self, folder: Path) -> None:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            self.add(f"file {path.relative_to(folder)}", path.read_bytes())

    def assert_clean(self, label: str) -> None:
        leaks = [
            (name, needle)
            for name, data in self.items
            for needle in NEEDLES
            if needle.encode() in data or needle.encode("utf-16-le") in data
        ]
        total = sum(len(data) for _, data in self.items)
        print(
            f"\nsecret scan [{label}]: {len(self.items)} artefacts, {total:,} bytes, {len(leaks)} occurrences"
        )
        assert leaks == [], f"the token leaked into: {leaks}"


def capture_logs(caplog: pytest.LogCaptureFixture, scan: Scan) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = "\n".join(formatter.format(record) for record in caplog.records)
    scan.add(f"DEBUG log ({len(caplog.records)} records)", records)
