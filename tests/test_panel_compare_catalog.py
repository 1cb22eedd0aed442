"""A panel comparison with a model only the live catalog knows: checking the form as it changes
never waits on the catalog (the model is read when Generate is pressed), and its own enum
parameter is compared like any other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_support import NEW_MODEL, model_calls, new_model_emulator
from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.client import get_model
from jupyter_imagegen.client._catalog import forget
from jupyter_imagegen.emulator import Emulator
from panel_support import FrontEnd, fresh_history, run, until

pytestmark = pytest.mark.usefixtures(fresh_history.__name__)

FLUX = "@cf/black-forest-labs/flux-1-schnell"


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    forget()
    with new_model_emulator(tmp_path / "models", monkeypatch) as server:
        yield server
    forget()


def schema_reads(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if "/ai/models/schema" in r.path)


def test_a_catalog_model_is_read_at_generate_not_while_the_form_changes(emulator: Emulator) -> None:
    async def scenario() -> None:
        panel = ImageGenPanel(model=FLUX, params={"steps": 2})
        front = FrontEnd(panel)
        await until(lambda: NEW_MODEL in panel.models)  # the live list follows the panel
        assert get_model(NEW_MODEL).origin == "unknown"
        front.set(prompt="a fox", compare={"model": [FLUX, NEW_MODEL]})
        assert panel.validity == {
            "valid": True,
            "reason": f"Compares 2 images; {NEW_MODEL}: read from the live catalog at Generate.",
        }
        assert schema_reads(emulator) == 0
        front.send({"type": "generate"})
        await panel.wait()
        message = front.replies("comparison")[-1][0]
        assert schema_reads(emulator) == 1  # read once, when Generate planned the matrix
        assert [cell["labels"] for cell in message["cells"]] == [[FLUX], [NEW_MODEL]]
        assert [cell["state"] for cell in message["cells"]] == ["done", "done"]
        # Known now: its own enum parameter compares, checked against the catalog's schema.
        front.set(model=NEW_MODEL, compare={"palette": ["gameboy", "cga"]}, params={"steps": 2})
        assert panel.validity["reason"].startswith("Compares 2 palette: 2 images"), panel.validity
        panel.close()

    run(scenario())
    assert model_calls(emulator) == 2
