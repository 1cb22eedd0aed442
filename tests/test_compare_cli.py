"""``imagegen generate`` with several values, against the emulator: the matrix runs once, lists
each image with its labels, time and cost, and ``-o DIR`` writes the originals and the contact
sheet; a dry run and every refusal send nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_imagegen.cli import main
from jupyter_imagegen.emulator import Emulator

MODELS = "@cf/leonardo/phoenix-1.0,@cf/bytedance/stable-diffusion-xl-lightning"


def api_requests(emulator: Emulator) -> int:
    return sum("/ai/run" in r.path for r in emulator.requests)


def test_a_comparison_writes_its_originals_and_contact_sheet(
    emulator_env: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    words = ["generate", "a fox", "-m", MODELS, "-p", "width=512,1024", "-p", "height=512"]
    assert main([*words, "--dry-run"]) == 0
    assert "dry run: 4 requests (2 model x 2 width), 4 to send" in capsys.readouterr().out
    assert api_requests(emulator_env) == 0

    assert main([*words, "-o", "compare"]) == 0
    out = capsys.readouterr().out
    assert api_requests(emulator_env) == 4
    assert "@cf/leonardo/phoenix-1.0 · width=1024: " in out and " s · ~$" in out
    assert "total: 4 images · 4 generated" in out and "contact sheet: compare/index.html" in out
    assert len(list((tmp_path / "compare").glob("*.*"))) == 5
    page = (tmp_path / "compare" / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "imagegen generate" in page and "width=512" in page
    assert emulator_env.token not in page

    assert main([*words, "-o", "compare"]) == 0  # again: from the cache, a second sheet beside the first
    out = capsys.readouterr().out
    assert api_requests(emulator_env) == 4 and out.count(": cached") == 4
    assert (tmp_path / "compare" / "index-2.html").exists()


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["-o", "fox.png"], "-o names a folder"),
        (["-m", "openai/gpt-image-1.5,openai/gpt-image-2", "-s", "512x512,1024x1024"], "openai/gpt-image-2"),
        (["-q", "low,,high"], "an empty value"),
    ],
)
def test_refusals_are_one_line_and_send_nothing(
    emulator_env: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    says: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "a fox", "-q", "low,high", *extra]) == 2
    error = capsys.readouterr().err
    assert says in error and error.count("\n") == 1
    assert api_requests(emulator_env) == 0


def test_the_daily_budget_refuses_the_whole_matrix(
    emulator_env: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IMAGEGEN_MAX_IMAGES_PER_DAY", "3")
    words = ["generate", "a fox", "-q", "low,high", "-s", "512x512,1024x1024"]
    assert main([*words, "--dry-run"]) == 0
    assert (
        "daily image budget: 3 images left today (UTC); it would be refused whole" in capsys.readouterr().out
    )
    assert main(words) == 2
    error = capsys.readouterr().err
    assert "asks for 4" in error and "The comparison: 4 images" in error and "~$" in error
    assert api_requests(emulator_env) == 0
