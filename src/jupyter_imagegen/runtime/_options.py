"""The options that describe a request, one specification for ``%%imagegen``, ``imagegen generate``
and ``imagegen batch``: the same names, short flags, help and checks everywhere.

The help of a model parameter is read from the chosen model's schema (its enum values), so the
magic's and the command's help say the same for the same model; ``--param NAME=VALUE`` is turned
into the schema's type here and nowhere else.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from ..client import DEFAULT_MODEL, ModelSpec
from ._builder import model_spec, parse_param_texts
from ._runtime import MODEL_DEFAULTS, Runtime

__all__ = ["add_request_options", "chosen_model", "named_params", "parameter_help", "request_params"]

_SHORT = {"quality": "-q", "size": "-s"}  # short flags of the named model parameters


def parameter_help(name: str, spec: ModelSpec) -> str:
    """What ``name`` takes for ``spec``, from its schema."""
    rule = spec.parameters.get(name)
    if rule is None:
        return f"{name} ({spec.id} has no {name}; see imagegen models)" if spec.known else name
    values = rule.get("enum")
    if values:
        return f"{name}: {', '.join(str(v) for v in values)} ({spec.id})"
    kind = rule.get("type", "value")
    return f"{name}: a {kind} ({spec.id})"


def add_request_options(
    parser: argparse.ArgumentParser,
    model: str,
    runtime: Runtime,
    *,
    images: bool = True,
    cache: bool = True,
) -> None:
    """Add the request options, their help written for ``model``. ``images``: the -i option
    (editing); ``cache``: the --refresh option."""
    spec = model_spec(runtime, model)
    parser.add_argument(
        "-m",
        "--model",
        help=f"model id; in %%imagegen and imagegen generate several, comma-separated, to compare them (default: %%config model, "
        f"$IMAGEGEN_MODEL, else {DEFAULT_MODEL}; imagegen models lists them)",
    )
    for name in MODEL_DEFAULTS:
        flags = [_SHORT[name], f"--{name}"] if name in _SHORT else [f"--{name}"]
        parser.add_argument(*flags, help=parameter_help(name, spec))
    others = [name for name in spec.parameters if name not in MODEL_DEFAULTS]
    takes = f"; {spec.id} takes {', '.join(others)}" if others else ""
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"any other parameter of the model's schema, e.g. steps=4 (repeatable){takes}; "
        "in %%imagegen and imagegen generate every request option takes several values to "
        "compare, e.g. steps=4,8",
    )
    limit = runtime.max_images
    parser.add_argument(
        "-n", type=int, default=1, metavar="N", help=f"N variations of each prompt, 1 to {limit} (default 1)"
    )
    if images:
        parser.add_argument(
            "-i",
            "--image",
            action="append",
            default=[],
            metavar="SRC",
            help="image to edit: a file path or an https:// URL (in the magic also a variable holding a "
            "PIL image, bytes, numpy array or GeneratedImage); repeatable",
        )
        parser.add_argument(
            "--mask",
            metavar="SRC",
            help="mask for models that take one (inpainting), given like -i"
            + ("" if spec.mask_input is not None or not spec.known else f"; {spec.id} takes none"),
        )
    if cache:
        parser.add_argument("--refresh", action="store_true", help="ignore the cache: new samples")


def chosen_model(words: Sequence[str], runtime: Runtime) -> str:
    """The model the words ask for (``-m``/``--model``; the first of several), else the
    runtime's default."""
    from ._compare import first_value

    for index, word in enumerate(words):
        if word in ("-m", "--model") and index + 1 < len(words):
            return first_value(words[index + 1])
        if word.startswith("--model="):
            return first_value(word.partition("=")[2])
        if word.startswith("-m") and len(word) > 2 and not word.startswith("--"):
            return first_value(word[2:])
    return runtime.default_model()


def named_params(args: argparse.Namespace) -> dict[str, Any]:
    """The named parameter options given (``-q``, ``-s``, ``--style``); ``--param`` texts are
    typed by the request builder."""
    return {name: getattr(args, name) for name in MODEL_DEFAULTS if getattr(args, name)}


def request_params(args: argparse.Namespace, spec: ModelSpec) -> dict[str, Any]:
    """The parameters the options give: the named ones, then each ``--param NAME=VALUE`` in the
    schema's type. Raises ValidationError for a malformed ``--param``."""
    return {**named_params(args), **parse_param_texts(spec, args.param)}
