"""%%imagegen in a real InteractiveShell against the emulator: loading, display, the cache,
errors and interrupts. Option-by-option behaviour is in test_magic_options.py."""

from __future__ import annotations

import _thread
import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_imagegen import GeneratedImage
from jupyter_imagegen.client._display import PREVIEW_BUDGET
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._magic import ImageGenMagics
from jupyter_imagegen.runtime._cache import ImageCache
from magic_support import ipython_shell, run


@pytest.fixture
def shell(emulator_env: Emulator) -> Iterator[InteractiveShell]:
    with ipython_shell() as ipython:
        yield ipython


def magics(shell: InteractiveShell) -> ImageGenMagics:
    found = shell.magics_manager.registry["ImageGenMagics"]
    assert isinstance(found, ImageGenMagics)
    return found


def test_load_registers_line_and_cell_magic_and_unload_removes_them(shell: InteractiveShell) -> None:
    assert "imagegen" in shell.magics_manager.magics["cell"]
    assert "imagegen" in shell.magics_manager.magics["line"]
    assert any(isinstance(c, ImageGenMagics) for c in shell.configurables)
    shell.run_line_magic("unload_ext", "jupyter_imagegen")
    assert "imagegen" not in shell.magics_manager.magics["cell"]
    assert not any(isinstance(c, ImageGenMagics) for c in shell.configurables)
    assert isinstance(run(shell, "%imagegen a fox").error, UsageError)  # no such magic any more
    shell.run_line_magic("load_ext", "jupyter_imagegen")
    assert run(shell, "%imagegen -q low a fox").error is None


def test_question_mark_shows_the_full_help(shell: InteractiveShell) -> None:
    ran = run(shell, "%imagegen?")
    for option in ("--model", "--quality", "--grid", "--display-format", "--save", "--param", "%config"):
        assert option in ran.stdout


def test_one_image_one_mime_type_with_metadata_and_status(
    shell: InteractiveShell, emulator: Emulator, tmp_path: Path
) -> None:
    ran = run(shell, "%%imagegen -q low\na red fox in the snow\n")
    assert ran.error is None
    assert len(ran.images) == 1 and len(ran.image_types()) == 1
    info = ran.info()
    assert info["prompt"] == "a red fox in the snow" and info["model"] == "openai/gpt-image-1.5"
    assert info["params"] == {"quality": "low"} and info["cached"] is False
    assert info["log_id"] and info["elapsed"] >= 0
    assert ran.texts[0] == "generating 0/1 · 0 s"  # the live placeholder...
    assert ran.status.startswith("openai/gpt-image-1.5 · 1024x1024 · ")  # ...ends as the status line
    assert len(emulator.requests) == 1
    assert emulator.token not in repr([o.data for o in ran.outputs]) + ran.stdout + ran.stderr
    stored = [path.read_bytes() for path in (tmp_path / "cache").rglob("*") if path.is_file()]
    assert stored and not any(emulator.token.encode() in data for data in stored)


def test_default_display_of_a_photo_like_image_stays_under_budget(shell: InteractiveShell) -> None:
    ran = run(shell, "%%imagegen -q low -s 1024x1024 -o fox\na fox\n")
    fox = shell.user_ns["fox"]
    assert isinstance(fox, GeneratedImage) and len(fox.data) > PREVIEW_BUDGET  # a large original...
    assert ran.image_types() == ["image/jpeg"]
    assert len(ran.images[0].data["image/jpeg"]) <= 250_000  # ...a small preview, base64 included
    assert ran.pil().size == (1024, 1024)


def test_identical_cell_is_served_from_cache_with_a_visible_mark(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    first = run(shell, "%%imagegen -q low -n 2 -o a\na red fox\n")
    assert len(emulator.requests) == 2
    second = run(shell, "%%imagegen -q low -n 2 -o b\na red fox\n")
    assert second.error is None and len(emulator.requests) == 2
    assert "all cached" in second.status
    assert [i["cached"] for i in second.info()["images"]] == [True, True]
    assert "cached" in second.info()["captions"][0]
    assert [x.data for x in shell.user_ns["a"]] == [x.data for x in shell.user_ns["b"]]
    assert first.info()["images"][0]["log_id"] == second.info()["images"][0]["log_id"]


def test_cache_survives_a_new_shell(emulator_env: Emulator) -> None:
    with ipython_shell() as first:
        run(first, "%%imagegen -q low -o a\na lighthouse\n")
        original = first.user_ns["a"].data
    assert len(emulator_env.requests) == 1
    with ipython_shell() as second:  # as after Restart & Run All
        ran = run(second, "%%imagegen -q low -o a\na lighthouse\n")
        assert ran.status.endswith("· cached") and second.user_ns["a"].data == original
    assert len(emulator_env.requests) == 1


def test_refresh_makes_a_new_sample_and_replaces_the_entry(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    run(shell, "%%imagegen -q low -o a\na fox\n")
    run(shell, "%%imagegen -q low --refresh -o b\na fox\n")
    assert len(emulator.requests) == 2 and emulator.requests[1].headers.get("cf-aig-skip-cache") == "true"
    assert shell.user_ns["a"].data != shell.user_ns["b"].data
    run(shell, "%%imagegen -q low -o c\na fox\n")
    assert len(emulator.requests) == 2 and shell.user_ns["c"].data == shell.user_ns["b"].data


def test_display_previews_are_reused_from_the_cache(shell: InteractiveShell, tmp_path: Path) -> None:
    first = run(shell, "%imagegen -q low a fox")
    previews = list((tmp_path / "cache").rglob("*.auto.preview"))
    assert len(previews) == 1
    previews[0].write_bytes(b"image/jpeg 0000\nnot a preview")  # damaged: made again, not shown
    second = run(shell, "%imagegen -q low a fox")
    jpeg = first.images[0].data["image/jpeg"]
    assert second.images[0].data["image/jpeg"] == jpeg
    assert run(shell, "%imagegen -q low a fox").images[0].data["image/jpeg"] == jpeg


def test_cache_can_be_turned_off_with_config(shell: InteractiveShell, emulator: Emulator) -> None:
    shell.run_line_magic("config", "ImageGenMagics.cache = False")
    run(shell, "%imagegen -q low a fox")
    ran = run(shell, "%imagegen -q low a fox")
    assert len(emulator.requests) == 2 and "cached" not in ran.status


def test_a_corrupt_cache_entry_is_regenerated(
    shell: InteractiveShell, emulator: Emulator, tmp_path: Path
) -> None:
    run(shell, "%imagegen -q low a fox")
    entries = list((tmp_path / "cache").rglob("*.entry"))
    assert len(entries) == 1
    entries[0].write_bytes(entries[0].read_bytes()[:100])
    ran = run(shell, "%imagegen -q low a fox")
    assert ran.error is None and len(ran.images) == 1 and len(emulator.requests) == 2
    assert ImageCache(tmp_path / "cache").stats().entries == 1


def test_missing_credentials_is_one_line_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with ipython_shell() as ipython:
        ran = run(ipython, "%%imagegen\na fox\n")
    assert isinstance(ran.error, UsageError) and not ran.result.success
    assert ran.stderr.strip().count("\n") == 0, ran.stderr
    assert "CLOUDFLARE_ACCOUNT_ID" in ran.stderr and "CLOUDFLARE_API_TOKEN" in ran.stderr
    assert "emulator" in ran.stderr and "Traceback" not in ran.stderr + ran.stdout


def test_validation_errors_are_usage_errors_and_send_nothing(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    ran = run(shell, "%%imagegen -q hgih\na fox\n")
    assert isinstance(ran.error, UsageError)
    assert "did you mean 'high'" in ran.stderr and "Traceback" not in ran.stderr
    assert len(emulator.requests) == 0 and ran.images == []


def test_service_errors_are_usage_errors(shell: InteractiveShell, emulator: Emulator) -> None:
    emulator.inject("moderation")
    ran = run(shell, "%imagegen -q low a fox")
    assert isinstance(ran.error, UsageError) and "Traceback" not in ran.stderr
    assert ran.status == "no image · 1 failed"


def test_partial_failure_shows_the_rest_and_fails_the_cell(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    emulator.inject("moderation")
    ran = run(shell, "%%imagegen -q low -n 3 -o foxes\na fox\n")
    assert isinstance(ran.error, UsageError) and "1 of 3 images failed" in str(ran.error)
    assert len(ran.images) == 1 and ran.info()["captions"].count("failed") == 0
    assert sum(c.endswith("failed") for c in ran.info()["captions"]) == 1
    assert len(shell.user_ns["foxes"]) == 2


def test_interrupt_cancels_in_flight_requests_and_keeps_finished_images(
    shell: InteractiveShell, emulator: Emulator
) -> None:
    run(shell, "%%imagegen -q low -n 2\na fox\n")  # variations 1 and 2 are now cached
    # Two at a time, in order: the cached pair is finished before the other two are sent, so the
    # interrupt below always finds them done, however slow the cache reads are on a busy machine.
    run(shell, "%config ImageGenMagics.concurrency = 2")
    emulator.inject("hang", times=2, seconds=30)

    def interrupt_when_both_hang() -> None:
        emulator.wait_for_requests(4, timeout=60)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_when_both_hang, daemon=True).start()
    ran = run(shell, "%%imagegen -q low -n 4 -o foxes\na fox\n")
    assert isinstance(ran.error, KeyboardInterrupt)
    assert "2 finished image(s) kept in foxes" in str(ran.error)
    assert len(shell.user_ns["foxes"]) == 2 and all(f.cached for f in shell.user_ns["foxes"])
    assert len(ran.images) == 1 and ran.info()["captions"][2:] == ["#3 · cancelled", "#4 · cancelled"]
    assert "interrupted: 2 cancelled" in ran.status
    loop = magics(shell).runtime.loop.loop()
    pending = asyncio.run_coroutine_threadsafe(_count_tasks(), loop).result(5)
    assert pending == 0  # nothing left running in the background
    assert run(shell, "%imagegen -q low the kernel still works").error is None


async def _count_tasks() -> int:
    return len(asyncio.all_tasks()) - 1


def test_panel_option_shows_the_panel_prefilled_from_the_options(shell: InteractiveShell) -> None:
    from ipywidgets.widgets.widget import _instances

    from jupyter_imagegen import ImageGenPanel

    ran = run(shell, "%imagegen --panel -m @cf/black-forest-labs/flux-1-schnell -n 2 a fox at dawn")
    assert ran.error is None
    (shown,) = [o for o in ran.outputs if "application/vnd.jupyter.widget-view+json" in o.data]
    model_id = shown.data["application/vnd.jupyter.widget-view+json"]["model_id"]
    panel = _instances[model_id]
    assert isinstance(panel, ImageGenPanel)
    assert (panel.prompt, panel.model, panel.variations) == (
        "a fox at dawn",
        "@cf/black-forest-labs/flux-1-schnell",
        2,
    )
    panel.close()
