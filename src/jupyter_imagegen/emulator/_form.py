"""Reading a multipart/form-data body, as the hosted FLUX.2 models receive their inputs.

The body arrives already bounded by the server's request-size limit (``MAX_REQUEST_BYTES``), the
same as a JSON body. Text fields become the types the model's schema gives them (a form carries
only text), so the schema check that JSON inputs get applies unchanged; file parts stay bytes.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass
from typing import Any

from ..client import ModelSpec

__all__ = ["FormField", "is_multipart", "parse_form", "typed_form"]

_MAX_PARTS = 64  # ours: a form with more parts than any model has fields is refused


@dataclass(frozen=True)
class FormField:
    """One part: its name, its value (text, or bytes for a file part) and its file name."""

    name: str
    value: str | bytes
    filename: str | None = None
    content_type: str | None = None


def is_multipart(headers: dict[str, str]) -> bool:
    return headers.get("content-type", "").lower().startswith("multipart/form-data")


def parse_form(content_type: str, raw: bytes) -> list[FormField]:
    """The parts of a multipart/form-data body; ValueError when it is not one."""
    if "boundary=" not in content_type.lower():
        raise ValueError("the multipart Content-Type has no boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise ValueError("the body is not a multipart message")
    fields: list[FormField] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise ValueError("a part has no name in its Content-Disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields.append(FormField(name, data.decode("utf-8", "replace")))
        else:
            fields.append(FormField(name, data, filename, part.get_content_type()))
        if len(fields) > _MAX_PARTS:
            raise ValueError(f"more than {_MAX_PARTS} parts")
    return fields


def _typed(rule: dict[str, Any], text: str) -> Any:
    kind = rule.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text  # the schema check names the field and the type it wanted
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def typed_form(spec: ModelSpec, fields: list[FormField]) -> dict[str, Any]:
    """The model's inputs from the form's parts, text typed by the schema."""
    inputs: dict[str, Any] = {}
    for part in fields:
        if isinstance(part.value, bytes):
            inputs[part.name] = part.value
        else:
            inputs[part.name] = _typed(spec.properties.get(part.name, {}), part.value)
    return inputs
