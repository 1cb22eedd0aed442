"""A :class:`ModelSpec` from the schemas the model catalog publishes (docs/cloudflare.md §6).

The catalog gives an input and an output JSON schema per model. The input schema is what the
offline checks, the panel's controls and the help texts read; the output schema says which of
the three answer shapes (docs/cloudflare.md §3) the model uses. The client reads answers by their content
type anyway, so a wrong guess here changes only what is shown, never whether an image arrives.
"""

from __future__ import annotations

from typing import Any

from ._models import Hosting, ModelSpec, OutputKind
from ._schema_shape import schema_shape_problem

__all__ = ["describe_parameter", "few_values", "output_kind_of", "spec_from_schema"]

SHOWN_VALUES = 8  # allowed values a message or help line lists before it gives the count


def few_values(values: list[Any], *, sep: str = ", ") -> str:
    """The first few of ``values`` as text, and how many there are when that is not all."""
    shown = sep.join(_short(v) for v in values[:SHOWN_VALUES])
    more = len(values) - SHOWN_VALUES
    return shown if more <= 0 else f"{shown}{sep}... ({len(values)} values in all)"


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def output_kind_of(output: Any, hosting: Hosting) -> tuple[OutputKind, str | None]:
    """The answer shape an output schema describes, and the image type of a binary answer."""
    if isinstance(output, dict):
        content_type = str(output.get("contentType", "")).lower()
        if content_type.startswith("image/") or output.get("format") == "binary":
            return "binary", content_type if content_type.startswith("image/") else "image/png"
        if output.get("type") == "string":  # the body itself is the image
            return "binary", "image/png"
        image = (
            output.get("properties", {}).get("image") if isinstance(output.get("properties"), dict) else None
        )
        if isinstance(image, dict):
            said = f"{image.get('format', '')} {image.get('description', '')}".lower()
            if "uri" in said or "url" in said:
                return "url", None
            if "base64" in said:
                return "base64-json", None
    return ("base64-json" if hosting == "hosted" else "url"), None


def spec_from_schema(model_id: str, schema: Any) -> ModelSpec:
    """The spec of a catalog model from its ``{"input": ..., "output": ...}``; ValueError when
    the input schema is not an object schema with a ``prompt`` property."""
    if not isinstance(schema, dict):
        raise ValueError("the schema answer is not a JSON object")
    inputs = schema.get("input")
    if not isinstance(inputs, dict) or not isinstance(inputs.get("properties"), dict):
        raise ValueError("its input schema has no 'properties' object")
    props = inputs["properties"]
    if not isinstance(props.get("prompt"), dict):
        raise ValueError("its input schema has no 'prompt' property (not a text-to-image model?)")
    problem = schema_shape_problem(inputs)
    if problem is not None:
        raise ValueError(problem)
    hosting: Hosting = "hosted" if model_id.startswith("@cf/") else "proxied"
    kind, content_type = output_kind_of(schema.get("output"), hosting)
    return ModelSpec(model_id, hosting, kind, inputs, binary_content_type=content_type, origin="catalog")


def describe_parameter(name: str, rule: dict[str, Any]) -> str:
    """One parameter as help text: ``steps: integer 1..8 (default 4)``."""
    kind = str(rule.get("type", "any"))
    if isinstance(rule.get("enum"), list):
        kind = few_values(rule["enum"], sep="|")
    elif "minimum" in rule or "maximum" in rule:
        kind += f" {rule.get('minimum', '')}..{rule.get('maximum', '')}"
    default = f" (default {rule['default']})" if "default" in rule else ""
    return f"{name}: {kind}{default}"
