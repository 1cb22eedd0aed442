"""``imagegen batch``: the command-line front end of :func:`jupyter_imagegen.batch`.

It only turns arguments into the call and the result into a summary; reading inputs, the rate
limit, the manifest and resuming are the batch's.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from typing import Any

from .._exceptions import ValidationError
from ..runtime import add_request_options, get_runtime, request_params

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, model: str) -> None:
    """Add the ``batch`` subcommand, its request options' help written for ``model``."""
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
    add_request_options(cmd, model, get_runtime(), images=False, cache=False)
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
    cmd.add_argument(
        "--dry-run",
        action="store_true",
        help="print the requests it would send, the expected cache hits and the estimated cost; send nothing",
    )


def run(args: argparse.Namespace) -> int:
    """Run the batch the arguments describe; 0 when every item is done, 2 when it stopped at the
    daily budget, 1 otherwise."""
    from ._batch import batch

    if args.dry_run:
        plan = batch(pathlib.Path(args.input), args.out, dry_run=True, n=args.n, **_common(args))
        print(plan.summary(every_request=True))
        return 0
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
        raise ValidationError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        print(
            f"interrupted: finished images are recorded in {args.out}; run the same batch again to continue.",
            file=sys.stderr,
        )
        return 130
    print(result.summary())
    return 0 if result.ok else 2  # the one rule: any error exits 2 (the summary says which items)


def _common(args: argparse.Namespace) -> dict[str, Any]:
    """The options every row shares: the model if given, the parameters in their schema types."""
    from ..runtime import get_runtime, model_spec

    common = request_params(args, model_spec(get_runtime(), args.model or get_runtime().default_model()))
    return {**common, "model": args.model} if args.model else common
