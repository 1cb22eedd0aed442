"""Checking parameters against a model's published input schema, before anything is sent.

``schema_problems`` is the one checker: the client turns its findings into a
:class:`ValidationError` that names the fix, and the emulator into Cloudflare's 400 envelope.
It covers the JSON-schema subset the catalog uses: type, enum, minimum/maximum,
minLength/maxLength, maxItems, required and a closed ``additionalProperties``.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass
from typing import Any

from .._exceptions import ValidationError
from ._model_schema import few_values
from ._models import ModelSpec

__all__ = [
    "MAX_PROMPT_CHARS",
    "Problem",
    "check_prompt_length",
    "coerce_param",
    "schema_problems",
    "validate_params",
]

MAX_FUZZY_CHOICES = 1000
# The longest prompt any front end sends: OpenAI documents 32,000 characters for its image models
# (the longest of the models shipped); checked before anything else looks at the prompt.
MAX_PROMPT_CHARS = 32_000
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field, phrased so the user knows what to change."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def nearest(value: Any, choices: list[Any]) -> Any | None:
    """The allowed value the user most likely meant, or None when nothing is close."""
    text = str(value).strip().lower()
    by_text = {str(c).lower(): c for c in choices}
    if text in by_text:
        return by_text[text]
    prefixed = [c for c in choices if str(c).lower().startswith(text)] if text else []
    if len(prefixed) >= 1:
        return prefixed[0]
    if len(by_text) > MAX_FUZZY_CHOICES:
        return None  # fuzzy matching a huge list would take seconds for a hint
    close = difflib.get_close_matches(text, list(by_text), n=1, cutoff=0.5)
    return by_text[close[0]] if close else None


def _type_ok(value: Any, type_name: str) -> bool:
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    if type_name == "number" and isinstance(value, float) and not math.isfinite(value):
        return False
    return isinstance(value, _TYPES.get(type_name, (object,)))


def _span(low: float | None, high: float | None) -> str:
    """A range as a person says it: at most 20, at least 1, between 1 and 20."""
    if low is None:
        return f"at most {high}"
    if high is None:
        return f"at least {low}"
    return f"between {low} and {high}"


def _field_problems(name: str, rule: dict[str, Any], value: Any) -> list[Problem]:
    type_name = rule.get("type")
    if isinstance(type_name, str) and not _type_ok(value, type_name):
        return [Problem(name, f"expected {type_name}, got {_describe(value)}")]
    found: list[Problem] = []
    if "enum" in rule and value not in rule["enum"]:
        allowed = few_values(list(rule["enum"]))
        guess = nearest(value, list(rule["enum"]))
        hint = f"; did you mean {guess!r}?" if guess is not None else ""
        found.append(Problem(name, f"{_describe(value)} is not allowed (choose one of: {allowed}){hint}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = rule.get("minimum"), rule.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            found.append(Problem(name, f"{value} is out of range: it must be {_span(low, high)}"))
    if isinstance(value, str):
        if len(value) < rule.get("minLength", 0):
            found.append(Problem(name, f"must be at least {rule['minLength']} character(s) long"))
        if "maxLength" in rule and len(value) > rule["maxLength"]:
            found.append(Problem(name, f"is {len(value)} characters; the limit is {rule['maxLength']}"))
    if isinstance(value, (list, tuple)):
        if "maxItems" in rule and len(value) > rule["maxItems"]:
            found.append(Problem(name, f"has {len(value)} items; the limit is {rule['maxItems']}"))
        item_rule = rule.get("items")
        if isinstance(item_rule, dict):
            for i, item in enumerate(value):
                found.extend(_field_problems(f"{name}[{i}]", item_rule, item))
                if found:
                    break
    return found


def _choices(rule: Any) -> str:
    if isinstance(rule, dict) and isinstance(rule.get("enum"), list):
        return f" (choose one of: {', '.join(str(v) for v in rule['enum'])})"
    if isinstance(rule, dict) and "pattern" in rule:
        example = f", e.g. {rule['default']}" if "default" in rule else ""
        return f" (matching {rule['pattern']}{example})"
    return ""


def schema_problems(schema: dict[str, Any], instance: dict[str, Any]) -> list[Problem]:
    """Everything wrong with ``instance`` under ``schema``; empty when it is valid."""
    props: dict[str, dict[str, Any]] = schema.get("properties", {})
    found = [
        Problem(name, "is required" + _choices(props.get(name)))
        for name in schema.get("required", [])
        if instance.get(name) is None
    ]
    for name, value in instance.items():
        if name in props:
            found.extend(_field_problems(name, props[name], value))
        elif schema.get("additionalProperties", True) is False:
            guess = nearest(name, list(props))
            hint = f"; did you mean {guess!r}?" if guess is not None else ""
            known = few_values(sorted(props))
            found.append(Problem(name, f"is not a parameter of this model (it takes: {known}){hint}"))
    return found


def check_prompt_length(prompt: object) -> None:
    """Raise :class:`ValidationError` for a prompt over MAX_PROMPT_CHARS characters."""
    if isinstance(prompt, str) and len(prompt) > MAX_PROMPT_CHARS:
        raise ValidationError(
            f"The prompt is {len(prompt):,} characters; the limit is {MAX_PROMPT_CHARS:,} "
            "(as OpenAI documents for its image models): shorten it."
        )


def validate_params(spec: ModelSpec, instance: dict[str, Any]) -> None:
    """Raise :class:`ValidationError` listing every problem with ``instance`` for ``spec``."""
    prompt = instance.get("prompt")
    check_prompt_length(prompt)
    needs_prompt = not spec.known or spec.prompt_field == "prompt"
    if needs_prompt and (not isinstance(prompt, str) or not prompt.strip()):
        raise ValidationError("The prompt is empty: describe the image you want, e.g. 'a red fox in snow'.")
    if not spec.known:
        return
    found = spec.image_input
    if (
        found is not None
        and found.field in spec.input_schema.get("required", [])
        and found.field not in instance
    ):
        raise ValidationError(f"{spec.id} needs an input image: give one with -i SRC (images=... in Python).")
    problems = schema_problems(spec.input_schema, instance)
    if problems:
        listed = "; ".join(str(p) for p in problems)
        raise ValidationError(f"Invalid input for {spec.id}: {listed}", problems=problems)


def coerce_param(spec: ModelSpec, name: str, text: str) -> Any:
    """Turn a parameter typed as text (``steps=4`` in the magic, a CLI flag) into its schema type."""
    if not text.strip():
        # Sending "" would reach the service as a value; an empty value is a typo, not a choice.
        raise ValidationError(f"{name} has no value: write {name}=VALUE, or leave the parameter out.")
    rule = spec.properties.get(name, {})
    kind = rule.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        raise ValidationError(f"{name}: expected {kind}, got {text!r}") from None
    if kind in ("array", "object") or (kind is None and text.lstrip()[:1] in ("[", "{")):
        try:
            return json.loads(text)
        except ValueError:
            if kind is not None:
                raise ValidationError(f"{name}: expected a JSON {kind}, got {text!r}") from None
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise ValidationError(f"{name}: expected true or false, got {text!r}")
    if kind is None and not spec.known:
        for convert in (int, float):
            try:
                return convert(text)
            except ValueError:
                pass
    return text
