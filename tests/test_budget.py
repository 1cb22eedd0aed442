"""The usage meter and daily budgets against the emulator: estimated cost on every result, the
ledger's figures, refusals before anything is sent, reservations under threads and across two
processes, and a damaged ledger."""

from __future__ import annotations

import errno
import json
import math
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import jupyter_imagegen as jig
from jupyter_imagegen import BudgetExceededError, ConfigurationError, ImageGenWarning
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.runtime import _usage
from jupyter_imagegen.runtime._runtime import get_runtime
from jupyter_imagegen.runtime._usage import today

GPT = "openai/gpt-image-1.5"
FLUX = "@cf/black-forest-labs/flux-1-schnell"


def api_requests(emulator: Emulator) -> int:
    return sum("/ai/run" in r.path for r in emulator.requests)


def low_cost(prompt: str) -> float:
    """OpenAI's 272 output tokens of a low-quality square image at the catalog's $32 per 1M,
    plus the prompt's input tokens at $5 per 1M (about 4 characters a token)."""
    return 272 * 32 / 1e6 + math.ceil(len(prompt) / 4) * 5 / 1e6


def ledger(tmp_path: Path) -> Path:
    return tmp_path / "cache-usage-emulator.json"


def test_results_carry_their_estimated_cost_and_the_ledger_counts_them(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_API_CACHE", "1")
    made = jig.generate("a red fox", model=GPT, quality="low", size="1024x1024")
    again = jig.generate("a red fox", model=GPT, quality="low", size="1024x1024")
    unpriced = jig.generate("a blue owl", model=FLUX)
    assert made.estimated_cost_usd == pytest.approx(low_cost("a red fox"))
    assert "estimated" in repr(made)
    assert again.cached and again.estimated_cost_usd == 0.0
    assert unpriced.estimated_cost_usd is None
    assert api_requests(emulator_env) == 2

    usage = jig.usage()
    rows = {row.model: row for row in usage.rows}
    assert (rows[GPT].images, rows[GPT].requests, rows[GPT].cache_hits) == (1, 1, 1)
    assert rows[GPT].estimated_usd == pytest.approx(low_cost("a red fox"))
    assert (rows[FLUX].images, rows[FLUX].unpriced_images, rows[FLUX].estimated_usd) == (1, 1, 0.0)
    assert usage.images_today == 2 and rows[GPT].day == today()
    assert usage.path == str(ledger(tmp_path)) and ledger(tmp_path).exists()
    table = repr(usage)
    assert "EST. USD" in table and "estimates" in table and GPT in table and "(+1 unpriced)" in table


def test_a_request_over_the_image_budget_is_refused_whole_before_anything_is_sent(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_API_CACHE", "1")
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "3")
    jig.generate("a fox", model=FLUX)
    with pytest.raises(BudgetExceededError) as refused:
        jig.generate_many([f"an owl {i}" for i in range(5)], model=FLUX)  # 5 with 2 left
    message = str(refused.value)
    assert "1 of 3 images used today" in message and "2 are left" in message
    assert "IMAGEGEN_MAX_IMAGES_PER_DAY" in message and "\n" not in message
    assert api_requests(emulator_env) == 1
    assert jig.usage().images_today == 1  # the refusal reserved nothing

    jig.generate_many(["an owl 0", "an owl 1"], model=FLUX)  # exactly what is left
    assert api_requests(emulator_env) == 3
    with pytest.raises(BudgetExceededError):
        jig.generate("one more", model=FLUX)
    assert api_requests(emulator_env) == 3
    hit = jig.generate("a fox", model=FLUX)  # cache hits never count
    assert hit.cached and api_requests(emulator_env) == 3


def test_the_usd_budget_counts_estimates_and_refuses_unpriced_models(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_MAX_USD_PER_DAY", "0.01")
    jig.generate("a fox", model=GPT, quality="low")  # about $0.0087
    with pytest.raises(BudgetExceededError, match=r"Daily USD budget.*IMAGEGEN_MAX_USD_PER_DAY"):
        jig.generate("a second fox", model=GPT, quality="low")
    with pytest.raises(BudgetExceededError, match="has no published price"):
        jig.generate("an owl", model=FLUX)
    assert api_requests(emulator_env) == 1


def test_a_failed_request_gives_its_image_back(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "1")
    emulator_env.inject("moderation")
    with pytest.raises(jig.ContentPolicyError):
        jig.generate("a fox", model=FLUX)
    row = jig.usage().rows[0]
    assert (row.images, row.requests) == (0, 1)  # sent, but no image: the budget is intact
    jig.generate("a fox", model=FLUX)
    assert jig.usage().images_today == 1


def test_requests_that_never_left_are_not_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "2")
    results = jig.generate_many(["a fox", "an owl"], model=FLUX)  # no credentials: nothing is sent
    assert [type(error) for _, error in results.errors] == [ConfigurationError, ConfigurationError]
    assert jig.usage().rows == ()  # the two reserved images went back, no request counted


def test_eight_concurrent_requests_with_three_left_send_exactly_three(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "3")
    emulator_env.latency = 0.2  # the eight overlap in flight

    def one(index: int) -> object:
        try:
            return jig.generate(f"a fox number {index}", model=FLUX)
        except BudgetExceededError as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one, range(8)))
    assert sum(isinstance(o, jig.GeneratedImage) for o in outcomes) == 3
    assert sum(isinstance(o, BudgetExceededError) for o in outcomes) == 5
    assert api_requests(emulator_env) == 3
    assert jig.usage().images_today == 3


_WORKER = textwrap.dedent(
    """
    import sys
    from concurrent.futures import ThreadPoolExecutor
    import jupyter_imagegen as jig

    sys.stdin.readline()  # both processes start sending together

    def one(index):
        try:
            jig.generate(f"{sys.argv[1]} fox {index}", model="@cf/black-forest-labs/flux-1-schnell")
            return "made"
        except jig.BudgetExceededError:
            return "refused"

    with ThreadPoolExecutor(4) as pool:
        print(" ".join(pool.map(one, range(4))))
    """
)


def test_two_processes_sharing_the_ledger_send_exactly_the_budget(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "3")
    emulator_env.latency = 0.2
    script = tmp_path / "worker.py"
    script.write_text(_WORKER, encoding="utf-8")
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for name in ("red", "blue")
    ]
    outputs = [worker.communicate("go\n", timeout=120) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), [err for _, err in outputs]
    words = " ".join(out for out, _ in outputs).split()
    assert words.count("made") == 3 and words.count("refused") == 5
    assert api_requests(emulator_env) == 3
    assert jig.usage().images_today == 3


def test_a_damaged_ledger_never_lifts_a_budget(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger(tmp_path).write_text("{ not json", encoding="utf-8")
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "5")
    with pytest.raises(ConfigurationError, match="cannot be checked and nothing was sent"):
        jig.generate("a fox", model=FLUX)
    with pytest.raises(ConfigurationError, match="not a readable usage ledger"):
        jig.usage()
    assert api_requests(emulator_env) == 0
    assert ledger(tmp_path).read_text(encoding="utf-8") == "{ not json"  # kept as it was

    monkeypatch.delenv("IMAGEGEN_MAX_IMAGES_PER_DAY")  # no budget: set aside, counted afresh
    with pytest.warns(ImageGenWarning, match="moved to"):
        jig.generate("a fox", model=FLUX)
    assert jig.usage().images_today == 1
    assert [p.name for p in tmp_path.iterdir() if ".damaged-" in p.name]


def test_budget_settings_keyword_over_config_over_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runtime = get_runtime()
    assert runtime.meter().budget.set is False
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "10")
    monkeypatch.setenv("IMAGEGEN_MAX_USD_PER_DAY", "2.5")
    assert (runtime.meter().budget.max_images, runtime.meter().budget.max_usd) == (10, 2.5)
    runtime.config.max_images_per_day = 4
    assert runtime.meter().budget.max_images == 4
    assert runtime.meter(max_images_per_day=2).budget.max_images == 2
    runtime.config.max_images_per_day = None
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "lots")
    with pytest.raises(ConfigurationError, match="IMAGEGEN_MAX_IMAGES_PER_DAY must be a whole number"):
        runtime.meter()
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "-1")
    with pytest.raises(ConfigurationError):
        runtime.meter()


def test_the_ledger_keeps_days_apart(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "1")
    jig.generate("a fox", model=FLUX)
    document = json.loads(ledger(tmp_path).read_text(encoding="utf-8"))
    document["days"]["2000-01-01"] = document["days"].pop(today())  # as if that was another day
    ledger(tmp_path).write_text(json.dumps(document), encoding="utf-8")
    jig.generate("an owl", model=FLUX)  # a new day: the budget is whole again
    assert [row.day for row in jig.usage().rows] == [today(), "2000-01-01"]


def test_a_ledger_that_cannot_be_written_refuses_under_a_budget_and_never_costs_an_image(
    emulator_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(path: str, payload: bytes, *, private: bool = False) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    monkeypatch.setattr(_usage, "write_atomic", full_disk)
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "5")
    with pytest.raises(
        ConfigurationError, match=r"Could not write the usage ledger .*No space left.*nothing was sent"
    ):
        jig.generate("a fox", model=FLUX)
    assert api_requests(emulator_env) == 0
    monkeypatch.delenv("IMAGEGEN_MAX_IMAGES_PER_DAY")  # no budget: the image is made, not counted
    assert jig.generate("a fox", model=FLUX).data
    assert api_requests(emulator_env) == 1


def test_the_emulator_keeps_its_own_ledger_so_test_patterns_never_count_as_spend(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jig.generate("a red fox", model=GPT, quality="low", size="1024x1024")
    usage = jig.usage()
    assert usage.emulator and usage.images_today == 1
    assert "on the emulator (not billed)" in usage.today_line() and "nothing was billed" in usage.table()
    assert ledger(tmp_path).exists() and not (tmp_path / "cache-usage.json").exists()
    # The same user with real credentials: a day's figures and budget of their own.
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "https://api.cloudflare.com/client/v4")
    real = jig.usage()
    assert not real.emulator and real.images_today == 0 and real.path == str(tmp_path / "cache-usage.json")
