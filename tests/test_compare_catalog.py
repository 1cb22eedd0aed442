"""A comparison with a model only the live catalog knows, against an emulator that serves it: its
own enum parameter is compared like any other, checked against the catalog's schema before
anything is sent, and a shipped model beside it that lacks the parameter is named in one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from catalog_support import NEW_MODEL, model_calls, new_model_emulator
from jupyter_imagegen.client._catalog import forget
from jupyter_imagegen.emulator import Emulator
from magic_support import ipython_shell, run


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    forget()
    with new_model_emulator(tmp_path / "models", monkeypatch) as server:
        yield server
    forget()


def test_a_catalog_models_own_parameter_is_compared(emulator: Emulator) -> None:
    small = "-p steps=2 -p width=64 -p height=64"
    with ipython_shell() as shell:
        refused = run(shell, f"%imagegen -m {NEW_MODEL} {small} -p palette=gameboy,sepia a fox")
        assert isinstance(refused.error, UsageError) and "palette: 'sepia' is not allowed" in str(
            refused.error
        )
        mixed = run(
            shell, f"%imagegen -m {NEW_MODEL},@cf/black-forest-labs/flux-1-schnell -p palette=cga a fox"
        )
        assert isinstance(mixed.error, UsageError)
        assert "@cf/black-forest-labs/flux-1-schnell does not take palette" in str(mixed.error)
        assert model_calls(emulator) == 0

        made = run(shell, f"%imagegen -m {NEW_MODEL} {small} -p palette=gameboy,pico-8,cga -o cmp a fox")
        assert made.error is None, made.stderr
        assert model_calls(emulator) == 3
        assert made.info()["columns"] == ["palette=gameboy", "palette=pico-8", "palette=cga"]
        assert shell.user_ns["cmp"]["cga"].params["palette"] == "cga"
