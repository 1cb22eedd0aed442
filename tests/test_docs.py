"""The documentation cannot drift: every shell command in the README runs against the emulator,
twice as written (or is named below with the test that covers it), and the repository stands alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_imagegen.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# README commands that are not run here, and why. Each still must appear in the README.
NOT_RUN_HERE = {
    'pip install -e ".[lab]" && imagegen lab': "installs, then serves until stopped: .ci/first-command "
    "runs it in a fresh venv; test_main_job.py runs imagegen lab",
    'pip install -e ".[app]" && imagegen app': "installs, then serves until stopped: "
    "tests/browser/test_app_browser.py runs imagegen app",
    'pip install -e ".[marimo]" && marimo edit notebooks/marimo_quickstart.py': "installs, then "
    "serves until stopped: tests/browser/test_marimo_browser.py serves that notebook with marimo run",
    "bash .ci/test": "the whole check, this test included: it is what CI runs",
    'pip install -e ".[dev]"': "installs packages: .ci/test runs it",
    "python -m pytest": "the whole suite, this test included",
    'python -m pytest -m "not browser"': "the suite, this test included",
    "ruff check . && ruff format --check . && mypy": "lint and types: .ci/test runs them",
    "(cd js && npm ci && npm test && npm run build)": "needs Node and the npm registry: .ci/test runs it",
    "python bench/p1_concurrency.py": "a benchmark that takes minutes and rewrites bench/RESULTS.md",
    "imagegen emulator --port 8787": "serves until stopped: test_emulator.py::test_cli_serves_until_terminated",
    "lint-imports": "reads the repository's pyproject.toml: test_layers.py::test_the_layers_hold",
}

# Files the commands below expect beside them, as a reader following the README would have.
FIXTURES = {"prompts.csv": "prompt,quality\na red fox in snow,low\nan owl at dusk,low\n"}


def readme_commands() -> list[str]:
    """Each line of the README's ```bash blocks, without its trailing comment."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    commands = []
    for line in (line for block in blocks for line in block.splitlines()):
        command = re.sub(r"\s+#\s.*$", "", line).strip()
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


RUN_HERE = [command for command in readme_commands() if command not in NOT_RUN_HERE]


def test_every_command_not_run_here_is_still_in_the_readme() -> None:
    stale = set(NOT_RUN_HERE) - set(readme_commands())
    assert not stale, f"update NOT_RUN_HERE: the README no longer says {sorted(stale)}"
    assert RUN_HERE, "the README shows no command that this test can run"


@pytest.mark.parametrize("command", RUN_HERE)
def test_readme_command_runs_against_the_emulator(command: str, emulator: Emulator, tmp_path: Path) -> None:
    for name, text in FIXTURES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = {**os.environ, **emulator.env, "IMAGEGEN_MAX_RETRIES": "0"}
    # `imagegen` is this interpreter's package, whether or not the script is on PATH.
    shim = f'imagegen() {{ "{sys.executable}" -m jupyter_imagegen "$@"; }}\n'
    # A reader runs a command again (a notebook re-run, the up arrow): it must work twice as written.
    for attempt in ("first", "second"):
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", shim + command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command} ({attempt} run)\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
    if command.startswith("imagegen usage") or "--dry-run" in command:
        assert not [r for r in emulator.requests if "/ai/run" in r.path]  # they send nothing
    else:
        assert emulator.requests or command.startswith("imagegen models") or "--help" in command


def test_first_command_installs_an_extra_that_brings_jupyterlab() -> None:
    tomllib = pytest.importorskip("tomllib")
    first = readme_commands()[0]
    extra = re.fullmatch(r'pip install -e "\.\[(\w+)\]" && imagegen lab', first)
    assert extra is not None, first
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["optional-dependencies"][extra.group(1)]
    assert any(requirement.startswith("jupyterlab") for requirement in wanted)
    assert project["scripts"]["imagegen"] == "jupyter_imagegen.cli:main"


def test_the_token_permission_is_workers_ai_read_everywhere() -> None:
    readme = README.read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `CLOUDFLARE_API_TOKEN`"))
    assert "`Workers AI Read`" in row
    assert "Workers AI Read" in (ROOT / "docs" / "cloudflare.md").read_text(encoding="utf-8")


# Spelled in pieces so this file does not find itself.
OUTSIDE_REFERENCES = ("../" + "shared", "shared/" + "cloudflare", "CONTRACT" + ".md", "CONTRACT" + " §")
TEXT_SUFFIXES = (".py", ".md", ".toml", ".json", ".js", ".ipynb", ".cfg", ".txt", ".yml", ".sh")
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", "test-artifacts", "build"}


def test_nothing_in_the_repository_reaches_outside_it() -> None:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in files:
            is_script = Path(folder).name == ".ci"
            if not is_script and not name.endswith(TEXT_SUFFIXES):
                continue
            text = (Path(folder) / name).read_text(encoding="utf-8", errors="replace")
            found += [
                f"{Path(folder, name).relative_to(ROOT)}: {ref}" for ref in OUTSIDE_REFERENCES if ref in text
            ]
    assert not found, "the repository must stand alone: " + ", ".join(found)


def readme_python_scripts() -> list[str]:
    """The README's ```python blocks that stand alone as a script (they import the package)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return [block for block in blocks if block.startswith("import jupyter_imagegen as ig\n")]


@pytest.mark.parametrize("script", readme_python_scripts())
def test_readme_python_runs_twice_as_written(script: str, emulator: Emulator, tmp_path: Path) -> None:
    env = {**os.environ, **emulator.env, "IMAGEGEN_MAX_RETRIES": "0"}
    for attempt in ("first", "second"):  # a notebook re-run
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{attempt} run\n{done.stdout}\n{done.stderr}"


def test_saving_the_same_image_twice_is_not_an_error_but_another_image_is(tmp_path: Path) -> None:
    from jupyter_imagegen.client._files import write_new_file

    target = str(tmp_path / "fox.png")
    assert write_new_file(target, b"first") == target
    assert write_new_file(target, b"first") == target  # the same bytes: a re-run, nothing lost
    with pytest.raises(FileExistsError, match="already exists"):
        write_new_file(target, b"other")
    assert (tmp_path / "fox.png").read_bytes() == b"first"
