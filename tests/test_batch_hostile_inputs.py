"""Batch inputs a careless user writes: the same column twice (in any case), and prompts far past
the documented length limit, each one line before anything is sent or built."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from jupyter_imagegen import Client, ValidationError, batch
from jupyter_imagegen.cli import main
from jupyter_imagegen.emulator import Emulator

MAX_PROMPT_CHARS = 32_000  # documented in the README and docs/RELIABILITY.md
FAST = {"rpm": 60_000, "progress": False, "size": "256x256"}


def test_duplicate_columns_are_one_line_naming_them(emulator_env: Emulator, tmp_path: Path) -> None:
    csv = tmp_path / "in.csv"
    csv.write_text("prompt,quality,Prompt,quality\na fox,low,an owl,high\n", encoding="utf-8")
    with pytest.raises(
        ValidationError, match=r"^line 1 of in.csv names the same column more than once \(prompt, quality;"
    ):
        batch(csv, tmp_path / "out", **FAST)
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"prompt": "a fox", "quality": "low", "QUALITY": "high"}\n', encoding="utf-8")
    with pytest.raises(ValidationError, match=r"line 1 of in.jsonl .* names quality more than once"):
        batch(jsonl, tmp_path / "out", **FAST)
    assert len(emulator_env.requests) == 0


def test_the_command_says_it_in_one_line(
    emulator_env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "in.csv"
    csv.write_text("prompt;size;SIZE\na fox;256x256;512x512\n", encoding="utf-8")
    assert main(["batch", str(csv), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "(size;" in err


def test_a_prompt_past_the_limit_is_refused_before_anything_is_built(
    emulator_env: Emulator, tmp_path: Path
) -> None:
    text = tmp_path / "in.txt"
    text.write_text("a fox\n" + "x" * 8_000_000 + "\n", encoding="utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(
            ValidationError,
            match=r"line 2 of in.txt: The prompt is 8,000,000 characters; the limit is 32,000",
        ):
            batch(text, tmp_path / "out", dry_run=True, **FAST)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\npeak memory of a dry run refusing an 8 MB prompt: {peak / 8_000_000:.1f}x its size")
    assert peak < 10 * 8_000_000, peak  # reading the file, never a copy per step after it
    with pytest.raises(ValidationError, match="the limit is 32,000"):
        batch([{"prompt": "y" * (MAX_PROMPT_CHARS + 1)}], tmp_path / "out", **FAST)
    with Client() as client:
        with pytest.raises(ValidationError, match="the limit is 32,000"):
            client.prepare("z" * (MAX_PROMPT_CHARS + 1))
        assert client.prepare(
            "z" * MAX_PROMPT_CHARS, model="openai/gpt-image-1.5"
        ).prompt  # exactly the limit
    assert len(emulator_env.requests) == 0
