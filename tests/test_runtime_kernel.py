"""One runtime under every front end, in a real ipykernel: ``%config ImageGenMagics.*`` defaults
reach the magic, a panel created afterwards, ``%imagegen --panel`` and ``batch()`` alike."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

from jupyter_imagegen.emulator import Emulator

pytestmark = pytest.mark.slow


@pytest.fixture
def kernel(emulator_env: Emulator, tmp_path: Path) -> Iterator[BlockingKernelClient]:
    manager: KernelManager
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=dict(os.environ))
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(client: BlockingKernelClient, code: str) -> str:
    """Run ``code``; its printed output, or the error as a failed assertion."""
    printed: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])

    reply: dict[str, Any] = client.execute_interactive(code, timeout=60, output_hook=hook)
    content = reply["content"]
    assert content["status"] == "ok", f"{content.get('ename')}: {content.get('evalue')}"
    return "".join(printed)


def sent(emulator: Emulator) -> list[dict[str, Any]]:
    """The inputs of the API requests the emulator received."""
    return [r.json["input"] for r in emulator.requests if "/ai/run" in r.path]


def entries(folder: Path) -> int:
    return len(list(folder.glob("**/*.entry"))) if folder.exists() else 0


def test_config_defaults_reach_the_magic_the_panel_and_batch(
    kernel: BlockingKernelClient, emulator_env: Emulator, tmp_path: Path
) -> None:
    configured = tmp_path / "configured-cache"
    default_cache = Path(os.environ["IMAGEGEN_CACHE_DIR"])
    execute(kernel, "%load_ext jupyter_imagegen")
    execute(kernel, '%config ImageGenMagics.quality = "low"')
    execute(kernel, f"%config ImageGenMagics.cache_dir = {str(configured)!r}")
    execute(kernel, "%config ImageGenMagics.concurrency = 1")

    # The magic.
    execute(kernel, "%%imagegen -s 256x256\na fox in the magic")
    assert [body.get("quality") for body in sent(emulator_env)] == ["low"]
    assert entries(configured) == 1 and entries(default_cache) == 0

    # A panel created afterwards: prefilled, runs at the configured concurrency, same cache.
    shown = execute(
        kernel,
        "from jupyter_imagegen import ImageGenPanel\n"
        "from jupyter_imagegen.runtime._runtime import get_runtime\n"
        "panel = ImageGenPanel('a fox in the panel', params={'size': '256x256'}, variations=2)\n"
        "print(panel.params, panel.use_cache, get_runtime().concurrency)\n"
        "panel.generate()\n"
        "await panel.wait()\n"
        "print([job.state for job in panel._runner.jobs])",
    )
    assert "{'size': '256x256', 'quality': 'low'} True 1" in shown
    assert "['done', 'done']" in shown
    assert [body.get("quality") for body in sent(emulator_env)] == ["low"] * 3
    assert entries(configured) == 3 and entries(default_cache) == 0

    # The same cell again costs nothing: the magic finds what the panel and it stored.
    execute(kernel, "%%imagegen -s 256x256\na fox in the magic")
    assert len(sent(emulator_env)) == 3

    # %imagegen --panel: the options win, %config fills in the rest.
    shown = execute(
        kernel,
        "%imagegen --panel -s 512x512 a fox\n"
        "from ipywidgets.widgets.widget import _instances\n"
        "latest = [w for w in _instances.values() if isinstance(w, ImageGenPanel)][-1]\n"
        "print(latest.params)",
    )
    assert "{'size': '512x512', 'quality': 'low'}" in shown

    # batch(): the configured quality goes into every row's request.
    out = tmp_path / "batch-out"
    execute(
        kernel,
        f"from jupyter_imagegen import batch\nresult = batch(['a cat', 'an owl'], {str(out)!r}, "
        "size='256x256', progress=False)\nassert result.ok, result.summary()",
    )
    assert [body.get("quality") for body in sent(emulator_env)] == ["low"] * 5
    assert len(list(out.glob("*.png")) + list(out.glob("*.jpg")) + list(out.glob("*.webp"))) == 2
