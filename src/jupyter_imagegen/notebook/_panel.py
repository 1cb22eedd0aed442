"""``ImageGenPanel``: the control panel widget (an anywidget; its front end is ``static/panel.js``,
built from ``js/``).

The widget only translates: the form's state (synced traits) becomes a request through the core's
``prepare`` (which validates it; the reason shows next to a disabled Generate), and results become
gallery items. Requests run as tasks on the kernel's event loop (:mod:`._panel_jobs`), so the
notebook stays usable while images generate. The API token lives in the client, never in a trait.

The job list and the gallery grow with the work, so they are not traits (a trait is re-sent whole
on every change): the panel sends only what changed, as custom messages (``{"type": "jobs"}`` and
``{"type": "gallery"}``, see :mod:`._panel_changes`), with thumbnails as binary
buffers; a front end that starts (a page load, a reopened notebook) asks once for the whole list
(``{"type": "sync"}``). Originals stay on disk and travel only on demand.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import traitlets
from anywidget import AnyWidget

from .._exceptions import ImageGenError, ImageGenWarning
from ..client import DEFAULT_MODEL, ModelList, redact
from ..runtime import (
    build_requests,
    check_image_count,
    expected_misses,
    get_runtime,
    spend_today,
)
from ._panel_actions import PanelActions
from ._panel_api import PanelApi
from ._panel_catalog import follow_catalog, follow_models, known_models
from ._panel_changes import SentLists
from ._panel_compare import checked_compare
from ._panel_comparisons import PanelComparisons
from ._panel_inputs import PanelInputs
from ._panel_jobs import JobRunner, PanelJob
from ._panel_snapshot import Snapshot, SnapshotDisplay
from ._panel_state import (
    EMPTY_GATEWAY,
    HISTORY,
    MAX_VARIATIONS,
    Entry,
    form_params,
    gateway_kwargs,
    keep_params,
    model_info,
    new_id,
)
from ._warnings import show_warnings_on_one_line

if TYPE_CHECKING:
    from ..client import AsyncClient, ImageRequest

__all__ = ["ImageGenPanel"]

_STATIC = pathlib.Path(__file__).parent / "static"
_FORM = ["prompt", "params", "variations", "gateway", "use_cache", "compare"]
_log = logging.getLogger(__name__)


class ImageGenPanel(PanelActions, PanelInputs, PanelApi, PanelComparisons, SnapshotDisplay, AnyWidget):
    """A panel to write prompts, pick a model and its settings, and browse what was generated.

    ``panel.images`` lists the gallery's images (newest first), ``panel.selected`` those marked
    in the gallery, ``panel.save(folder)`` writes them with their provenance. The gallery is the
    kernel's: a new panel shows every image made in this kernel so far.
    """

    _esm = _STATIC / "panel.js"
    _css = _STATIC / "panel.css"

    prompt = traitlets.Unicode("").tag(sync=True)
    model = traitlets.Unicode(DEFAULT_MODEL).tag(sync=True)
    models = traitlets.List(traitlets.Unicode()).tag(sync=True)
    model_info = traitlets.Dict().tag(sync=True)
    params = traitlets.Dict().tag(sync=True)
    compare = traitlets.Dict().tag(sync=True)  # {"model": [...], "quality": [...]}: options compared
    variations = traitlets.Int(1).tag(sync=True)
    limits = traitlets.Dict().tag(sync=True)  # the browser's limits come from here, not a copy
    gateway = traitlets.Dict().tag(sync=True)
    use_cache = traitlets.Bool(True).tag(sync=True)
    inputs = traitlets.List(traitlets.Dict()).tag(sync=True)  # name and thumbnail: bytes stay here
    mask = traitlets.Dict().tag(sync=True)  # likewise, {} when none is set
    validity = traitlets.Dict().tag(sync=True)
    selected_ids = traitlets.List(traitlets.Unicode()).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    spend = traitlets.Dict().tag(sync=True)  # today's use from the usage ledger, for the header
    snapshot_id = traitlets.Unicode("").tag(sync=True)  # the live view hides this saved snapshot

    def __init__(
        self,
        prompt: str = "",
        *,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
        variations: int = 1,
        client: AsyncClient | None = None,
        **kwargs: Any,
    ) -> None:
        show_warnings_on_one_line()
        self._runner = JobRunner(self._on_jobs, self._image_made, client=client)
        self._inputs, self._mask, self._masks_by_model = [], None, {}  # see PanelInputs
        self._params_by_model: dict[str, dict[str, Any]] = {}
        self._last_error: BaseException | None = None
        self._sent = SentLists([entry.id for entry in HISTORY.entries])  # a new view asks for these
        self._ended: frozenset[str] = frozenset()  # jobs that had ended when spend was last read
        self._comparisons = []  # newest first
        self._snapshot = Snapshot(f"jig-snapshot-{new_id()}")
        chosen = model or self._default_model()
        offered = known_models()  # the live catalog's list and a new model's schema follow below
        super().__init__(
            prompt=prompt,
            model=chosen,
            models=_offered(offered, chosen),
            model_info=model_info(chosen),
            params=get_runtime().model_defaults(chosen, dict(params or {})),
            variations=variations,
            limits={"max_variations": self._max_variations(), "max_images": get_runtime().max_images},
            gateway=dict(EMPTY_GATEWAY),
            use_cache=get_runtime().flag("cache", True),
            snapshot_id=self._snapshot.display_id,
            **kwargs,
        )
        self.on_msg(self._on_message)
        self.observe(self._on_model, names=["model"])
        self.observe(self._on_form, names=_FORM)
        self.observe(self._on_selection, names=["selected_ids"])
        HISTORY.subscribe(self._on_history)
        self._validate()
        follow_models(get_runtime(), self._models_listed)
        follow_catalog(get_runtime(), chosen, self._model_learned)
        with self._reporting("Reading today's usage"):
            self.spend = spend_today(get_runtime().meter())

    # Python API (images, selected, jobs, gallery, last_error, cancel, wait, save: PanelApi) --
    def generate(self) -> list[str]:
        """Queue the form's request(s), as the Generate button does; returns the job ids.
        Raises ValidationError when the form is invalid. With several values in ``compare``,
        the whole matrix is queued (or refused whole)."""
        if self._comparing():
            return self._generate_comparison()
        request, _ = self._prepare()
        start = HISTORY.reserve_variations(request, self.variations)
        requests = [request.with_variation(start + i) for i in range(self.variations)]
        cache = get_runtime().cache()
        # All the variations fit in today's budget or none is queued (each still reserves its own).
        misses = expected_misses(self._runner.planner(), requests, cache, refresh=not self.use_cache)
        get_runtime().meter().check(misses)
        jobs = self._runner.submit(requests, cache, refresh=not self.use_cache)
        return [job.id for job in jobs]

    def close(self) -> None:
        """Cancel unfinished requests, close the client and the widget."""
        HISTORY.unsubscribe(self._on_history)
        self._runner.close()
        super().close()

    # Form ----------------------------------------------------------------------------------
    def _default_model(self) -> str:
        try:
            return self._runner.planner().model
        except ImageGenError:
            return DEFAULT_MODEL  # the configuration error shows as the reason Generate is disabled

    @staticmethod
    def _max_variations() -> int:
        return min(MAX_VARIATIONS, get_runtime().max_images)

    def _prepare(self) -> tuple[ImageRequest, list[str]]:
        """The form as a validated request (variation 0), and any warning the core gave."""
        check_image_count(self.variations, self._max_variations(), what="Variations")
        images = [item.data for item in self._inputs] or None
        params = form_params(self.model, self.params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ImageGenWarning)
            # What is known of the model now: the catalog step runs when the model is chosen.
            (request,) = build_requests(
                get_runtime(),
                [self.prompt],
                model=self.model,
                params=params,
                images=images,
                mask=self._mask_bytes(),
                gateway=gateway_kwargs(self.gateway),
                defaults=False,  # the form shows them already, filled in when it opened
                wait=0,
                planner=self._runner.planner(),
            )
        return request, [str(w.message) for w in caught if issubclass(w.category, ImageGenWarning)]

    @traitlets.validate("compare")
    def _valid_compare(self, proposal: Mapping[str, Any]) -> dict[str, list[Any]]:
        return checked_compare(proposal["value"])

    def _validate(self) -> None:
        try:
            _, notes = self._prepare()
            if self._comparing():
                notes = [self._comparison_reason()]
        except (ImageGenError, TypeError) as exc:
            # Nothing typed yet is not an error to show: the front end says nothing until Generate.
            blank = {"blank": True} if not self.prompt.strip() else {}
            self.validity = {"valid": False, "reason": self._scrub(str(exc)), **blank}
        else:
            self.validity = {"valid": True, "reason": " ".join(notes)}

    def _on_model(self, change: Mapping[str, Any]) -> None:
        """New controls; values that fit the new model carry over, and switching back to a model
        brings back what was set for it. A model the package does not ship is read from the live
        catalog without waiting: its controls follow when it arrives."""
        old, new = change["old"], change["new"]
        self._params_by_model[old] = dict(self.params)
        self._carry_mask(old, new)
        self._show_model(new, {**self._params_by_model.get(new, {}), **self.params})
        follow_catalog(get_runtime(), new, self._model_learned)

    def _models_listed(self, listed: ModelList) -> None:
        """The live catalog's list arrived: offer it, and say what went wrong reading it."""
        self.models = _offered(listed.ids, self.model)
        if listed.notes and not self.error:
            self.error = " ".join(listed.notes)

    def _model_learned(self, model: str) -> None:
        if model == self.model:  # still the chosen one
            self._show_model(model, dict(self.params))

    def _show_model(self, model: str, params: dict[str, Any]) -> None:
        with self._reporting("Switching the model"), self.hold_sync():
            self.model_info = model_info(model)
            self.params = keep_params(model, params)
            kept = set(self.model_info["parameters"])
            self.compare = {n: v for n, v in self.compare.items() if n == "model" or n in kept}
            self._validate()

    def _on_form(self, change: Mapping[str, Any]) -> None:
        with self._reporting("Checking the form"):
            self._validate()

    # Updates from the jobs and the history -------------------------------------------------------
    def _image_made(self, job: PanelJob, entry: Entry) -> None:
        self._comparison_image(job.id, entry.id, entry.info)
        HISTORY.add(entry)

    def _on_jobs(self) -> None:
        with self._reporting("Updating the status"):
            self._send_changes(reset=False)
            # The ledger changes when a job ends, not when one is queued or starts: read it (a
            # locked file read on the kernel's event loop) only then.
            ended = frozenset(job.id for job in self._runner.jobs if not job.active)
            if not ended <= self._ended:
                self.spend = spend_today(get_runtime().meter())
            self._ended = ended

    def _on_history(self) -> None:
        with self._reporting("Updating the gallery"):
            self._send_changes(reset=False)
            self._on_selection({})
            self._update_snapshot()

    def _send_changes(self, *, reset: bool) -> None:
        """Tell the front end what changed since it was last told (everything when ``reset``)."""
        jobs = self.jobs
        for content, buffers in self._sent.messages(jobs, HISTORY.entries, reset=reset):
            self.send(content, buffers)
        self._send_comparisons(jobs, reset=reset)

    # Errors --------------------------------------------------------------------------------
    def set_state(self, sync_data: dict[str, Any]) -> None:
        """State from the front end; a value a trait rejects is reported in the panel."""
        with self._reporting("Applying a change from the panel"):
            super().set_state(sync_data)

    @contextlib.contextmanager
    def _reporting(self, action: str) -> Iterator[None]:
        """Show any exception of ``action`` in the panel instead of losing it in the kernel log."""
        try:
            yield
        except Exception as exc:
            self._last_error = exc
            if isinstance(exc, ImageGenError):
                message = str(exc)
            else:
                _log.exception("%s failed", action)
                message = f"{action} failed: {type(exc).__name__}: {exc}"
            self.error = self._scrub(message)

    @staticmethod
    def _scrub(text: str) -> str:
        """Belt and braces: the core already keeps the token out of its messages."""
        token = os.environ.get("CLOUDFLARE_API_TOKEN", "").strip()
        return redact(text, token) if len(token) >= 8 else text


def _offered(ids: list[str], model: str) -> list[str]:
    """The models the picker offers: ``ids``, and the chosen ``model`` after them if they lack it
    (a model chosen by id that no list names)."""
    return ids if model in ids else [*ids, model]
