"""The ledger and budgets under any file content and any clock: counts that are not finite or
are negative, give-backs for a rebuilt ledger, an action that crosses 00:00 UTC, and an emulator
known by what it answers rather than by its address."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

import jupyter_imagegen as jig
from jupyter_imagegen import BudgetExceededError, Client, ConfigurationError, ImageGenWarning
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.runtime import _budget, _reservation
from jupyter_imagegen.runtime._runtime import get_runtime
from jupyter_imagegen.runtime._usage import add, today
from test_hostile_answers import raw_server, response

FLUX = "@cf/black-forest-labs/flux-1-schnell"
GPT = "openai/gpt-image-1.5"


def api_requests(emulator: Emulator) -> int:
    return sum("/ai/run" in r.path for r in emulator.requests)


def write_ledger(path: Path, counts: str) -> None:
    path.write_text(f'{{"version": 1, "days": {{"{today()}": {{"{FLUX}": {counts}}}}}}}\n', encoding="utf-8")


DAMAGED = {
    "infinite images": '{"images": Infinity, "requests": 1}',
    "NaN dollars": '{"images": 0, "usd": NaN}',
    "negative images": '{"images": -3, "requests": 0}',
    "negative dollars": '{"images": 0, "usd": -1.5}',
    "overflowing number": '{"images": 1e400}',
    "a boolean": '{"images": true}',
}


@pytest.mark.parametrize("counts", DAMAGED.values(), ids=DAMAGED.keys())
def test_counts_that_are_not_finite_or_are_negative_are_a_damaged_ledger(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counts: str
) -> None:
    ledger = tmp_path / "cache-usage-emulator.json"
    write_ledger(ledger, counts)
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "2")
    monkeypatch.setenv("IMAGEGEN_MAX_USD_PER_DAY", "0.02")
    with pytest.raises(ConfigurationError, match=r"not a readable usage ledger.*nothing was sent"):
        jig.generate_many([f"a fox {i}" for i in range(5)], model=GPT, quality="low", size="1024x1024")
    assert api_requests(emulator_env) == 0 and ledger.read_text(encoding="utf-8").count(today()) == 1

    monkeypatch.delenv("IMAGEGEN_MAX_IMAGES_PER_DAY")
    monkeypatch.delenv("IMAGEGEN_MAX_USD_PER_DAY")
    with pytest.warns(ImageGenWarning, match="not a finite number|not a number"):
        usage = jig.usage()  # set aside, never a crash
    assert usage.images_today == 0
    assert jig.generate("a fox", model=FLUX).data
    assert jig.usage().images_today == 1
    assert [p.name for p in tmp_path.iterdir() if ".damaged-" in p.name]


def test_a_give_back_never_makes_a_count_negative(emulator_env: Emulator, tmp_path: Path) -> None:
    days: dict[str, dict[str, dict[str, float]]] = {}
    add(days, "2026-01-01", FLUX, images=-1, requests=-1, usd=-0.5)
    assert days["2026-01-01"][FLUX] == {"images": 0, "requests": 0, "usd": 0}

    meter = get_runtime().meter(max_images_per_day=1)
    with Client() as client:
        request = client.prepare("a fox", model=FLUX)
    reservation = meter.reserve([request])
    charge = reservation.begin(request)
    (tmp_path / "cache-usage-emulator.json").unlink()  # rebuilt by another process meanwhile
    reservation.failed(charge)
    meter.reserve([request])  # the one image of the budget
    with pytest.raises(BudgetExceededError):
        meter.reserve([request])  # a count of -1 would have let a second one through


def test_a_reservation_made_before_midnight_counts_on_the_day_it_is_sent(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = {"day": "2026-03-01"}
    for module in (_budget, _reservation):
        monkeypatch.setattr(module, "today", lambda: clock["day"])
    meter = get_runtime().meter(max_images_per_day=3)
    with Client() as client:
        requests = [client.prepare(f"a fox {i}", model=FLUX) for i in range(3)]
    reservation = meter.reserve(requests)  # 23:59 UTC
    clock["day"] = "2026-03-02"  # the requests are sent after 00:00 UTC
    charges = [reservation.begin(r) for r in requests]
    assert {c.day for c in charges} == {"2026-03-02"}
    days = meter.ledger.read()
    assert days["2026-03-01"][FLUX]["images"] == 0  # given back to the day before
    assert days["2026-03-02"][FLUX]["images"] == 3
    with pytest.raises(BudgetExceededError, match="3 of 3 images used today"):
        meter.reserve(requests[:1])


def test_a_loopback_service_that_is_not_the_emulator_counts_as_real_spend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def real_looking(connection: socket.socket, request_line: str) -> None:
        connection.sendall(response("404 Not Found", {"content-type": "application/json"}, b"{}"))

    with raw_server(real_looking) as base:  # e.g. a local proxy to the billed service
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"{base}/client/v4")
        meter = get_runtime().meter()
    assert not meter.ledger.emulator and meter.ledger.path == str(tmp_path / "cache-usage.json")


def test_an_emulator_on_another_host_keeps_its_own_ledger(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "127.1" is 127.0.0.1 to the resolver but not a loopback name to the package: a host on the
    # classroom network, as far as the address tells.
    for name, value in emulator.env.items():
        monkeypatch.setenv(name, value.replace("127.0.0.1", "127.1"))
    monkeypatch.setenv("IMAGEGEN_ALLOW_PLAIN_HTTP", "1")
    jig.generate("a fox", model=FLUX)
    assert jig.usage().emulator and (tmp_path / "cache-usage-emulator.json").exists()
    assert not (tmp_path / "cache-usage.json").exists()
    document = json.loads((tmp_path / "cache-usage-emulator.json").read_text(encoding="utf-8"))
    assert document["days"][today()][FLUX]["images"] == 1
