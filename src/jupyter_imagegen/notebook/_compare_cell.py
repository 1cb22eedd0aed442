"""A comparison cell: the run of :mod:`._session` with the matrix's own refusal, result and files.

The matrix is refused whole by the daily budget (the refusal says what it would have been), ``-o``
keeps a :class:`~jupyter_imagegen.Comparison`, and ``--save DIR`` writes its originals with the
contact sheet instead of files named after the prompt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._exceptions import BudgetExceededError
from ._session import run_cell

if TYPE_CHECKING:
    from ..runtime import Matrix, Runtime
    from ._comparison import Comparison
    from ._session import CellJob, CellOutcome

__all__ = ["run_comparison_cell"]


def run_comparison_cell(runtime: Runtime, job: CellJob, matrix: Matrix) -> tuple[CellOutcome, Comparison]:
    """Run ``job`` (planned as ``matrix``) and return its outcome and its Comparison."""
    from ._comparison import Comparison

    save_dir, job.save_dir = job.save_dir, None  # the comparison writes its own folder
    try:
        outcome = run_cell(runtime, job)
    except BudgetExceededError as exc:
        raise matrix.refused(exc) from None
    result = Comparison.of(matrix, outcome.outcomes)
    if save_dir and result.images:
        try:
            print(f"contact sheet: {result.save(save_dir)}")
        except OSError as exc:
            outcome.save_error = f"Could not save to {save_dir}: {exc.strerror or exc}."
    return outcome, result
