"""The emulated model catalog (docs/cloudflare.md §6): ``GET .../ai/models/search`` and ``.../ai/models/schema``.

It lists the shipped Workers AI (``@cf/``) models and any model added from schema files with
``--models DIR``; whether the live search lists third-party models is undocumented, so it does
not (ours). A model file is one JSON object::

    {"name": "@cf/acme/pixel-forge", "description": "...", "task": "Text-to-Image",
     "schema": {"input": {...JSON schema...}, "output": {...JSON schema...}}}

(``schema`` may also be spread at the top level as ``input`` and ``output``). The output schema
decides the answer's shape exactly as the client reads it (``_model_schema``): a string with an
image ``contentType`` is a binary answer, an object with an ``image`` URL or base64 string is JSON.
An emulator-only ``"output_kind"`` (``url``, ``url-array``, ``base64-json`` or ``binary``) overrides it, to play a
model whose output schema is vague or wrong.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from ..client import ModelSpec, is_model_id, list_models, shipped_model, spec_from_schema
from ._inputs import ServiceError

__all__ = ["CatalogEntry", "load_models_dir", "schema_result", "search_answer"]

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50  # ours: a larger per_page is cut to this, and result_info says so
_TASK = "Text-to-Image"


@dataclass(frozen=True)
class CatalogEntry:
    """One model as the catalog shows it: its listing fields and its two schemas."""

    spec: ModelSpec
    description: str
    task: str
    output: dict[str, Any] = field(repr=False)

    def listing(self) -> dict[str, Any]:
        name = self.spec.id
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            "source": 1,
            "name": name,
            "description": self.description,
            "task": {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, self.task)),
                "name": self.task,
                "description": "",
            },
            "tags": [],
            "properties": [],
        }


def _output_schema(spec: ModelSpec) -> dict[str, Any]:
    if spec.output_kind == "binary":
        mime = spec.binary_content_type or "image/png"
        return {
            "type": "string",
            "contentType": mime,
            "format": "binary",
            "description": "The generated image",
        }
    if spec.output_kind == "url-array":
        images = {"type": "array", "minItems": 1, "items": {"type": "string", "format": "uri"}}
        return {"type": "object", "contentType": "application/json", "properties": {"images": images}}
    words = (
        "URL of the generated image" if spec.output_kind == "url" else "The generated image in Base64 format."
    )
    image = {
        "type": "string",
        "description": words,
        **({"format": "uri"} if spec.output_kind == "url" else {}),
    }
    return {"type": "object", "contentType": "application/json", "properties": {"image": image}}


def _shipped() -> list[CatalogEntry]:
    entries = []
    for model_id in list_models():
        spec = shipped_model(model_id)
        if spec is not None and spec.hosting == "hosted":
            entries.append(CatalogEntry(spec, f"{model_id} (shipped schema)", _TASK, _output_schema(spec)))
    return entries


def load_models_dir(directory: str | os.PathLike[str]) -> dict[str, CatalogEntry]:
    """The models described by ``*.json`` files in ``directory``; ValueError naming a bad file."""
    found: dict[str, CatalogEntry] = {}
    folder = Path(directory)
    if not folder.is_dir():
        raise ValueError(f"--models {directory}: not a folder")
    for path in sorted(folder.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            name = raw.get("name") or raw.get("model")
            if not isinstance(name, str):
                raise ValueError("it has no 'name' (the model id)")
            if not is_model_id(name):
                raise ValueError(f"its name {ascii(name)[:80]} is not a model id (like @cf/acme/pixel-forge)")
            schema = raw.get("schema", {"input": raw.get("input"), "output": raw.get("output")})
            spec = spec_from_schema(name, schema)
            forced = raw.get("output_kind")  # emulator only: play a model whose schema says less
            if forced is not None:
                if forced not in ("url", "url-array", "base64-json", "binary"):
                    raise ValueError("'output_kind' must be url, url-array, base64-json or binary")
                mime = raw.get("binary_content_type", "image/png") if forced == "binary" else None
                spec = replace(spec, output_kind=forced, binary_content_type=mime)
        except RecursionError:
            raise ValueError(f"model file {path}: its JSON is nested too deeply") from None
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            raise ValueError(f"model file {path}: {exc}") from None
        task = str(raw.get("task", _TASK))
        output = schema.get("output") if isinstance(schema.get("output"), dict) else _output_schema(spec)
        found[name] = CatalogEntry(spec, str(raw.get("description", "")), task, output)
    return found


def _entries(added: dict[str, CatalogEntry]) -> list[CatalogEntry]:
    shipped = [e for e in _shipped() if e.spec.id not in added]
    return shipped + list(added.values())


def _number(query: dict[str, list[str]], name: str, default: int, high: int) -> int:
    text = query.get(name, [str(default)])[-1]
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise ServiceError(400, 3003, f"Incomplete request: {name} must be a whole number from 1 to {high}")
    return int(text)


def search_answer(added: dict[str, CatalogEntry], query_string: str) -> dict[str, Any]:
    """The v4 envelope of one search page, with ``result_info`` for paging."""
    query = parse_qs(query_string)
    task = query.get("task", [""])[-1].lower()
    words = query.get("search", [""])[-1].lower()
    author = query.get("author", [""])[-1].lower()
    matches = [
        e.listing()
        for e in _entries(added)
        if (not task or e.task.lower() == task)
        and (not words or words in f"{e.spec.id} {e.description}".lower())
        and (not author or e.spec.id.removeprefix("@cf/").split("/")[0].lower() == author)
    ]
    page = _number(query, "page", 1, 10_000)
    per_page = min(_number(query, "per_page", DEFAULT_PER_PAGE, 1_000), MAX_PER_PAGE)
    chunk = matches[(page - 1) * per_page : page * per_page]
    info = {"count": len(chunk), "page": page, "per_page": per_page, "total_count": len(matches)}
    return {"success": True, "errors": [], "messages": [], "result": chunk, "result_info": info}


def schema_result(added: dict[str, CatalogEntry], query_string: str) -> dict[str, Any]:
    """``{"input": ..., "output": ...}`` for ``?model=``; ServiceError 400/5007 for an unknown id."""
    model = parse_qs(query_string).get("model", [""])[-1]
    if not model:
        raise ServiceError(400, 3003, "Incomplete request: the query parameter 'model' is required")
    entry = next((e for e in _entries(added) if e.spec.id == model), None)
    if entry is None:
        raise ServiceError(400, 5007, f"No such model {model} or task")
    if entry.spec.request_format == "multipart":
        # As the live catalog shows multipart models: only the Workers binding's wrapper.
        return {"input": MULTIPART_WRAPPER, "output": entry.output}
    return {"input": entry.spec.input_schema, "output": entry.output}


MULTIPART_WRAPPER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "multipart": {
            "type": "object",
            "properties": {"body": {"type": "object"}, "contentType": {"type": "string"}},
            "required": ["body", "contentType"],
        }
    },
    "required": ["multipart"],
}
