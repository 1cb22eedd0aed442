"""The ``imagegen`` command: generate images, list models, run the emulator, open JupyterLab.

imagegen generate "a red fox in snow" --size 512x512 -o fox.png
imagegen batch prompts.csv --out images/ --rpm 600
imagegen models
imagegen emulator --port 8787
imagegen lab notebooks/quickstart.ipynb
imagegen app --port 8866
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from ._exceptions import ImageGenError, ValidationError

__all__ = ["main"]


def _parser(model_help: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imagegen", description="Generate images with Cloudflare Workers AI."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser(
        "generate",
        help="generate one or more images from a prompt",
        epilog=model_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gen.add_argument("prompt", help="what the image should show")
    gen.add_argument("-m", "--model", help="model id (default: $IMAGEGEN_MODEL or openai/gpt-image-1.5)")
    gen.add_argument("-q", "--quality", help="low, medium, high or auto (gpt-image models)")
    gen.add_argument("-s", "--size", help="e.g. 1024x1024 (gpt-image models)")
    gen.add_argument("--style", help="vivid or natural (gpt-image-1.5)")
    gen.add_argument("-i", "--image", action="append", default=[], help="input image to edit (repeatable)")
    gen.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other parameter of the model's schema, e.g. steps=4 (repeatable)",
    )
    gen.add_argument("-n", type=int, default=1, help="number of variations")
    gen.add_argument("-o", "--out", help="output file (default: named after the prompt, never overwriting)")

    listing = commands.add_parser(
        "models", help="list the shipped models and those the account's live catalog offers"
    )
    listing.add_argument("--refresh", action="store_true", help="read the live catalog again now")
    listing.add_argument("--task", default="Text-to-Image", help="catalog task (default: %(default)s)")

    emu = commands.add_parser("emulator", help="run the local Cloudflare emulator", add_help=False)
    emu.add_argument("args", nargs=argparse.REMAINDER)

    lab = commands.add_parser("lab", help="open JupyterLab (on the emulator when no credentials are set)")
    lab.add_argument("notebook", nargs="?", default="notebooks/quickstart.ipynb")
    lab.add_argument("--port", type=int, help="port (default: 8888, or the next free one)")
    lab.add_argument("--no-browser", action="store_true", help="print the URL; do not open a browser")

    app = commands.add_parser("app", help="serve the control panel alone as a web page (Voilà)")
    app.add_argument("--port", type=int, default=8866)
    app.add_argument("--no-browser", action="store_true")
    app.add_argument("--theme", choices=("light", "dark"), default="light")

    from ._batch_cli import add_parser as add_batch_parser

    add_batch_parser(commands)
    return parser


def _generate(args: argparse.Namespace) -> int:
    from ._client import Client
    from ._files import safe_filename, unique_path
    from ._models import get_model
    from ._validation import coerce_param

    with Client(model=args.model) as client:
        spec = get_model(client.model)
        params: dict[str, Any] = {
            k: v for k, v in (("quality", args.quality), ("size", args.size), ("style", args.style)) if v
        }
        for item in args.param:
            name, sep, text = item.partition("=")
            if not sep or not name:
                raise ValidationError(f"--param takes NAME=VALUE, got {item!r}.")
            params[name.strip()] = coerce_param(spec, name.strip(), text.strip())
        requests = [
            client.prepare(args.prompt, images=args.image or None, variation=i, **params)
            for i in range(args.n)
        ]
        results = client.generate_many(requests)
    for index, outcome in enumerate(results):
        if isinstance(outcome, BaseException):
            print(f"error: image {index + 1}: {outcome}", file=sys.stderr)
            continue
        if args.out and args.n == 1:
            path = outcome.save(args.out)
        else:
            stem, ext = os.path.splitext(args.out) if args.out else (safe_filename(args.prompt), "")
            path = outcome.save(
                unique_path(os.path.dirname(stem) or ".", os.path.basename(stem), ext or outcome.extension)
            )
        print(f"{path}  ({outcome.width}x{outcome.height}, {outcome.model}, {outcome.elapsed:.1f} s)")
    return 1 if results.errors else 0


def _models(args: argparse.Namespace) -> int:
    from ._catalog import models
    from ._models import get_model

    print(f"{'MODEL':48} {'OUTPUT':12} {'EDITS':16} PARAMETERS")
    for model_id in models(args.task, refresh=args.refresh):
        spec = get_model(model_id)
        params = ", ".join(spec.parameters) or "-"
        edits = f"up to {spec.max_images} images" if spec.max_images else "no"
        origin = "" if spec.origin == "shipped" else f" [{spec.origin}]"
        print(f"{model_id:48} {spec.output_kind:12} {edits:16} {params}{origin}")
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
    from ._model_schema import describe_parameter
    from ._models import get_model

    spec = get_model(model)
    if not spec.known:
        why = f" ({spec.note})" if spec.note else ""
        return f"{model}: not a known model{why}; its parameters are sent unchecked."
    lines = [f"parameters of {model} (pass with -p NAME=VALUE):"]
    lines += [f"  {describe_parameter(name, rule)}" for name, rule in spec.parameters.items()]
    return "\n".join(lines)


def _quiet_stdout() -> None:
    """After a closed pipe (``imagegen models | head -2``), stop writing without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        from .emulator import main as emulator_main

        return int(emulator_main(argv[1:], prog="imagegen emulator"))
    args = _parser(_model_help(argv)).parse_args(argv)
    warnings.showwarning = _one_line_warning
    try:
        if args.command == "generate":
            return _generate(args)
        if args.command == "models":
            return _models(args)
        if args.command == "batch":
            from ._batch_cli import run as run_batch

            return run_batch(args)
        if args.command == "app":
            from ._app import serve_app

            return serve_app(port=args.port, open_browser=not args.no_browser, theme=args.theme)
        from ._lab import run_lab

        return run_lab(args.notebook, port=args.port, open_browser=not args.no_browser)
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ImageGenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 141  # what a shell reports for a command ended by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
