"""%%imagegen in a real ipykernel: a failing cell stops Run All with a one-line UsageError, and
the kernel's interrupt (the stop button) cancels in-flight requests and keeps finished images."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_imagegen.emulator import Emulator

pytestmark = pytest.mark.slow


@pytest.fixture
def kernel(emulator_env: Emulator, tmp_path: Path) -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=dict(os.environ))
    try:
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(client: BlockingKernelClient, code: str) -> dict[str, Any]:
    reply: dict[str, Any] = client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
    return reply["content"]  # type: ignore[no-any-return]


def test_a_failing_cell_stops_run_all_with_a_one_line_usage_error(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    cells = ["%load_ext jupyter_imagegen", "%%imagegen -q hgih\na fox", "print('not reached')"]
    book = new_notebook(cells=[new_code_cell(c) for c in cells])
    client = NotebookClient(
        book, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    with pytest.raises(CellExecutionError) as failure:
        client.execute()
    assert failure.value.ename == "UsageError"
    assert "did you mean 'high'" in failure.value.evalue and "\n" not in failure.value.evalue
    assert book.cells[2].outputs == [] and book.cells[2].execution_count is None
    assert len(emulator_env.requests) == 0
    nbformat.validate(book)


def test_kernel_interrupt_cancels_requests_and_keeps_finished_images(
    kernel: tuple[KernelManager, BlockingKernelClient], emulator_env: Emulator
) -> None:
    manager, client = kernel
    assert execute(client, "%load_ext jupyter_imagegen")["status"] == "ok"
    assert execute(client, "%%imagegen -q low -n 2\na fox")["status"] == "ok"  # samples 1-2 cached
    emulator_env.inject("hang", times=2, seconds=60)
    # stop_on_error=False: the interrupted cell must not make the kernel abort the request that
    # follows it (it aborts what arrives within a short window after a failed cell, longer on a
    # busy machine; the aborted reply carries no result).
    msg_id = client.execute("%%imagegen -q low -n 4 -o foxes\na fox", stop_on_error=False)
    assert emulator_env.wait_for_requests(4, timeout=60)  # both uncached requests are hanging
    assert len(emulator_env.requests) == 4
    # And both cached images are in: the cell's progress line says so (on a busy machine the
    # cache reads can finish after the requests were sent).
    while True:
        msg = client.get_iopub_msg(timeout=60)
        text = msg["content"].get("data", {}).get("text/plain", "")
        if msg["parent_header"].get("msg_id") == msg_id and text.startswith("generating 2/4"):
            break
    manager.interrupt_kernel()
    # The reply comes long before the hung requests would end: they were cancelled, not awaited.
    reply = client.get_shell_msg(timeout=20)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=20)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    # Read through the execute reply on the shell channel, which always carries it, rather than
    # through printed output on IOPub, which may arrive after the reply when the machine is busy.
    reply = client.execute_interactive(
        "", user_expressions={"kept": "(len(foxes), all(f.cached for f in foxes))"}, timeout=60
    )
    assert reply["content"]["status"] == "ok", reply["content"]
    kept = reply["content"]["user_expressions"]["kept"]
    assert kept["status"] == "ok", kept
    assert kept["data"]["text/plain"] == "(2, True)"
