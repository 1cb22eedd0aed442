"""The ``imagegen`` command as a terminal user meets it: headers, pipes, help, one-line messages."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_imagegen.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]


def imagegen(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_imagegen", *args],
        cwd=cwd,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_models_has_a_header_row_naming_each_column() -> None:
    done = imagegen("models")
    assert done.returncode == 0, done.stderr
    header, first, *_ = done.stdout.splitlines()
    assert header.split() == ["MODEL", "OUTPUT", "EDITS", "PARAMETERS"]
    assert first.startswith("openai/gpt-image-1.5 ")


def test_models_into_a_closed_pipe_ends_quietly() -> None:
    # `imagegen models | head -2` after head has gone: the read end is closed before anything is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "jupyter_imagegen", "models"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""  # no BrokenPipeError traceback
    assert done.returncode == 141


def test_models_piped_into_head_prints_only_what_head_keeps() -> None:
    done = subprocess.run(
        f"{sys.executable} -m jupyter_imagegen models | head -2",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert len(done.stdout.splitlines()) == 2 and done.stderr == ""


def test_emulator_help_names_the_command_the_user_typed() -> None:
    done = imagegen("emulator", "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: imagegen emulator ")
    bad = imagegen("emulator", "--port", "x")
    assert bad.returncode == 2 and "usage: imagegen emulator" in bad.stderr


def test_without_credentials_the_terminal_hears_about_environment_variables(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    done = imagegen("generate", "a fox", env=env, cwd=tmp_path)
    assert done.returncode == 2
    message = done.stderr.strip()
    assert message.count("\n") == 0 and "CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN not set" in message
    assert "export CLOUDFLARE_ACCOUNT_ID=" in message and "imagegen emulator" in message
    assert "getpass" not in message and "%env" not in message


def test_unknown_model_is_one_warning_line(emulator: Emulator, tmp_path: Path) -> None:
    env = {**os.environ, **emulator.env, "IMAGEGEN_MAX_RETRIES": "0"}
    done = imagegen("generate", "a fox", "-m", "someone/new-model", env=env, cwd=tmp_path)
    lines = done.stderr.strip().splitlines()
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 1, done.stderr
    assert "'someone/new-model' is not a model jupyter-imagegen knows" in warnings[0]
    assert "Warning" not in done.stderr and ".py:" not in done.stderr  # no category, no source line
    assert all(line.startswith(("warning:", "error:")) for line in lines), done.stderr


def test_lab_without_jupyterlab_says_how_to_install_it(tmp_path: Path) -> None:
    # A venv with the package alone: JupyterLab cannot be imported.
    script = (
        "import sys; sys.modules['jupyterlab'] = None\n"
        "from jupyter_imagegen.cli import main\n"
        "sys.exit(main(['lab', '--no-browser']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: JupyterLab is not installed here: pip install 'jupyter-imagegen[lab]' "
        "(or pip install jupyterlab), then run imagegen lab again."
    )
    assert "OFFLINE MODE" not in done.stdout  # nothing started


def test_lab_names_a_missing_notebook_before_starting_anything(tmp_path: Path) -> None:
    done = imagegen("lab", "--no-browser", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().startswith(
        "error: notebooks/quickstart.ipynb not found: run imagegen lab from"
    )
    assert "OFFLINE MODE" not in done.stdout


def test_lab_moves_off_a_taken_port_and_names_the_notebook_in_its_url(tmp_path: Path) -> None:
    from jupyter_imagegen.cli._lab import DEFAULT_PORT, _pick_port, notebook_url

    holder = socket.socket()
    # Another Jupyter, as far as the launcher can tell; if something already holds it, the same.
    with contextlib.suppress(OSError):
        holder.bind(("127.0.0.1", DEFAULT_PORT))
    try:
        port = _pick_port()
        assert port != DEFAULT_PORT
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # really free
    finally:
        holder.close()
    notebook = tmp_path / "my lesson.ipynb"
    notebook.write_text("{}")
    assert (
        notebook_url(port, notebook, "t/k") == f"http://127.0.0.1:{port}/lab/tree/my%20lesson.ipynb?token=t/k"
    )
    assert notebook_url(port, tmp_path, "tk") == f"http://127.0.0.1:{port}/lab?token=tk"


def test_lab_works_on_a_copy_and_never_overwrites_the_users_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_imagegen.cli._lab import working_copy

    monkeypatch.chdir(ROOT)
    work = tmp_path / "work"
    quickstart, copied = working_copy(work)
    assert quickstart == work / "quickstart.ipynb" and copied == ["quickstart.ipynb", "classroom.ipynb"]
    assert quickstart.read_bytes() == (ROOT / "notebooks" / "quickstart.ipynb").read_bytes()
    quickstart.write_text("my edits", encoding="utf-8")
    assert working_copy(work) == (quickstart, [])
    assert quickstart.read_text(encoding="utf-8") == "my edits"
