"""What ``imagegen lab`` and ``imagegen app`` share: a server process run in the foreground,
on an in-process emulator when no credentials are set."""

from __future__ import annotations

import errno
import signal
import socket
import subprocess
from collections.abc import Callable, MutableMapping
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..emulator import Emulator

from .._exceptions import ConfigurationError

__all__ = [
    "CREDENTIALS",
    "bind_error",
    "check_port_free",
    "emulator_unless_credentials",
    "port_in_use",
    "run_in_foreground",
]

CREDENTIALS = ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN")


def emulator_unless_credentials(env: MutableMapping[str, str]) -> Emulator | None:
    """None when ``env`` has credentials; else a started emulator, its settings put in ``env``
    and its address said loudly in the terminal."""
    if all(env.get(name) for name in CREDENTIALS):
        return None
    from ..client import emulator_banner
    from ..emulator import Emulator

    emulator = Emulator(port=0).start()
    env.update(emulator.env)
    print(emulator_banner(emulator.base_url), flush=True)
    print("(CLOUDFLARE_ACCOUNT_ID / CLOUDFLARE_API_TOKEN are not set.)", flush=True)
    return emulator


def port_in_use(host: str, port: int, reason: str) -> ConfigurationError:
    """The one message for a port the command cannot listen on."""
    return ConfigurationError(f"cannot listen on {host}:{port}: {reason}; choose another port with --port.")


def bind_error(port: int, host: str = "127.0.0.1") -> OSError | None:
    """Why ``port`` cannot be listened on now, or None when it is free."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc
    return None


def check_port_free(port: int, host: str = "127.0.0.1") -> None:
    """Raise the one-line error now if ``port`` is taken, before a server starts and fails with a
    log of its own (and before an emulator is started for it)."""
    exc = bind_error(port, host)
    if exc is not None:
        reason = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise port_in_use(host, port, reason)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_in_foreground(
    server: subprocess.Popen[bytes],
    emulator: Emulator | None,
    started: Callable[[], None] | None = None,
) -> int:
    """Wait for ``server`` (calling ``started`` first) until it exits, Ctrl-C or SIGTERM; its exit
    status, or 130 when interrupted. The server and the emulator are stopped either way."""
    # A terminated launcher must not orphan the server: treat SIGTERM like Ctrl-C.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if started is not None:
            started()
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        return 130
    finally:
        if emulator is not None:
            emulator.stop()
