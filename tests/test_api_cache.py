"""The Python API's cache default, one runtime setting: generate() and generate_many() make a new
sample each call unless ``api_cache`` is on, and then ``refresh=True`` still asks for a new one."""

from __future__ import annotations

import pytest

import jupyter_imagegen as ig
from jupyter_imagegen.emulator import Emulator


def api_calls(emulator: Emulator) -> int:
    return len([r for r in emulator.requests if "/ai/run" in r.path])


def test_generate_makes_a_new_sample_by_default(emulator_env: Emulator) -> None:
    first = ig.generate("a fox", size="256x256")
    second = ig.generate("a fox", size="256x256")
    assert api_calls(emulator_env) == 2 and not first.cached and not second.cached


def test_api_cache_on_reuses_identical_requests_and_refresh_pays(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_API_CACHE", "1")
    first = ig.generate("a fox", size="256x256")
    again = ig.generate("a fox", size="256x256")
    assert api_calls(emulator_env) == 1 and again.cached and again.data == first.data
    fresh = ig.generate("a fox", size="256x256", refresh=True)
    assert api_calls(emulator_env) == 2 and not fresh.cached
    many = ig.generate_many(["a fox", "an owl"], size="256x256")
    assert api_calls(emulator_env) == 3  # only the owl was new
    assert [image.cached for image in many.images] == [True, False]


def test_the_cache_switch_turns_the_api_cache_off_too(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_API_CACHE", "1")
    monkeypatch.setenv("IMAGEGEN_CACHE", "0")
    ig.generate("a fox", size="256x256")
    ig.generate("a fox", size="256x256")
    assert api_calls(emulator_env) == 2
