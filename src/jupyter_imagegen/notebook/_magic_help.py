"""``%imagegen?``: the magic's help followed by every model's parameters, live catalog ones included."""

from __future__ import annotations

import inspect
import warnings

from ..client import describe_parameter, models
from ..runtime import get_runtime, model_spec

__all__ = ["help_with_models"]


def help_with_models(doc: str) -> str:
    """``doc``, then one line per model: ``id: name: type range (default); ...``."""
    lines = [inspect.cleandoc(doc), "", "Models and their parameters (set with -p NAME=VALUE;"]
    lines.append("`imagegen models --refresh` reads the account's live catalog again):")
    with warnings.catch_warnings(record=True) as caught:  # shown in the help, not as a warning
        warnings.simplefilter("always")
        offered = models()
    lines += [f"  ({warning.message})" for warning in caught]
    for model_id in offered:
        spec = model_spec(get_runtime(), model_id)
        params = (
            "; ".join(
                describe_parameter(n, r) + (" required" if n in spec.required else "")
                for n, r in spec.parameters.items()
            )
            or "-"
        )
        lines.append(f"  {model_id}: {params}")
    return "\n".join(lines)
