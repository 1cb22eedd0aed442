"""Careless input is caught before anything is paid for: a misspelled model, `n` where a
variation count was meant, and parameters that the model's schema does not list."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_imagegen as ig
from jupyter_imagegen import ImageGenWarning, ValidationError
from jupyter_imagegen.emulator import Emulator


def model_calls(emulator: Emulator) -> int:
    return len([r for r in emulator.requests if r.path.endswith("/ai/run") or "/ai/run/" in r.path])


def test_a_misspelled_model_is_refused_with_the_nearest_id_and_nothing_is_sent(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = {**os.environ, **emulator.env, "IMAGEGEN_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_imagegen", "generate", "a fox", "-m", "openai/gpt-image-15"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: 'openai/gpt-image-15' is not a model: the live catalog does not list it; "
        "did you mean openai/gpt-image-1.5? (`imagegen models` lists them)."
    )
    assert model_calls(emulator) == 0
    assert any(r.path.endswith("/ai/models/schema") for r in emulator.requests)  # the catalog was asked
    # When the catalog cannot be read, the model is still sent, unchecked, with one warning:
    # test_catalog.py::test_an_unreachable_catalog_falls_back_with_one_warning.


@pytest.mark.parametrize("name", ["n", "count"])
def test_n_means_variations_and_generate_says_how_to_ask_for_them(name: str, emulator_env: Emulator) -> None:
    with pytest.raises(ValidationError) as refused:
        ig.generate("a fox", quality="low", **{name: 3})
    assert "generate_many([prompt] * 3)" in str(refused.value) and "-n" in str(refused.value)
    assert model_calls(emulator_env) == 0


def test_a_parameter_the_schema_does_not_list_warns_once_naming_the_models_parameters(
    emulator_env: Emulator,
) -> None:
    client = ig.Client()
    with pytest.warns(ImageGenWarning) as caught:
        client.prepare("a fox", model="openai/gpt-image-2", style="vivid")
    (warning,) = [w for w in caught if issubclass(w.category, ImageGenWarning)]
    assert str(warning.message) == (
        "'style' is not a parameter of openai/gpt-image-2 (it takes: background, output_format, "
        "quality, size); it is sent, and the model may ignore it."
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.prepare("an owl", model="openai/gpt-image-2", style="vivid")  # said once is enough
