"""The ``imagegen`` command as a terminal user meets it: headers, pipes, help, one-line messages."""

from __future__ import annotations

import contextlib
import os
import re
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


def test_unknown_model_is_one_warning_line(tmp_path: Path) -> None:
    # The live catalog cannot be read (nothing listens there): the model is sent, with one warning.
    env = _unreachable_service(tmp_path)
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


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unreachable_service(tmp_path: Path) -> dict[str, str]:
    """Credentials for a service on a loopback port nobody listens on, no retries."""
    return {
        **os.environ,
        "CLOUDFLARE_ACCOUNT_ID": "acct",
        "CLOUDFLARE_API_TOKEN": "a-test-token-123",
        "CLOUDFLARE_BASE_URL": f"http://127.0.0.1:{_closed_port()}/client/v4",
        "IMAGEGEN_MAX_RETRIES": "0",
        "IMAGEGEN_CACHE_DIR": str(tmp_path / "cache"),
    }


def _error_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize("fault", ["server_error", "moderation"])
def test_a_service_error_is_one_line_and_exit_2(fault: str, emulator: Emulator, tmp_path: Path) -> None:
    emulator.inject(fault, times=5)
    env = {**os.environ, **emulator.env, "IMAGEGEN_MAX_RETRIES": "0", "IMAGEGEN_CACHE_DIR": str(tmp_path)}
    done = imagegen("generate", "a fox", "-q", "low", env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert len(_error_lines(done)) == 1 and _error_lines(done)[0].startswith("error: "), done.stderr


def test_a_connection_failure_is_one_line_and_debug_adds_the_traceback(tmp_path: Path) -> None:
    env = _unreachable_service(tmp_path)
    done = imagegen("generate", "a fox", "-q", "low", env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert len(_error_lines(done)) == 1 and "Traceback" not in done.stderr, done.stderr
    debug = imagegen("--debug", "generate", "a fox", "-q", "low", env=env, cwd=tmp_path)
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr, debug.stderr
    assert debug.stderr.rstrip().splitlines()[-1].startswith("error: ")
    assert "a-test-token-123" not in debug.stderr


@pytest.mark.parametrize("command", ["emulator", "lab", "app"])
def test_a_taken_port_is_one_line_naming_port_and_exit_2(command: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        extra = ["--workdir", str(tmp_path)] if command == "lab" else []
        args = [command, "--port", port, *extra] + ([] if command == "emulator" else ["--no-browser"])
        done = imagegen(*args, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert _error_lines(done) == [
        f"error: cannot listen on 127.0.0.1:{port}: already in use; choose another port with --port."
    ]
    assert "OFFLINE MODE" not in done.stdout  # nothing was started for it
    assert not list(tmp_path.iterdir())  # nor copied


def test_a_batch_with_failed_items_exits_2(emulator: Emulator, tmp_path: Path) -> None:
    emulator.inject("server_error", times=10)
    (tmp_path / "prompts.csv").write_text("prompt\na fox\n", encoding="utf-8")
    env = {**os.environ, **emulator.env, "IMAGEGEN_CACHE_DIR": str(tmp_path / "cache")}
    done = imagegen(
        "batch", "prompts.csv", "--out", "out", "--max-retries", "0", "--quiet", env=env, cwd=tmp_path
    )
    assert done.returncode == 2, (done.stdout, done.stderr)


def test_models_refresh_without_credentials_says_the_catalog_was_not_read(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "IMAGEGEN_"))}
    done = imagegen("models", "--refresh", env=env, cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr.strip() == (
        "warning: Listing shipped models only: the live catalog was not read, as it needs "
        "CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN."
    )
    assert done.stdout.splitlines()[1].startswith("openai/gpt-image-1.5 ")
    assert imagegen("models", env=env, cwd=tmp_path).stderr == ""  # not asked for: nothing to say


@pytest.mark.parametrize("command", ["app", "lab", "generate", "batch", "models"])
def test_every_option_in_help_says_what_it_does(command: str) -> None:
    lines = imagegen(command, "--help").stdout.splitlines()
    silent = []
    for number, line in enumerate(lines):
        option = re.match(r"^  (-[^ ].*?)(\s{2,}\S.*)?$", line)
        if option is None or option.group(2):
            continue
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if not re.match(r"^\s{6,}\S", following):  # argparse puts long help on the next line
            silent.append(option.group(1))
    assert silent == []
