"""The panel's comparisons as it runs them (a mixin of :class:`ImageGenPanel`): the form and its
compared values planned into the magic's matrix (:mod:`._panel_compare`), Generate queueing the
whole matrix or nothing, and a ``{"type": "comparison"}`` message whenever a cell ends."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._exceptions import BudgetExceededError, ValidationError
from ..client import GeneratedImage, get_model
from ..runtime import expected_misses, get_runtime
from ._panel_compare import PanelComparison, code_settings, compare_problem, plan_comparison
from ._panel_state import gateway_kwargs, new_id

if TYPE_CHECKING:
    from ..runtime import Matrix
    from ._panel_jobs import JobRunner
    from ._panel_state import InputImage

__all__ = ["PanelComparisons"]


class PanelComparisons:
    """The comparisons of :class:`ImageGenPanel` (a mixin): planning, Generate and the messages."""

    KEEP = 20  # comparisons a panel remembers; older ones' images stay in the gallery as cards

    if TYPE_CHECKING:  # provided by ImageGenPanel
        compare: dict[str, list[Any]]
        model: str
        models: list[str]
        params: dict[str, Any]
        prompt: str
        variations: int
        gateway: dict[str, Any]
        use_cache: bool
        _runner: JobRunner
        _inputs: list[InputImage]

        def send(self, content: dict[str, Any], buffers: list[Any] | None = None) -> None: ...
        def _mask_bytes(self) -> bytes | None: ...

    _comparisons: list[PanelComparison]

    def _comparing(self) -> bool:
        """True once an option's compare is ticked: Generate then plans the matrix."""
        return bool(self.compare)

    def _plan_comparison(self) -> Matrix:
        """The form and its compared values as a matrix, checked (ValidationError when wrong)."""
        problem = compare_problem(self.compare, self.model, self.models)
        if problem:
            raise ValidationError(problem)
        if not self.prompt.strip():
            raise ValidationError("The prompt is empty: describe the image to compare.")
        return plan_comparison(
            self.compare,
            model=self.model,
            params=self.params,
            prompt=self.prompt,
            variations=self.variations,
            images=[item.data for item in self._inputs] or None,
            mask=self._mask_bytes(),
            gateway=gateway_kwargs(self.gateway),
        )

    def _comparison_reason(self) -> str:
        """What Generate will do, checked as the form changes: never waiting on the network, so
        a model whose schema is not read yet is planned only when Generate is pressed."""
        unread = [m for m in self.compare.get("model", []) if get_model(m).origin == "unknown"]
        if unread:
            problem = compare_problem(self.compare, self.model, self.models)
            if problem:
                raise ValidationError(problem)
            count = math.prod(len(values) for values in self.compare.values()) * self.variations
            return f"Compares {count} images; {', '.join(unread)}: read from the live catalog at Generate."
        matrix = self._plan_comparison()
        return f"Compares {matrix.dimensions()}: {len(matrix.requests)} images, {matrix.cost_text()}."

    def _generate_comparison(self) -> list[str]:
        """Queue the whole matrix, or nothing: it is one action for the daily budget."""
        matrix = self._plan_comparison()
        cache = get_runtime().cache()
        refresh = not self.use_cache
        misses = expected_misses(self._runner.planner(), matrix.requests, cache, refresh=refresh)
        try:
            get_runtime().meter().check(misses)
        except BudgetExceededError as exc:
            raise matrix.refused(exc) from None
        code = code_settings(matrix, self.compare, self.params, self.prompt, self.variations)
        comparison = PanelComparison(new_id(), matrix, [], code)
        self._comparisons = [comparison, *self._comparisons][: self.KEEP]
        jobs = self._runner.submit(
            matrix.requests, cache, refresh=refresh, before_start=comparison.jobs.extend
        )
        return [job.id for job in jobs]

    def _comparison_image(self, job_id: str, entry_id: str, image: GeneratedImage) -> None:
        for comparison in self._comparisons:
            if comparison.add(job_id, entry_id, image):
                return

    def _send_comparisons(self, jobs: Sequence[dict[str, Any]], *, reset: bool) -> None:
        """Send each comparison whose cells changed since it was last sent (all when ``reset``)."""
        states = {job["id"]: job["state"] for job in jobs}
        for comparison in reversed(self._comparisons):  # oldest first: the front end puts new ones on top
            comparison.update(states)
            message = comparison.message()
            if reset or message != comparison.sent:
                self.send(message)
                comparison.sent = message
