"""One option specification: the magic's help and the command's help list the same request
options, with the enum values of the chosen model's schema."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_imagegen.cli import main
from magic_support import ipython_shell, run

REQUEST_FLAGS = {"-m", "--model", "-q", "--quality", "-s", "--size", "--style", "-p", "--param", "-n"}


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("COLUMNS", "400")  # one line per option: whitespace is all that differs
    with ipython_shell() as ipython:
        yield ipython


def cli_help(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([*args, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def option_lines(text: str) -> dict[str, str]:
    """Each option's help, keyed by its flags, whitespace normalised (argparse puts the help of
    long flags on the next line, and may wrap it)."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if re.match(r"\s+-", line):
            flags_part, _, help_part = line.strip().partition("  ")
            flags = re.findall(r"(?<![\w-])-{1,2}[a-z][a-z-]*", flags_part)
            current = found.setdefault(" ".join(flags), [])
            current.append(help_part)
        elif current is not None and line.startswith(" "):
            current.append(line)
        else:
            current = None
    return {key: " ".join(" ".join(parts).split()) for key, parts in found.items()}


@pytest.mark.parametrize(
    "model", ["openai/gpt-image-1.5", "openai/gpt-image-2", "@cf/black-forest-labs/flux-1-schnell"]
)
def test_magic_and_cli_help_list_the_same_request_options_and_enum_values(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], model: str
) -> None:
    magic = option_lines(run(shell, f"%imagegen --help -m {model}").stdout)
    generate = option_lines(cli_help(capsys, "generate", "-m", model))
    batch = option_lines(cli_help(capsys, "batch", "-m", model))
    shared = {key: text for key, text in magic.items() if set(key.split()) & REQUEST_FLAGS}
    assert {flag for key in shared for flag in key.split()} == REQUEST_FLAGS
    for key, text in shared.items():
        assert generate[key] == text and batch[key] == text, key
    assert magic["-i --image"] == generate["-i --image"] and magic["--refresh"] == generate["--refresh"]
    quality = shared["-q --quality"]
    if model == "openai/gpt-image-2":
        assert quality == "quality: low, medium, high, auto (openai/gpt-image-2)"
        assert shared["-s --size"] == "size: 1024x1024, 1024x1536, 1536x1024, auto (openai/gpt-image-2)"
        assert "no style" in shared["--style"]
    elif model.startswith("@cf/"):
        assert "no quality" in quality and "takes" in shared["-p --param"] and "steps" in shared["-p --param"]


def test_param_is_coerced_and_checked_the_same_in_the_magic_and_the_cli(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(shell, "%imagegen -m @cf/black-forest-labs/flux-1-schnell -p steps=many a fox")
    assert main(["generate", "a fox", "-m", "@cf/black-forest-labs/flux-1-schnell", "-p", "steps=many"]) == 2
    assert str(ran.error) in capsys.readouterr().err
    ran = run(shell, "%imagegen -p steps a fox")
    assert main(["generate", "a fox", "-p", "steps"]) == 2
    assert str(ran.error) in capsys.readouterr().err
