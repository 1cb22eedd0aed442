"""``imagegen batch``: the command-line front end of :func:`jupyter_imagegen.batch`.

It only turns arguments into the call and the result into a summary; reading inputs, the rate
limit, the manifest and resuming are the batch's.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from typing import Any

from ._exceptions import ValidationError

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Add the ``batch`` subcommand to the ``imagegen`` parser's subcommands."""
    cmd = commands.add_parser(
        "batch",
        help="generate many images from a CSV/JSONL/text file, rate-limited and resumable",
        description="Generate one image per row of INPUT into --out, under a requests-per-minute "
        "limit. A manifest.jsonl in --out records every item; running the same command again "
        "skips the finished ones.",
    )
    cmd.add_argument("input", help="a .csv/.tsv (with a 'prompt' column), .jsonl or .txt (one prompt a line)")
    cmd.add_argument("-o", "--out", required=True, help="output folder (created if missing)")
    cmd.add_argument("--rpm", type=float, default=720.0, help="requests per minute at most (default 720)")
    cmd.add_argument("--concurrency", type=int, default=32, help="requests in flight at most (default 32)")
    cmd.add_argument("--burst", type=int, default=1, help="requests that may start back to back (default 1)")
    cmd.add_argument("-m", "--model", help="model for rows without a 'model' column")
    cmd.add_argument("-q", "--quality", help="low, medium, high or auto (gpt-image models)")
    cmd.add_argument("-s", "--size", help="e.g. 1024x1024 (gpt-image models)")
    cmd.add_argument("--style", help="vivid or natural (gpt-image-1.5)")
    cmd.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other parameter for every row, e.g. steps=4 (repeatable; a row's own column wins)",
    )
    cmd.add_argument("-n", type=int, default=1, help="images per row (variations, default 1)")
    cmd.add_argument(
        "--retry-failed", action="store_true", help="generate the items that failed before again"
    )
    cmd.add_argument(
        "--restart", action="store_true", help="ignore the manifest and generate everything again"
    )
    cmd.add_argument(
        "--max-retries", type=int, default=2, help="retries of transient errors per item (default 2)"
    )
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run the batch the arguments describe; 0 when every item is done, 1 otherwise."""
    from ._batch import batch

    try:
        result = batch(
            pathlib.Path(args.input),
            args.out,
            rpm=args.rpm,
            concurrency=args.concurrency,
            burst=args.burst,
            resume=not args.restart,
            retry_failed=args.retry_failed,
            n=args.n,
            max_retries=args.max_retries,
            progress=not args.quiet,
            **_common(args),
        )
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(str(exc)) from None
    except OSError as exc:
        print(f"error: cannot write to {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"interrupted: finished images are recorded in {args.out}; run the same batch again to continue.",
            file=sys.stderr,
        )
        return 130
    print(result.summary())
    return 0 if result.ok else 1


def _common(args: argparse.Namespace) -> dict[str, Any]:
    from ._config import Settings
    from ._models import get_model
    from ._validation import coerce_param

    common: dict[str, Any] = {
        name: value
        for name, value in (
            ("model", args.model),
            ("quality", args.quality),
            ("size", args.size),
            ("style", args.style),
        )
        if value
    }
    spec = get_model(args.model or Settings.resolve().model)
    for item in args.param:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"--param takes NAME=VALUE, got {item!r}.")
        common[name.strip()] = coerce_param(spec, name.strip(), text.strip())
    return common
