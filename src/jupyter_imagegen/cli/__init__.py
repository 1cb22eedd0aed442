"""The ``imagegen`` command: generate images, list models, run the emulator, open JupyterLab.

imagegen generate "a red fox in snow" --size 512x512 -o fox.png
imagegen batch prompts.csv --out images/ --rpm 600
imagegen usage
imagegen models
imagegen emulator --port 8787
imagegen lab
imagegen app --port 8866
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import NoReturn, TextIO

from .._exceptions import ImageGenError
from ..client import printable

__all__ = ["main", "printable"]


def _parser(model: str, model_help: str | None = None) -> argparse.ArgumentParser:
    """The command's parser; request options' help is written for ``model``, and
    ``generate --help -m MODEL`` ends with that model's parameters (``model_help``)."""
    parser = _Parser(prog="imagegen", description="Generate images with Cloudflare Workers AI.")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)

    from ._generate import add_parser as add_generate_parser

    add_generate_parser(commands, model, epilog=model_help)

    listing = commands.add_parser(
        "models", help="list the shipped models and those the account's live catalog offers"
    )
    listing.add_argument("--refresh", action="store_true", help="read the live catalog again now")
    listing.add_argument("--task", default="Text-to-Image", help="catalog task (default: %(default)s)")

    commands.add_parser(
        "usage", help="images, requests, cache hits and estimated spend per day and model, and today's budget"
    )

    emu = commands.add_parser("emulator", help="run the local Cloudflare emulator", add_help=False)
    emu.add_argument("args", nargs=argparse.REMAINDER)

    lab = commands.add_parser("lab", help="open JupyterLab (on the emulator when no credentials are set)")
    lab.add_argument(
        "notebook",
        nargs="?",
        help="a notebook or folder to open as it is (default: a working copy of the quickstart)",
    )
    lab.add_argument(
        "--workdir",
        metavar="DIR",
        help="where the quickstart's working copy goes (default: ~/imagegen-notebooks)",
    )
    lab.add_argument("--port", type=int, help="port (default: 8888, or the next free one)")
    lab.add_argument("--no-browser", action="store_true", help="print the URL; do not open a browser")

    app = commands.add_parser("app", help="serve the control panel alone as a web page (Voilà)")
    app.add_argument("--port", type=int, default=8866, help="port to serve on (default: %(default)s)")
    app.add_argument("--no-browser", action="store_true", help="print the URL; do not open a browser")
    app.add_argument(
        "--theme", choices=("light", "dark"), default="light", help="page colours (default: %(default)s)"
    )

    from ..batches import add_parser as add_batch_parser

    add_batch_parser(commands, model)
    return parser


def _models(args: argparse.Namespace) -> int:
    from ..client import models
    from ..runtime import get_runtime, model_spec

    print(f"{'MODEL':48} {'OUTPUT':12} {'EDITS':16} PARAMETERS")
    for model_id in models(args.task, refresh=args.refresh):
        spec = model_spec(get_runtime(), model_id)
        params = ", ".join(spec.parameters) or "-"
        edits = f"up to {spec.max_images} images" if spec.max_images else "no"
        origin = "" if spec.origin == "shipped" else f" [{spec.origin}]"
        line = f"{model_id:48} {spec.output_kind:12} {edits:16} {params}{origin}"
        print(printable(line))
    sys.stdout.flush()  # a closed pipe shows here, where main() handles it, not at exit
    return 0


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings as a terminal user reads them: one line, no source file or line of ours."""
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def _model_help(argv: list[str]) -> str | None:
    """For ``generate --help -m MODEL``: that model's parameters, as an epilog."""
    if argv[:1] != ["generate"] or not {"-h", "--help"} & set(argv):
        return None
    peek = argparse.ArgumentParser(add_help=False)
    peek.add_argument("-m", "--model")
    model = peek.parse_known_args(argv[1:])[0].model
    if not model:
        return None
    from ..client import describe_parameter
    from ..runtime import get_runtime, model_spec

    spec = model_spec(get_runtime(), model)
    if not spec.known:
        why = f" ({spec.note})" if spec.note else ""
        return f"{model}: not a known model{why}; its parameters are sent unchecked."
    lines = [f"parameters of {model} (pass with -p NAME=VALUE):"]
    lines += [
        f"  {describe_parameter(name, rule)}" + (" required" if name in spec.required else "")
        for name, rule in spec.parameters.items()
    ]
    return "\n".join(lines)


def _quiet_stdout() -> None:
    """After a closed pipe (``imagegen models | head -2``), stop writing without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; every error is one line on stderr and exit code 2 (``--debug`` adds the
    traceback), an interrupt exits with 130."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        from ..emulator import main as emulator_main

        return int(emulator_main(argv[1:], prog="imagegen emulator"))
    debug = "--debug" in argv
    from ..runtime import chosen_model, get_runtime

    words = [word for word in argv if word != "--debug"]
    args = _parser(chosen_model(words, get_runtime()), _model_help(words)).parse_args(words)
    args.debug = debug
    args.words = words  # the command as typed, quoted on a comparison's contact sheet
    warnings.showwarning = _one_line_warning
    try:
        if args.command == "generate":
            from ._generate import run as run_generate

            return run_generate(args)
        if args.command == "models":
            return _models(args)
        if args.command == "usage":
            from ..runtime import get_runtime

            print(get_runtime().usage_report())
            return 0
        if args.command == "batch":
            from ..batches import run as run_batch

            return run_batch(args)
        if args.command == "app":
            from ._app import serve_app

            return serve_app(port=args.port, open_browser=not args.no_browser, theme=args.theme)
        from ._lab import run_lab

        return run_lab(args.notebook, port=args.port, open_browser=not args.no_browser, workdir=args.workdir)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 141  # what a shell reports for a command ended by SIGPIPE
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        from ..runtime import get_runtime

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
