"""A batch at the daily budget stops cleanly and finishes another day; a dry run counts the
requests, the expected cache hits and the cost, and sends and writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_imagegen import BatchResult, batch
from jupyter_imagegen.batches._dry_run import BatchDryRun
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.runtime._usage import UsageLedger, today

GPT = "openai/gpt-image-1.5"
FAST = {"rpm": 60_000, "progress": False, "concurrency": 4}


def sent(emulator: Emulator) -> int:
    return sum("/ai/run" in r.path for r in emulator.requests)


def move_today_to_yesterday(ledger: Path) -> None:
    """What the ledger looks like the next UTC day: today's figures belong to an earlier day."""
    document = json.loads(ledger.read_text(encoding="utf-8"))
    document["days"]["2000-01-01"] = document["days"].pop(today())
    ledger.write_text(json.dumps(document), encoding="utf-8")


def test_a_batch_stops_at_the_budget_and_resumes_the_next_day(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "3")
    out = tmp_path / "out"
    items = [f"a fox number {i}" for i in range(7)]
    first = batch(items, out, model=GPT, quality="low", **FAST)
    assert isinstance(first, BatchResult)
    assert len(first.done) == 3 and first.pending == 4 and not first.failed and not first.ok
    assert first.stopped is not None and "Daily image budget" in first.stopped
    assert "stopped at the daily budget" in first.summary()
    assert sent(emulator_env) == 3 and len(list(out.glob("*.png"))) == 3

    again = batch(items, out, model=GPT, quality="low", **FAST)  # same day: nothing more is sent
    assert isinstance(again, BatchResult) and len(again.done) == 3 and again.stopped
    assert sent(emulator_env) == 3

    move_today_to_yesterday(tmp_path / "cache-usage-emulator.json")
    second = batch(items, out, model=GPT, quality="low", **FAST)
    assert isinstance(second, BatchResult)
    assert len(second.done) == 6 and second.skipped == 3 and second.pending == 1
    move_today_to_yesterday(tmp_path / "cache-usage-emulator.json")
    third = batch(items, out, model=GPT, quality="low", max_images_per_day=5, **FAST)  # a keyword budget
    assert isinstance(third, BatchResult) and third.ok and third.stopped is None
    assert sent(emulator_env) == 7


def test_a_dry_run_counts_requests_cache_hits_and_cost_and_sends_nothing(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    items = [f"a fox number {i}" for i in range(4)]
    plan = batch(items, out, model=GPT, quality="low", size="1024x1024", dry_run=True, **FAST)
    assert isinstance(plan, BatchDryRun)
    assert (plan.requests, plan.cache_hits) == (4, 0)
    assert plan.estimated_usd == pytest.approx(4 * (272 * 32 / 1e6 + 4 * 5 / 1e6))
    assert capsys.readouterr().out == ""  # returned, not printed: a notebook shows it once
    shown = repr(plan)
    assert "4 requests to send" in shown and "0 expected cache hits" in shown and "estimate" in shown
    assert f"would send #0 {GPT} 'a fox number 0' quality=low size=1024x1024" in shown
    assert sent(emulator_env) == 0 and not out.exists()

    batch(items[:3], out, model=GPT, quality="low", size="1024x1024", **FAST)
    plan = batch(items, out, model=GPT, quality="low", size="1024x1024", dry_run=True, **FAST)
    assert isinstance(plan, BatchDryRun) and (plan.requests, plan.cache_hits) == (1, 3)
    assert sent(emulator_env) == 3


def test_the_command_dry_run_and_budget_stop(emulator: Emulator, tmp_path: Path) -> None:
    csv = tmp_path / "prompts.csv"
    csv.write_text("prompt\n" + "".join(f"a fox number {i}\n" for i in range(5)), encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, **emulator.env, "IMAGEGEN_MAX_IMAGES_PER_DAY": "2"}
    base = [sys.executable, "-m", "jupyter_imagegen", "batch", str(csv), "--out", str(out), "-m", GPT]
    base += ["-q", "low", "--rpm", "60000", "--quiet"]

    dry = subprocess.run([*base, "--dry-run"], env=env, capture_output=True, text=True, timeout=90)
    assert dry.returncode == 0, dry.stderr
    assert "5 requests to send" in dry.stdout and "estimated cost: ~$" in dry.stdout
    listed = [line for line in dry.stdout.splitlines() if line.startswith("  would send #")]
    assert len(listed) == 5 and listed[4] == f"  would send #4 {GPT} 'a fox number 4' quality=low"
    assert "would stop after 2" in dry.stdout
    assert sent(emulator) == 0 and not out.exists()

    run = subprocess.run(base, env=env, capture_output=True, text=True, timeout=90)
    assert run.returncode == 2, run.stderr
    assert "2 of 5 images done" in run.stdout and "stopped at the daily budget" in run.stdout
    assert sent(emulator) == 2


def test_requests_that_start_together_share_one_ledger_update(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates: list[int] = []
    update = UsageLedger.update

    def counting(self: UsageLedger, change: Any) -> None:
        updates.append(1)
        update(self, change)

    monkeypatch.setattr(UsageLedger, "update", counting)
    items = [f"a fox number {i}" for i in range(8)]
    result = batch(items, tmp_path / "out", model=GPT, quality="low", **{**FAST, "concurrency": 8})
    assert isinstance(result, BatchResult) and result.ok and len(result.done) == 8
    counts = json.loads((tmp_path / "cache-usage-emulator.json").read_text(encoding="utf-8"))["days"][
        today()
    ][GPT]
    assert counts["images"] == 8 and counts["requests"] == 8  # each image reserved before it was sent
    assert len(updates) == 1  # the eight workers' first requests, reserved in one update
