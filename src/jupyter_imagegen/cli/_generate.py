"""``imagegen generate``: the command-line front end of one prompt.

It turns arguments into requests and results into files; the client, the disk cache, the limits
and the event loop are the process's :class:`Runtime`, as in the notebook. So a repeated command
costs nothing and says "cached" (``--refresh`` asks for new samples), and ``-n`` is checked as the
magic checks it. Every output path is checked before any request is sent: nothing is paid for
and then lost to an existing file or an unwritable folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import TYPE_CHECKING, Any

from .._exceptions import ValidationError
from ..runtime import (
    GridCell,
    add_request_options,
    check_image_count,
    expected_misses,
    get_runtime,
    plan_requests,
)
from ._output import check_writable

if TYPE_CHECKING:
    from ..client import GeneratedImage

__all__ = ["add_parser", "run"]

_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


def add_parser(commands: Any, model: str, epilog: str | None = None) -> None:
    """Add the ``generate`` subcommand, its request options' help written for ``model``;
    ``epilog`` (the model's parameters) ends its help."""
    gen = commands.add_parser(
        "generate",
        help="generate one or more images from a prompt",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gen.add_argument(
        "prompt",
        nargs="?",
        default="",
        help="what the image should show (none for a model that takes only images)",
    )
    add_request_options(gen, model, get_runtime())
    gen.add_argument(
        "-o",
        "--out",
        help="output file (default: named after the prompt, never overwriting); when an option has "
        "several values (a comparison), a folder for the originals and an index.html contact sheet",
    )
    gen.add_argument("--overwrite", action="store_true", help="replace the -o file if it exists")
    gen.add_argument(
        "--dry-run", action="store_true", help="print the requests and their estimated cost; send nothing"
    )


def run(args: argparse.Namespace) -> int:
    """Generate, write and list the images; 0 when all were made, 2 when any failed (each failure
    one line on stderr, with its traceback under ``--debug``)."""
    runtime = get_runtime()
    check_image_count(args.n, runtime.max_images)
    matrix = plan_requests(  # the one place a request option's several values are expanded
        runtime,
        args,
        [GridCell(args.prompt, ())],
        images=args.image or None,
        mask=args.mask,
        skip_cache=args.refresh,
        command=_command_line(getattr(args, "words", sys.argv[1:])),
    )
    if args.dry_run:
        print(matrix.dry_run(runtime, refresh=args.refresh))
        return 0
    if matrix.varying:
        from ._compare import run_comparison

        return run_comparison(runtime, matrix, args)
    client = runtime.client()
    requests = matrix.requests
    # An existing -o file is fine when the answer will come from the cache: the same command run
    # again rewrites nothing, costs nothing and says "cached" (an image that differs from the
    # file is still refused when it is written, and was free).
    cached = not expected_misses(client, requests, runtime.cache(), refresh=args.refresh)
    target = _check_output(args.out, args.n, args.overwrite or cached)
    client.settings.require_credentials()  # one line now rather than one per image
    ran = runtime.run(requests, refresh=args.refresh)
    if ran.interrupted:
        raise KeyboardInterrupt
    failed = 0
    for index, outcome in enumerate(ran.outcomes):
        if outcome is None or isinstance(outcome, BaseException):
            if getattr(args, "debug", False) and isinstance(outcome, BaseException):
                traceback.print_exception(outcome)
            print(f"error: image {index + 1}: {outcome}", file=sys.stderr)
            failed += 1
            continue
        for image in outcome.images:  # a model may answer several images to one request
            path = _write(image, target, args.prompt, args.n * image.answer_count, args.overwrite)
            how = "cached" if image.cached else f"{image.elapsed:.1f} s"
            print(f"{path}  ({image.width}x{image.height}, {image.model}, {how})")
    return 2 if failed else 0


def _command_line(words: list[str]) -> str:
    """The command as typed, for a contact sheet (arguments only: settings stay in the environment)."""
    import shlex

    return "imagegen " + " ".join(shlex.quote(word) for word in words)


def _check_output(out: str | None, count: int, may_exist: bool) -> str | None:
    """The ``-o`` file for a single image (None when files are named after the prompt); raises
    ValidationError for a folder that cannot be written, or an existing file unless ``may_exist``."""
    folder = (os.path.dirname(out) if out else "") or "."
    if not os.path.isdir(folder):
        raise ValidationError(f"-o {out}: the folder {folder} does not exist; create it first.")
    check_writable(folder, "choose another place with -o.")
    if out is None or count > 1 or may_exist:
        return out
    stem, extension = os.path.splitext(out)
    candidates = [out] if extension else [stem + ext for ext in _IMAGE_EXTENSIONS]
    for existing in (path for path in candidates if os.path.exists(path)):
        raise ValidationError(
            f"{existing} already exists; add --overwrite to replace it, or choose another -o."
        )
    return out


def _write(image: GeneratedImage, out: str | None, prompt: str, count: int, overwrite: bool) -> str:
    from ..client import safe_filename, unique_path

    try:
        if out and count == 1:
            try:
                return image.save(out, overwrite=overwrite)
            except FileExistsError:
                raise ValidationError(
                    f"{out} already exists and holds another image; add --overwrite to replace it, "
                    "or choose another -o (this image is cached: that costs nothing)."
                ) from None
        stem, extension = os.path.splitext(out) if out else (safe_filename(prompt), "")
        folder = os.path.dirname(stem) or "."
        path = unique_path(folder, os.path.basename(stem), extension or image.extension)
        return image.save(path, exclusive=True)
    except OSError as exc:
        raise ValidationError(
            f"could not write the image ({exc.strerror or exc}); it is kept in the cache, so the same "
            "command with another -o costs nothing."
        ) from None
