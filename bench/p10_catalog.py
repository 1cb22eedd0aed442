"""P10: what the live catalog costs a request for a model the package does not ship.

Baseline: ``Client.prepare`` (offline validation) for a shipped model. Then the same for a model
only the catalog knows: steady state (schema in memory), a new process (schema read from disk)
and first use (schema read over loopback HTTP from an emulator started with a model folder).
Target: steady state within 2x of the baseline. Run: python bench/p10_catalog.py
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from jupyter_imagegen import Client
from jupyter_imagegen.client._catalog import forget
from jupyter_imagegen.emulator import Emulator

from _support import machine, record

NEW = "@cf/acme/pixel-forge"
SCHEMA = {
    "name": NEW,
    "schema": {
        "input": {
            "type": "object",
            "properties": {
                "prompt": {"type": "string"},
                "steps": {"type": "integer", "minimum": 1, "maximum": 8},
                "width": {"type": "integer", "minimum": 64, "maximum": 1024},
            },
            "additionalProperties": False,
        },
        "output": {"type": "string", "contentType": "image/png", "format": "binary"},
    },
}
ROUNDS = 200


def _median_ms(action: Callable[[], object], before: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(ROUNDS):
        if before is not None:
            before()
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp, "models")
        folder.mkdir()
        (folder / "pixel.json").write_text(json.dumps(SCHEMA))
        os.environ["IMAGEGEN_CACHE_DIR"] = str(Path(temp, "cache"))
        catalog = Path(temp, "cache-catalog")
        with Emulator(models_dir=folder) as emulator:
            os.environ.update(emulator.env)
            with Client() as client:
                shipped = _median_ms(
                    lambda: client.prepare("a fox", model="@cf/black-forest-labs/flux-1-schnell", steps=4)
                )
                client.prepare("warm", model=NEW, steps=2)
                steady = _median_ms(lambda: client.prepare("a fox", model=NEW, steps=2, width=256))
                from_disk = _median_ms(lambda: client.prepare("a fox", model=NEW, steps=2), before=forget)

                def cold() -> None:
                    forget()
                    for path in catalog.rglob("schema-*.json"):
                        path.unlink()

                first_use = _median_ms(lambda: client.prepare("a fox", model=NEW, steps=2), before=cold)
    ratio = steady / shipped
    verdict = "meets" if ratio <= 2 else "misses"
    record(
        "P10 live catalog overhead",
        f"""
`Client.prepare` for one request, median of {ROUNDS} ({machine()}).

| model | ms | vs shipped |
|---|---|---|
| shipped `flux-1-schnell` (baseline) | {shipped:.3f} | 1.00x |
| catalog model, schema in memory (steady state) | {steady:.3f} | {steady / shipped:.2f}x |
| catalog model, new process: schema from disk | {from_disk:.3f} | {from_disk / shipped:.2f}x |
| catalog model, first use: schema over loopback HTTP | {first_use:.3f} | {first_use / shipped:.2f}x |

Steady state is **{ratio:.2f}x** the shipped model ({verdict} the <= 2x target); the first use of a
new model costs one schema request, then the schema is read from disk for a day.
""",
    )


if __name__ == "__main__":
    main()
