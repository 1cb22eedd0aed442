"""``imagegen batch`` and the progress display: the real command with its bar and summary, exit
codes, one-line errors, the text fallback without tqdm, and a live widget bar in a real kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_imagegen.cli import main
from jupyter_imagegen.emulator import Emulator

LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"


def csv_file(tmp_path: Path, count: int = 3) -> Path:
    path = tmp_path / "prompts.csv"
    path.write_text(
        "prompt,label\n" + "".join(f"a fox number {i},fox\n" for i in range(count)), encoding="utf-8"
    )
    return path


def test_the_command_shows_a_progress_bar_and_a_summary(emulator: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [
        "batch",
        str(csv_file(tmp_path, 5)),
        "--out",
        str(out),
        "--rpm",
        "60000",
        "-q",
        "low",
        "-s",
        "256x256",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "jupyter_imagegen", *args],
        env={**os.environ, **emulator.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    bar = run.stderr.replace("\r", "\n").splitlines()
    assert any(line.startswith("imagegen batch: 100%") and "5/5" in line for line in bar), run.stderr
    assert any("failed 0" in line for line in bar)
    summary = run.stdout
    assert summary.startswith(f"5 of 5 images done in {out}\n")
    assert "this run: 5 generated, 0 already in the manifest; 5 requests in" in summary
    # 5 images at low quality: 272 output tokens each at $32 per 1M, plus the prompts.
    assert "estimated spend: $0.04 (an estimate: OpenAI's published gpt-image output-token counts" in summary
    assert f"manifest: {out / 'manifest.jsonl'}" in summary
    assert len(emulator.requests) == 5


def test_failures_exit_2_and_retry_failed_finishes(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in emulator.env.items():
        monkeypatch.setenv(name, value)
    args = [
        "batch",
        str(csv_file(tmp_path)),
        "--out",
        str(tmp_path / "out"),
        "--rpm",
        "60000",
        "--quiet",
        "--size",
        "256x256",
        "--concurrency",
        "1",
    ]
    emulator.inject("moderation")
    assert main(args) == 2  # the one rule: any error exits 2
    out = capsys.readouterr().out
    assert "2 of 3 images done" in out and ", 1 failed" in out and "failed #0 (ContentPolicyError)" in out
    assert "imagegen batch --retry-failed" in out
    assert main(args) == 2 and len(emulator.requests) == 3  # failed stays failed unless asked
    assert main([*args, "--retry-failed"]) == 0 and len(emulator.requests) == 4
    assert "3 of 3 images done" in capsys.readouterr().out


def test_params_are_converted_for_the_model(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in emulator.env.items():
        monkeypatch.setenv(name, value)
    args = ["batch", str(csv_file(tmp_path, 1)), "--out", str(tmp_path / "out"), "-m", LIGHTNING]
    assert (
        main(
            [
                *args,
                "-p",
                "num_steps=4",
                "-p",
                "guidance=2.5",
                "-p",
                "width=256",
                "-p",
                "height=256",
                "--quiet",
            ]
        )
        == 0
    )
    (sent,) = emulator.requests
    assert isinstance(sent.json.pop("seed"), int)  # picked by the client, recorded on the image
    assert sent.json == {
        "prompt": "a fox number 0",
        "num_steps": 4,
        "guidance": 2.5,
        "width": 256,
        "height": 256,
    }
    assert "estimated spend: $0.00" in capsys.readouterr().out  # this model's catalog price is 0 per step


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rpm", "0"], "error: rpm must be a positive number"),
        (["--concurrency", "0"], "error: concurrency must be a whole number of at least 1"),
        (["-p", "steps"], "error: --param takes NAME=VALUE (e.g. --param steps=4), got 'steps'."),
        (["-q", "best"], "error: 3 input row(s) are invalid; nothing was sent."),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["batch", str(csv_file(tmp_path)), "--out", str(tmp_path / "out"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err


def test_an_empty_param_value_is_refused_before_anything_is_sent(
    emulator_env: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    for argv in (
        ["generate", "a fox", "-m", LIGHTNING, "-p", "negative_prompt="],
        ["generate", "a fox", "-m", LIGHTNING, "-p", "num_steps= "],
        ["batch", str(csv_file(tmp_path)), "--out", "out", "-m", LIGHTNING, "-p", "negative_prompt="],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and " has no value: write " in err and err.count("\n") == 1, err
    assert emulator_env.requests == [] and not list(tmp_path.glob("*.png"))


def test_a_missing_input_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith("error: Cannot read ")


def test_without_tqdm_a_plain_status_line(
    emulator_env: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import tqdm.auto now fails
    args = [
        "batch",
        str(csv_file(tmp_path)),
        "--out",
        str(tmp_path / "out"),
        "--rpm",
        "60000",
        "--size",
        "256x256",
    ]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "imagegen batch: 3/3 (100%), failed 0, " in err and "ETA 0:00" in err
    assert "img/s" not in err  # not tqdm's bar


def test_a_notebook_cell_shows_a_live_widget_bar(emulator_env: Emulator, tmp_path: Path) -> None:
    code = (
        "import jupyter_imagegen\n"
        f"result = jupyter_imagegen.batch(['a fox', 'a heron', 'a boat'], {str(tmp_path / 'out')!r}, "
        "rpm=60000, size='256x256')\n"
        "result"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, outputs  # tqdm's notebook bar, displayed from the cell that ran the batch
    (result,) = [o for o in outputs if o.get("output_type") == "execute_result"]
    assert result["data"]["text/plain"].startswith("3 of 3 images done in ")
    # The bar's last state as the kernel reported it: full, with the batch's own counts.
    states = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    bars = [m["state"] for m in states.values() if m["model_name"] == "FloatProgressModel"]
    assert [(bar["value"], bar["max"]) for bar in bars] == [(3, 3)]
    labels = " ".join(m["state"].get("value", "") for m in states.values() if m["model_name"] == "HTMLModel")
    assert "3/3" in labels.replace("\u2007", " ") and "failed 0" in labels.replace("\u2007", " ")
    assert len(emulator_env.requests) == 3


def test_without_credentials_the_command_says_so_before_drawing_or_creating_anything(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a fox\nan owl\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_imagegen", "batch", str(prompts), "--out", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN not set.")
    assert done.stdout == "" and not (tmp_path / "out").exists()
