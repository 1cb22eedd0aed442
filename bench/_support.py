"""Shared by the benchmarks: an emulator in its own process (so its CPU is not the client's),
the bare HTTP a client benchmark compares the package with, and recording a figure section in
bench/RESULTS.md."""

from __future__ import annotations

import base64
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

RESULTS = Path(__file__).with_name("RESULTS.md")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def emulator_process(latency: float = 0.0) -> Iterator[dict[str, str]]:
    """Run ``python -m jupyter_imagegen.emulator`` and yield the environment that points at it."""
    port = free_port()
    # The emulator's stderr goes to a file that is shown if the benchmark fails, so a crash in
    # the server is reported rather than seen as a client error.
    errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_imagegen.emulator", "--port", str(port), "--latency", str(latency)],
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    base = f"http://127.0.0.1:{port}/client/v4"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/__emulator__/stats", timeout=1)  # any answer will do
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.05)
        yield {
            "CLOUDFLARE_ACCOUNT_ID": "emulator-account",
            "CLOUDFLARE_API_TOKEN": "emulator-token",
            "CLOUDFLARE_BASE_URL": base,
        }
    except BaseException:
        errors.seek(0)
        text = errors.read().strip()
        if text:
            print(f"--- the emulator's stderr ---\n{text}", file=sys.stderr)
        raise
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        errors.close()


def machine() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"


def record(section: str, body: str) -> None:
    """Replace (or add) the ``## {section}`` part of RESULTS.md with ``body``."""
    text = (
        RESULTS.read_text(encoding="utf-8")
        if RESULTS.exists()
        else "# Benchmark results\n\nEach section is rewritten by its script in `bench/`; figures are from the last run.\n"
    )
    block = f"## {section}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = (
        pattern.sub(lambda _: block + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    )
    RESULTS.write_text(text, encoding="utf-8")
    print(block)


def bare_api(env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The run URL and the Authorization header of the service ``env`` names, for bare requests."""
    base = f"{env['CLOUDFLARE_BASE_URL']}/accounts/{env['CLOUDFLARE_ACCOUNT_ID']}/ai/run"
    return base, {"Authorization": f"Bearer {env['CLOUDFLARE_API_TOKEN']}"}


async def bare_async_image(
    client: httpx.AsyncClient, base: str, auth: dict[str, str], model_id: str, params: dict[str, str], i: int
) -> bytes:
    """One image the bare way, nothing checked: a flux-1-schnell answer's base64 decoded, or
    another model's image URL downloaded (the baseline of P2's floor and of P7d)."""
    if model_id == "@cf/black-forest-labs/flux-1-schnell":
        answer = await client.post(f"{base}/{model_id}", headers=auth, json={"prompt": f"fox {i}"})
        return base64.b64decode(answer.json()["result"]["image"])
    answer = await client.post(
        base, headers=auth, json={"model": model_id, "input": {"prompt": f"fox {i}", **params}}
    )
    return (await client.get(answer.json()["result"]["result"]["image"])).content
