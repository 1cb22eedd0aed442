"""What the panel does with each message its front end sends: one ``_msg_<type>`` method per
action (sync, generate, cancel, reuse, original; the input images and mask: :mod:`._panel_inputs`).
A mixin of :class:`ImageGenPanel`; every action runs under the panel's error reporting, so a
failure shows in the panel."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from .._exceptions import ImageGenError, ValidationError
from ._panel_state import HISTORY, Entry, InputImage, gateway_fields, with_seed

__all__ = ["PanelActions"]


class PanelActions:
    """The front end's messages, turned into calls on the panel."""

    if TYPE_CHECKING:  # provided by ImageGenPanel
        model: str
        params: dict[str, Any]
        compare: dict[str, list[Any]]
        prompt: str
        gateway: dict[str, Any]
        validity: dict[str, Any]
        _inputs: list[InputImage]

        def generate(self) -> list[str]: ...
        def cancel(self, job_id: str | None = None) -> int: ...
        def send(self, content: dict[str, Any], buffers: list[Any] | None = None) -> None: ...
        def hold_sync(self) -> AbstractContextManager[None]: ...
        def _set_inputs(self, inputs: Sequence[InputImage]) -> None: ...
        def _set_mask(self, mask: InputImage | None) -> None: ...
        def _reporting(self, action: str) -> AbstractContextManager[None]: ...
        def _send_changes(self, *, reset: bool) -> None: ...
        @staticmethod
        def _scrub(text: str) -> str: ...

    def _on_message(self, _widget: Any, content: Any, buffers: Sequence[Any] | None) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        handler = getattr(self, f"_msg_{kind}", None) if isinstance(kind, str) else None
        with self._reporting(f"The panel's {kind!r} action"):
            if handler is None:
                raise ImageGenError(f"The panel sent an unknown message {kind!r}; reload the page.")
            handler(content, list(buffers or []))

    def _msg_sync(self, content: dict[str, Any], buffers: list[Any]) -> None:
        """A front end that just started (a page load, a reopened notebook): the whole lists."""
        self._send_changes(reset=True)

    def _msg_generate(self, content: dict[str, Any], buffers: list[Any]) -> None:
        # The text on screen when Generate was pressed: the trait update carrying the last
        # keystrokes may still be held back by the widget manager and arrive after this message.
        prompt = content.get("prompt")
        if isinstance(prompt, str) and prompt != self.prompt:
            self.prompt = prompt
        try:
            self.generate()
        except ValidationError as exc:  # shown where the reason always shows, not as an error
            self.validity = {"valid": False, "reason": self._scrub(str(exc))}

    def _msg_cancel(self, content: dict[str, Any], buffers: list[Any]) -> None:
        job = content.get("job")
        self.cancel(job if isinstance(job, str) else None)

    def _msg_reuse(self, content: dict[str, Any], buffers: list[Any]) -> None:
        entry = self._entry(content)
        request = entry.request
        local = [data for data in request.images if isinstance(data, bytes)]  # URLs are not uploads
        inputs = [InputImage.create(f"input-{i + 1}", data) for i, data in enumerate(local)]
        with self.hold_sync():
            self.compare = {}  # one image's settings: a comparison's cell reused is compared no more
            self.model = request.model
            self.params = with_seed(request.params, entry.info.seed)
            self.prompt = request.prompt
            self.gateway = gateway_fields(request.gateway)
            self._set_inputs(inputs)
            # Like the input images: a mask given as a URL (from Python) is not an upload.
            self._set_mask(
                InputImage.create("mask", request.mask) if isinstance(request.mask, bytes) else None
            )

    def _msg_original(self, content: dict[str, Any], buffers: list[Any]) -> None:
        from ..client import provenance_bytes

        entry = self._entry(content)
        image = entry.image  # read from disk now, not kept in memory
        data = image.data
        if content.get("purpose") == "download":  # a downloaded file keeps its provenance
            data = provenance_bytes(image.data, image.mime_type, image.provenance)
        reply = {
            "type": "original",
            "request": content.get("request"),
            "id": entry.id,
            "mime": image.mime_type,
            "filename": entry.filename,
        }
        self.send(reply, [data])

    def _entry(self, content: dict[str, Any]) -> Entry:
        entry = HISTORY.find(str(content.get("id")))
        if entry is None:
            raise ImageGenError(
                f"That image is no longer in the gallery (it keeps the newest {HISTORY.limit})."
            )
        return entry
