"""The panel's input images and mask (a mixin of :class:`ImageGenPanel`): uploads from the front
end (``add_input``, ``remove_input``, ``use_as_input``, ``set_mask``, ``remove_mask`` messages,
bytes as a binary buffer), kept in the kernel; the synced ``inputs`` and ``mask`` traits hold only
a name and a small thumbnail each, so an upload is never re-sent, nor saved in the notebook.

A mask goes with the model: a model that takes none has it dropped (and hidden in the form), and
switching back to the model it was set for brings it back, as parameters come back."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from .._exceptions import ValidationError
from ._panel_state import InputImage, mask_upload_problem, takes_mask_upload

if TYPE_CHECKING:
    from ._panel_state import Entry

__all__ = ["PanelInputs"]


class PanelInputs:
    """Input images and the mask of :class:`ImageGenPanel`."""

    if TYPE_CHECKING:  # provided by ImageGenPanel and PanelActions
        model: str
        inputs: list[dict[str, Any]]
        mask: dict[str, Any]

        def hold_sync(self) -> AbstractContextManager[None]: ...
        def _validate(self) -> None: ...
        def _entry(self, content: dict[str, Any]) -> Entry: ...

    _inputs: list[InputImage]
    _mask: InputImage | None
    _masks_by_model: dict[str, InputImage | None]

    def _set_inputs(self, inputs: Sequence[InputImage]) -> None:
        self._inputs = list(inputs)
        with self.hold_sync():
            self.inputs = [item.item() for item in self._inputs]
            self._validate()

    def _set_mask(self, mask: InputImage | None) -> None:
        with self.hold_sync():
            self._show_mask(mask)
            self._validate()

    def _show_mask(self, mask: InputImage | None) -> None:
        self._mask = mask
        self.mask = {} if mask is None else {**mask.item(), "size": len(mask.data)}

    def _carry_mask(self, old: str, new: str) -> None:
        """The model changes from ``old`` to ``new``: the mask set stays if ``new`` takes one
        (else the one last set with ``new``), and is dropped if it does not."""
        self._masks_by_model[old] = self._mask
        kept = self._mask or self._masks_by_model.get(new)
        self._show_mask(kept if takes_mask_upload(new) else None)

    def _mask_bytes(self) -> bytes | None:
        return None if self._mask is None else self._mask.data

    @staticmethod
    def _upload(content: dict[str, Any], buffers: list[Any], what: str) -> InputImage:
        from ..client import image_source_bytes

        name = str(content.get("name") or "upload")
        if not buffers:
            raise ValidationError(f"{what}{name}: the upload arrived without its bytes; try again.")
        try:
            data = image_source_bytes(bytes(buffers[0]))
        except ValidationError as exc:
            raise ValidationError(f"{what}{name}: {exc}") from None
        return InputImage.create(name, data)

    def _msg_add_input(self, content: dict[str, Any], buffers: list[Any]) -> None:
        self._set_inputs([*self._inputs, self._upload(content, buffers, "")])

    def _msg_remove_input(self, content: dict[str, Any], buffers: list[Any]) -> None:
        index = content.get("index")
        if isinstance(index, int) and 0 <= index < len(self._inputs):
            self._set_inputs(self._inputs[:index] + self._inputs[index + 1 :])

    def _msg_use_as_input(self, content: dict[str, Any], buffers: list[Any]) -> None:
        entry = self._entry(content)
        self._set_inputs([*self._inputs, InputImage.create(entry.filename, entry.image.data)])

    def _msg_set_mask(self, content: dict[str, Any], buffers: list[Any]) -> None:
        problem = mask_upload_problem(self.model)  # the form hides the control: a stale page sent it
        if problem is not None:
            raise ValidationError(problem)
        self._set_mask(self._upload(content, buffers, "Mask "))

    def _msg_remove_mask(self, content: dict[str, Any], buffers: list[Any]) -> None:
        self._set_mask(None)
