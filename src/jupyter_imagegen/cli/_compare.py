"""``imagegen generate`` with several values for an option: the comparison on the command line.

The matrix runs as one action (concurrently, through the cache and the daily budgets, refused
whole when it does not fit), then each image is listed with its labels, time and estimated cost
(or "cached"), and the totals. With ``-o DIR`` the originals and an ``index.html`` contact sheet
go to DIR (made if missing, nothing in it replaced); without, each image goes to the current
folder under a name made of the prompt and its labels.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import TYPE_CHECKING

from .._exceptions import BudgetExceededError, ValidationError
from ._output import check_writable

if TYPE_CHECKING:
    from ..client import GeneratedImage
    from ..runtime import Matrix, Runtime

__all__ = ["run_comparison"]

_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


def run_comparison(runtime: Runtime, matrix: Matrix, args: argparse.Namespace) -> int:
    """Run, list and write the comparison; 0 when every image was made, 2 when any failed (each
    failure one line on stderr, with its traceback under ``--debug``)."""
    from ..notebook import Comparison

    if args.out:
        _check_folder(args.out)
    runtime.client().settings.require_credentials()
    try:
        ran = runtime.run(matrix.requests, refresh=args.refresh)
    except BudgetExceededError as exc:
        raise matrix.refused(exc) from None
    if ran.interrupted:
        raise KeyboardInterrupt
    result = Comparison.of(matrix, ran.outcomes)
    if args.out and result.images:
        sheet = result.save(args.out)
    else:
        sheet = None
        for index, cell in enumerate(result.cells):
            if cell.image is not None:
                result.paths[index] = _write_here(cell.image, " ".join(cell.labels))
    for index, cell in enumerate(result.cells):
        labels = " · ".join(cell.labels)
        if cell.image is None:
            if getattr(args, "debug", False) and cell.error is not None:
                traceback.print_exception(cell.error)
            print(f"error: {labels}: {cell.error or 'cancelled'}", file=sys.stderr)
        else:
            print(f"{labels}: {result.caption(index)}  {result.paths.get(index, '')}")
    print(f"total: {result.summary()}")
    if sheet:
        print(f"contact sheet: {sheet}")
    return 2 if any(cell.image is None for cell in result.cells) else 0


def _check_folder(out: str) -> None:
    """``out`` as the folder of a comparison, made and probed before anything is sent."""
    if os.path.isfile(out) or os.path.splitext(out)[1].lower() in _IMAGE_EXTENSIONS:
        raise ValidationError(
            f"-o {out}: a comparison makes several images, so -o names a folder (e.g. -o compare/)."
        )
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise ValidationError(
            f"cannot write to {os.path.abspath(out)} ({exc.strerror or exc}); choose another folder with -o."
        ) from None
    check_writable(out, "choose another folder with -o.")


def _write_here(image: GeneratedImage, labels: str) -> str:
    from ..client import safe_filename, unique_path

    stem = safe_filename(f"{image.prompt} {labels}", max_length=80)
    try:
        return image.save(unique_path(".", stem, image.extension))
    except OSError as exc:
        print(f"error: could not write the image ({exc.strerror or exc})", file=sys.stderr)
        return ""
