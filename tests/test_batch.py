"""batch()/abatch() against the emulator over loopback: the rate limit as the server saw it, the
manifest, 429 handling, failures and their retry, stopping errors and resuming in-process."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from pathlib import Path

import pytest

from jupyter_imagegen import (
    AuthenticationError,
    BatchResult,
    ConfigurationError,
    ContentPolicyError,
    ImageGenError,
    RateLimitError,
    abatch,
    batch,
)
from jupyter_imagegen.batches._manifest import Manifest, read_manifest
from jupyter_imagegen.client._files import read_provenance
from jupyter_imagegen.emulator import Emulator

FAST = {"rpm": 60_000, "progress": False, "size": "256x256"}


def prompts(count: int, word: str = "fox") -> list[str]:
    return [f"a {word} number {i}" for i in range(count)]


def manifest_lines(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def image_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".png", ".jpg", ".webp"))


def test_rate_limit_is_honoured_as_the_server_saw_it(emulator_env: Emulator, tmp_path: Path) -> None:
    rpm, burst = 240, 2
    result = batch(prompts(10), tmp_path, rpm=rpm, burst=burst, concurrency=8, progress=False, size="256x256")
    assert result.ok and result.requests == 10
    times = sorted(r.started for r in emulator_env.requests)
    assert len(times) == 10
    # Token bucket: any stretch of t seconds holds at most burst + rpm*t/60 starts; one start of
    # slack absorbs loopback jitter between leaving the client and arriving at the server.
    for i, j in itertools.combinations(range(len(times)), 2):
        assert j - i + 1 <= burst + rpm / 60 * (times[j] - times[i]) + 1, (i, j)


def test_every_item_gets_a_file_and_a_manifest_line(emulator_env: Emulator, tmp_path: Path) -> None:
    result = batch(prompts(5), tmp_path / "out", concurrency=3, quality="low", **FAST)
    assert isinstance(result, BatchResult) and result.ok
    assert (result.generated, result.skipped, result.pending) == (5, 0, 0)
    lines = manifest_lines(tmp_path / "out")
    assert sorted(line["index"] for line in lines) == [0, 1, 2, 3, 4]
    for line in lines:
        index = line["index"]
        assert line["status"] == "done" and line["error"] is None and line["cached"] is False
        assert line["prompt"] == f"a fox number {index}"
        assert line["params"] == {"quality": "low", "size": "256x256"}
        assert line["file"] == f"{index:05d}-a-fox-number-{index}.png"
        assert isinstance(line["elapsed"], float) and line["elapsed"] > 0 and line["attempts"] == 1
        assert isinstance(line["log_id"], str) and len(line["log_id"]) == 26  # the gateway's log id
        path = tmp_path / "out" / str(line["file"])
        assert path.stat().st_size == line["bytes"]
        assert read_provenance(path)["prompt"] == line["prompt"]  # type: ignore[index]
    assert result.files == [str(tmp_path / "out" / f"{i:05d}-a-fox-number-{i}.png") for i in range(5)]


def test_rerun_skips_what_is_done_and_sends_nothing(emulator_env: Emulator, tmp_path: Path) -> None:
    batch(prompts(4), tmp_path, **FAST)
    again = batch(prompts(4), tmp_path, **FAST)
    assert (again.skipped, again.generated, again.requests) == (4, 0, 0) and again.ok
    assert len(emulator_env.requests) == 4 and len(image_files(tmp_path)) == 4
    assert "0 generated, 4 already in the manifest" in again.summary()


def test_a_changed_input_at_an_index_is_a_new_item(emulator_env: Emulator, tmp_path: Path) -> None:
    batch(["a cat", "a dog", "a cow"], tmp_path, **FAST)
    again = batch(["a cat", "a dog in a hat", "a cow"], tmp_path, **FAST)
    assert (again.generated, again.skipped) == (1, 2)
    assert len(emulator_env.requests) == 4
    assert read_manifest(tmp_path / "manifest.jsonl")[1].prompt == "a dog in a hat"
    assert again.entries[1].file == "00001-a-dog-in-a-hat.png"


def test_a_done_item_whose_file_was_deleted_is_made_again(emulator_env: Emulator, tmp_path: Path) -> None:
    first = batch(prompts(3), tmp_path, **FAST)
    os.unlink(first.files[1])
    again = batch(prompts(3), tmp_path, **FAST)
    assert (again.generated, again.skipped) == (1, 2) and again.ok
    assert image_files(tmp_path) == sorted(os.path.basename(f) for f in first.files)


def test_restart_makes_everything_again_without_duplicate_files(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    batch(prompts(3), tmp_path, **FAST)
    again = batch(prompts(3), tmp_path, resume=False, **FAST)
    assert again.generated == 3 and len(emulator_env.requests) == 6
    assert len(image_files(tmp_path)) == 3
    assert len(manifest_lines(tmp_path)) == 6  # the manifest is a log: the last line of an index wins


def test_a_429_pauses_for_retry_after_then_the_item_succeeds(emulator_env: Emulator, tmp_path: Path) -> None:
    emulator_env.inject("rate_limit", retry_after=1, times=2)
    result = batch(prompts(3), tmp_path, concurrency=1, **FAST)
    assert result.ok and result.rate_limited == 2 and result.requests == 5
    seen = emulator_env.requests
    assert [r.status for r in seen] == [429, 429, 200, 200, 200]
    for refused, following in itertools.pairwise(seen[:3]):
        assert following.started - refused.started >= 1.0  # waited Retry-After, as the server saw
    assert manifest_lines(tmp_path)[0]["attempts"] == 3
    assert "2 refused with 429" in result.summary()


def test_an_item_refused_429_too_often_is_recorded_failed(emulator_env: Emulator, tmp_path: Path) -> None:
    from jupyter_imagegen.batches import _job as _batch_job

    emulator_env.inject("rate_limit", retry_after=0, times=_batch_job.MAX_RATE_LIMITED + 1)
    result = batch(["a fox"], tmp_path, concurrency=1, **FAST)
    (entry,) = result.failed
    assert entry.error_type == "RateLimitError" and entry.attempts == _batch_job.MAX_RATE_LIMITED + 1


def test_failures_are_recorded_and_retried_only_on_request(emulator_env: Emulator, tmp_path: Path) -> None:
    emulator_env.inject("moderation")  # not retryable
    emulator_env.inject("server_error", status=503, times=2)  # retryable, more than max_retries=1
    first = batch(prompts(3), tmp_path, concurrency=1, max_retries=1, **FAST)
    assert [e.status for e in first.entries] == ["failed", "failed", "done"]
    moderated, server = first.failed
    assert moderated.error_type == ContentPolicyError.__name__ and "safety system" in (moderated.error or "")
    assert server.error_type == "ServerError" and server.attempts == 2
    assert "retry_failed=True" in first.summary() and "failed #0 (ContentPolicyError)" in first.summary()

    kept = batch(prompts(3), tmp_path, concurrency=1, **FAST)
    assert kept.requests == 0 and len(kept.failed) == 2 and not kept.ok

    retried = batch(prompts(3), tmp_path, concurrency=1, retry_failed=True, **FAST)
    assert retried.requests == 2 and retried.ok and retried.generated == 2
    assert len(emulator_env.requests) == 1 + 2 + 1 + 2


def test_daily_limit_stops_the_batch_and_the_rest_waits(emulator_env: Emulator, tmp_path: Path) -> None:
    emulator_env.inject("daily_limit")
    with pytest.raises(RateLimitError) as info:
        batch(prompts(5), tmp_path, concurrency=1, **FAST)
    assert info.value.daily_limit
    assert len(emulator_env.requests) == 1 and manifest_lines(tmp_path) == []
    later = batch(prompts(5), tmp_path, concurrency=1, **FAST)
    assert later.ok and later.generated == 5


def test_a_wrong_token_stops_at_once_and_never_shows_the_token(emulator: Emulator, tmp_path: Path) -> None:
    secret = "wrong-token-QX81"
    options = {"account_id": emulator.account_id, "api_token": secret, "base_url": emulator.base_url}
    with pytest.raises(AuthenticationError) as info:
        batch(prompts(20), tmp_path, concurrency=2, client_options=options, **FAST)
    assert secret not in str(info.value)
    assert len(emulator.requests) <= 2  # what was in flight; nothing after
    assert manifest_lines(tmp_path) == []


def test_missing_credentials_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="CLOUDFLARE_ACCOUNT_ID"):
        batch(prompts(2), tmp_path, **FAST)


def test_the_token_is_in_no_file_and_no_summary(tmp_path: Path) -> None:
    secret = "tok-5e3cr3t-ZZ"
    with Emulator(token=secret) as emulator:
        emulator.inject("moderation")
        options = {"account_id": emulator.account_id, "api_token": secret, "base_url": emulator.base_url}
        result = batch(prompts(2), tmp_path, concurrency=1, client_options=options, **FAST)
    assert len(result.failed) == 1
    assert secret not in result.summary() and secret not in repr(result)
    for path in tmp_path.iterdir():
        assert secret.encode() not in path.read_bytes(), path


def test_variations_and_extra_columns(emulator_env: Emulator, tmp_path: Path) -> None:
    rows = [{"prompt": "a cat", "label": "cat"}, {"prompt": "a dog", "label": "dog"}]
    result = batch(rows, tmp_path, n=2, **FAST)
    assert result.ok and result.total == 4
    assert [(e.prompt, e.variation, e.extra) for e in result.entries] == [
        ("a cat", 0, {"label": "cat"}),
        ("a cat", 1, {"label": "cat"}),
        ("a dog", 0, {"label": "dog"}),
        ("a dog", 1, {"label": "dog"}),
    ]
    assert all("label" not in (r.json or {}).get("input", {}) for r in emulator_env.requests)


def test_a_second_batch_on_the_same_folder_is_refused(emulator_env: Emulator, tmp_path: Path) -> None:
    holder = Manifest(str(tmp_path))
    holder.open()
    try:
        with pytest.raises(ImageGenError, match="Another batch is writing to"):
            batch(prompts(2), tmp_path, **FAST)
    finally:
        holder.close()
    assert batch(prompts(2), tmp_path, **FAST).ok
    assert len(emulator_env.requests) == 2


def test_abatch_and_batch_inside_a_running_event_loop(emulator_env: Emulator, tmp_path: Path) -> None:
    async def main() -> tuple[BatchResult, BatchResult]:
        awaited = await abatch(prompts(3), tmp_path / "a", **FAST)
        # As in a notebook cell: a loop already runs in this thread, and batch() still works.
        blocking = batch(prompts(3), tmp_path / "b", **FAST)
        return awaited, blocking

    awaited, blocking = asyncio.run(main())
    assert awaited.ok and blocking.ok and len(emulator_env.requests) == 6


def test_bad_options_are_refused_before_anything_is_sent(emulator_env: Emulator, tmp_path: Path) -> None:
    for bad in ({"rpm": 0}, {"concurrency": 0}, {"burst": 0}, {"max_retries": -1}, {"n": 0}):
        with pytest.raises(ValueError):
            batch(prompts(2), tmp_path, progress=False, **bad)  # type: ignore[arg-type]
    assert emulator_env.requests == [] and not (tmp_path / "manifest.jsonl").exists()
