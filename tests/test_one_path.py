"""One parameter (``quality``) from each front end to the wire: every request is made by the one
request builder and sent by the one executor, against the emulator over loopback.

The builder and the executor are watched, not replaced: each spy records its call and then
calls the real code, so the images still come from the emulator."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import jupyter_imagegen as ig
from jupyter_imagegen import ImageGenPanel, ImageRequest
from jupyter_imagegen.cli import main as cli_main
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.runtime import Executor
from magic_support import ipython_shell
from magic_support import run as run_cell
from panel_support import FrontEnd, api_requests, fresh_history  # noqa: F401 (fresh_history: a fixture)
from panel_support import run as run_panel


@dataclass
class Watch:
    built: list[tuple[str, bool]] = field(default_factory=list)  # (prompt, made inside build_requests)
    executed: list[ImageRequest] = field(default_factory=list)

    def reset(self) -> None:
        self.built.clear()
        self.executed.clear()


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Watch]:
    seen = Watch()
    create, fetch = ImageRequest.create, Executor.fetch

    def watched_create(*args: Any, **kwargs: Any) -> ImageRequest:
        request = create(*args, **kwargs)
        callers = {frame.function for frame in inspect.stack(context=0)}
        seen.built.append((request.prompt, "build_requests" in callers))
        return request

    async def watched_fetch(self: Executor, request: ImageRequest, **options: Any) -> Any:
        seen.executed.append(request)
        return await fetch(self, request, **options)

    monkeypatch.setattr(ImageRequest, "create", staticmethod(watched_create))
    monkeypatch.setattr(Executor, "fetch", watched_fetch)
    yield seen


def _walked(watch: Watch, emulator: Emulator, prompt: str) -> None:
    """``prompt`` was built by the builder, executed by the executor, and sent with quality low."""
    assert (prompt, True) in watch.built, watch.built
    assert all(inside for _, inside in watch.built), f"a request built outside the builder: {watch.built}"
    assert [(r.prompt, r.params.get("quality")) for r in watch.executed] == [(prompt, "low")]
    (sent,) = [r.json for r in api_requests(emulator) if r.json["input"]["prompt"] == prompt]
    assert sent["input"]["quality"] == "low"


def test_the_magic(emulator_env: Emulator, watch: Watch) -> None:
    with ipython_shell() as shell:
        ran = run_cell(shell, "%%imagegen -q low\na fox from the magic\n")
    assert ran.error is None and len(ran.images) == 1
    _walked(watch, emulator_env, "a fox from the magic")


def test_the_command(emulator_env: Emulator, watch: Watch, tmp_path: Path) -> None:
    out = tmp_path / "fox.png"
    assert cli_main(["generate", "a fox from the command", "--quality", "low", "-o", str(out)]) == 0
    assert out.stat().st_size > 0
    _walked(watch, emulator_env, "a fox from the command")


def test_the_python_api(emulator_env: Emulator, watch: Watch) -> None:
    image = ig.generate("a fox from python", quality="low")
    assert image.prompt == "a fox from python"
    _walked(watch, emulator_env, "a fox from python")


def test_a_batch(emulator_env: Emulator, watch: Watch, tmp_path: Path) -> None:
    result = ig.batch(["a fox from a batch"], tmp_path / "out", quality="low", progress=False)
    assert result.generated == 1
    _walked(watch, emulator_env, "a fox from a batch")


@pytest.mark.usefixtures("fresh_history")
def test_the_panel(emulator_env: Emulator, watch: Watch) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel()
        watch.reset()  # what the panel checked while it was made is not this request
        FrontEnd(panel).generate("a fox from the panel", params={"quality": "low"})
        await panel.wait()
        assert [job.state for job in panel._runner.jobs] == ["done"]
        panel.close()

    run_panel(scenario())
    _walked(watch, emulator_env, "a fox from the panel")
