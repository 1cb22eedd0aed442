"""The blocking Client runs the async client's code on a loop thread: a Ctrl-C in the caller's
thread cancels the request there (its connection is closed, not left reading), and a blocking
call made from that loop thread itself (the live catalog, asked while a request runs) runs on
another loop instead of waiting for the one it blocks."""

from __future__ import annotations

import signal
import socket
import threading

import pytest

from jupyter_imagegen import Client, GeneratedImage
from jupyter_imagegen.client._loop import run_blocking
from jupyter_imagegen.emulator import Emulator
from test_hostile_answers import raw_server


def test_ctrl_c_cancels_the_request_and_closes_its_connection() -> None:
    asked, closed = threading.Event(), threading.Event()

    def hold(connection: socket.socket, line: str) -> None:
        asked.set()
        connection.settimeout(30)
        if connection.recv(1) == b"":  # the client closed its end
            closed.set()

    main = threading.main_thread().ident
    assert main is not None and threading.current_thread() is threading.main_thread()

    def interrupt() -> None:
        if asked.wait(30):
            signal.pthread_kill(main, signal.SIGINT)

    with raw_server(hold) as base:
        sender = threading.Thread(target=interrupt, daemon=True)
        sender.start()
        client = Client(account_id="a", api_token="t", base_url=f"{base}/client/v4")
        try:
            with pytest.raises(KeyboardInterrupt):
                client.generate("a fox", model="@cf/black-forest-labs/flux-1-schnell")
            sender.join()
            # Before the client is closed (which would close every connection anyway).
            assert closed.wait(10), "the interrupted request kept its connection open"
        finally:
            client.close()


def test_a_blocking_call_from_the_client_loop_runs_on_another_loop(emulator: Emulator) -> None:
    settings = dict(account_id=emulator.account_id, api_token=emulator.token, base_url=emulator.base_url)

    async def nested() -> tuple[GeneratedImage, str]:
        with Client(**settings) as inner:  # type: ignore[arg-type]
            image = inner.generate("a fox", model="@cf/black-forest-labs/flux-1-schnell")
        return image, threading.current_thread().name

    image, outer_thread = run_blocking(nested())
    assert outer_thread.startswith("imagegen-client-loop")
    assert image.mime_type.startswith("image/") and len(emulator.requests) == 1
