"""Whether a catalog's input schema is one the package can use: every keyword it reads holds a
value of the type JSON Schema gives it.

A schema of any other shape (``required: 5``, ``minimum: "1"``, ``enum: 7``, ``maxLength: null``,
``maxItems: "many"``) would raise deep in the checks or make every request invalid; it leaves
that one model unchecked instead, with one warning naming the keyword (see ``_catalog``).
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["MAX_PROPERTIES", "schema_shape_problem"]

MAX_PROPERTIES = 500  # more parameters than any form or help text can show
MAX_DEPTH = 8  # nested ``items`` rules
_NAME = re.compile(r"[^\x00-\x1f\x7f-\x9f]{1,200}")  # a parameter name that prints as itself
_COUNTS = ("minLength", "maxLength", "maxItems", "minItems")
_BOUNDS = ("minimum", "maximum")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_bound(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _rule_problem(where: str, rule: Any, depth: int = 0) -> str | None:
    if not isinstance(rule, dict):
        return f"{where} is not a JSON object"
    kind = rule.get("type")
    if kind is not None and not (
        isinstance(kind, str) or (isinstance(kind, list) and all(isinstance(k, str) for k in kind))
    ):
        return f"{where}: 'type' is {_short(kind)}, not a type name"
    if "enum" in rule and not isinstance(rule["enum"], list):
        return f"{where}: 'enum' is {_short(rule['enum'])}, not a list"
    for key in _BOUNDS:
        if key in rule and not _is_bound(rule[key]):
            return f"{where}: '{key}' is {_short(rule[key])}, not a number"
    for key in _COUNTS:
        if key in rule and not _is_count(rule[key]):
            return f"{where}: '{key}' is {_short(rule[key])}, not a whole number of 0 or more"
    if "description" in rule and not isinstance(rule["description"], str):
        return f"{where}: 'description' is not text"
    if "items" in rule:
        if depth >= MAX_DEPTH:
            return f"{where}: 'items' nest more than {MAX_DEPTH} deep"
        return _rule_problem(f"{where}.items", rule["items"], depth + 1)
    return None


def schema_shape_problem(inputs: dict[str, Any]) -> str | None:
    """What makes the input schema ``inputs`` unusable, in words, or None when it is usable."""
    props = inputs.get("properties")
    if not isinstance(props, dict):
        return "its input schema has no 'properties' object"
    if len(props) > MAX_PROPERTIES:
        return f"its input schema has {len(props)} properties, over the limit of {MAX_PROPERTIES}"
    for name, rule in props.items():
        if not _NAME.fullmatch(name):
            return f"a parameter name holds control characters or is empty: {_short(name)}"
        problem = _rule_problem(f"property {name!r}", rule)
        if problem:
            return problem
    required = inputs.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return f"'required' is {_short(required)}, not a list of names"
    closed = inputs.get("additionalProperties", True)
    if not isinstance(closed, (bool, dict)):
        return f"'additionalProperties' is {_short(closed)}, neither true, false nor a schema"
    return None


def _short(value: Any) -> str:
    text = ascii(value)
    return text if len(text) <= 40 else text[:37] + "..."
