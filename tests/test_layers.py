"""The package's layers and the facts kept below them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_imagegen._exceptions import FINAL_RATE_LIMIT_CODES
from jupyter_imagegen.client._cloudflare import RATE_LIMIT_CODES


def test_the_exceptions_name_exactly_the_final_rate_limit_codes_of_the_table() -> None:
    assert {code for code, fact in RATE_LIMIT_CODES.items() if fact.final} == FINAL_RATE_LIMIT_CODES


def test_get_model_reads_nothing_for_a_model_the_package_does_not_ship() -> None:
    probe = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise AssertionError('network')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from jupyter_imagegen import get_model\n"
        "spec = get_model('@cf/someone/new-model')\n"
        "assert spec.origin == 'unknown' and not spec.known\n"
        "assert 'jupyter_imagegen.client._catalog' not in sys.modules\n"
    )
    env = {"CLOUDFLARE_ACCOUNT_ID": "acct", "CLOUDFLARE_API_TOKEN": "token", "PATH": ""}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter is in the dev extra")
def test_the_layers_hold() -> None:
    """The contracts of pyproject.toml: layers, private modules, no circles (what CI runs)."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        ["lint-imports", "--no-logo", "--no-cache"], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("package", ["", ".client", ".runtime", ".notebook", ".batches"])
def test_every_name_a_package_exports_loads_and_only_those(package: str) -> None:
    """Each ``__all__`` and the table of where its names load from agree (in a new process, so
    every name is loaded on first use, as a user's import does)."""
    name = f"jupyter_imagegen{package}"
    probe = (
        "import importlib\n"
        f"package = importlib.import_module({name!r})\n"
        "missing = [n for n in package.__all__ if getattr(package, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert set(package.__all__) <= set(dir(package))\n"
        "try:\n"
        "    package.no_such_name\n"
        "except AttributeError as error:\n"
        "    assert 'no_such_name' in str(error)\n"
        "else:\n"
        "    raise AssertionError('an unknown name loaded')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
