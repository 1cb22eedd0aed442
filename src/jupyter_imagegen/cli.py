"""The ``imagegen`` command: generate images, list models, run the emulator, open JupyterLab.

imagegen generate "a red fox in snow" --size 512x512 -o fox.png
imagegen batch prompts.csv --out images/ --rpm 600
imagegen models
imagegen emulator --port 8787
imagegen lab notebooks/quickstart.ipynb
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from ._exceptions import ImageGenError

__all__ = ["main"]

CREDENTIALS = ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN")


def _parser(model: str) -> argparse.ArgumentParser:
    """The command's parser; request options' help is written for ``model``."""
    parser = _Parser(prog="imagegen", description="Generate images with Cloudflare Workers AI.")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)

    from ._generate_cli import add_parser as add_generate_parser

    add_generate_parser(commands, model)

    commands.add_parser("models", help="list the models the package knows")

    emu = commands.add_parser("emulator", help="run the local Cloudflare emulator", add_help=False)
    emu.add_argument("args", nargs=argparse.REMAINDER)

    lab = commands.add_parser("lab", help="open JupyterLab (on the emulator when no credentials are set)")
    lab.add_argument("notebook", nargs="?", default="notebooks/quickstart.ipynb")
    lab.add_argument("--port", type=int, default=8888)
    lab.add_argument("--no-browser", action="store_true")

    from ._batch_cli import add_parser as add_batch_parser

    add_batch_parser(commands, model)
    return parser


def _models() -> int:
    from ._models import get_model, list_models

    for model_id in list_models():
        spec = get_model(model_id)
        params = ", ".join(spec.parameters) or "-"
        edits = f"edits up to {spec.max_images}" if spec.max_images else "no edits"
        print(f"{model_id:48} {spec.output_kind:12} {edits:16} {params}")
    return 0


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _lab(args: argparse.Namespace) -> int:
    """JupyterLab on the notebook; with no credentials, on an in-process emulator, said loudly."""
    import signal
    import subprocess

    from ._offline import emulator_banner

    env = dict(os.environ)
    emulator = None
    if not all(env.get(name) for name in CREDENTIALS):
        from .emulator import Emulator

        emulator = Emulator(port=0).start()
        env.update(emulator.env)
        print(emulator_banner(emulator.base_url), flush=True)
        print("(CLOUDFLARE_ACCOUNT_ID / CLOUDFLARE_API_TOKEN are not set.)", flush=True)
    command = [sys.executable, "-m", "jupyter", "lab", args.notebook, f"--port={args.port}"]
    command += ["--ServerApp.ip=127.0.0.1"] + (["--no-browser"] if args.no_browser else [])
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines run as root
        command.append("--allow-root")
    lab = subprocess.Popen(command, env=env)
    # A terminated launcher must not orphan the server: treat SIGTERM like Ctrl-C.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return lab.wait()
    except KeyboardInterrupt:
        lab.terminate()
        try:
            lab.wait(timeout=15)
        except subprocess.TimeoutExpired:
            lab.kill()
        return 130
    finally:
        if emulator is not None:
            emulator.stop()


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; every error is one line on stderr and exit code 2 (``--debug`` adds the
    traceback), an interrupt exits with 130."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        from .emulator import main as emulator_main

        return int(emulator_main(argv[1:]))
    debug = "--debug" in argv
    from ._options import chosen_model

    words = [word for word in argv if word != "--debug"]
    args = _parser(chosen_model(words)).parse_args(words)
    try:
        if args.command == "generate":
            from ._generate_cli import run as run_generate

            return run_generate(args)
        if args.command == "models":
            return _models()
        if args.command == "batch":
            from ._batch_cli import run as run_batch

            return run_batch(args)
        return _lab(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        from ._runtime import get_runtime

        get_runtime().close()


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ImageGenError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    text = " ".join(str(exc).split())
    return f"unexpected {type(exc).__name__}: {text} (run again with --debug for the traceback)"


if __name__ == "__main__":
    sys.exit(main())
