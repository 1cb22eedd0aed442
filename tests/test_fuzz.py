"""Property-based tests of everything that reads untrusted text: the magic's arguments, prompt
templates and the service's answers. For any input the result is a valid value or an
ImageGenError / UsageError, never any other exception.

Example counts are set per property (``EXAMPLES``) and reported in docs/RELIABILITY.md.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from jupyter_imagegen import APIStatusError, ImageGenError, ImageGenWarning, get_model, list_models
from jupyter_imagegen.client._imagebytes import decode_base64_image, verify_image
from jupyter_imagegen.client._response import Answer, error_from_response, parse_answer, parse_retry_after
from jupyter_imagegen.client._retry import retry_delay
from jupyter_imagegen.client._validation import coerce_param
from jupyter_imagegen.runtime._templating import expand_grid, fill, template_names
from magic_support import ipython_shell

EXAMPLES = 250
# Under CI the examples are the same on every run, so a landing never depends on luck; elsewhere
# each run explores new ones (two crashes were found that way).
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)

# -- the magic's arguments ------------------------------------------------------------------

_OPTION_VALUES = {
    "-m": [*list_models(), "acme/unknown", "openai/gpt-image-1.5 x"],
    "-q": ["low", "medium", "high", "auto", "ultra", "LOW"],
    "-s": ["256x256", "1024x1024", "1536x1024", "13x13", "1024", "x", "0x0"],
    "--style": ["vivid", "natural", "cubist"],
    "-n": ["1", "2", "0", "-1", "65", "1e3", "x"],
    "-p": [
        "steps=4",
        "steps=0",
        "steps=x",
        "seed=-1",
        "width=256",
        "width=1e9",
        "=",
        "nope=1",
        "size=256x256",
    ],
    "--display-format": ["auto", "png", "jpeg", "webp", "gif"],
    "-o": ["out", "1x", "class", "a.b", "_"],
    "--gateway": ["my-gateway", "-", "a b"],
    "-i": ["fox", "animal", "missing.png", ".", "/"],
}
_FLAGS = ["--grid", "--refresh", "--no-display", "--skip-gateway-cache", "--", "-", "-nx", "--model="]
_option = st.sampled_from(sorted(_OPTION_VALUES)).flatmap(
    lambda name: (st.sampled_from(_OPTION_VALUES[name]) | st.text(max_size=8)).map(
        lambda value: f"{name} {value}"
    )
)
lines = st.one_of(
    st.lists(_option | st.sampled_from(_FLAGS), max_size=6).map(" ".join),
    st.lists(
        st.sampled_from([*_OPTION_VALUES, *_FLAGS, "'", '"', "'a b'", "{x}", "\\", "%"])
        | st.text(max_size=8),
        max_size=8,
    ).map(" ".join),
    st.text(max_size=60),
)
bodies = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(["a fox", "{animal}", "{{", "}}", "{animal!r}", "{n:>5}", "{n:q}", "{x.y}", "\n"])
    ).map("".join),
)


@pytest.fixture(scope="module")
def shell() -> Iterator[InteractiveShell]:
    """A shell with no credentials: anything that parses fails fast with ConfigurationError."""
    with ipython_shell() as ipython:
        ipython.user_ns.update(animal=["cat", "owl"], n=3, x=object(), fox=b"not an image")
        yield ipython


def _magic_outcome(call: Any) -> None:
    # An unknown model id is sent with an ImageGenWarning: a valid outcome, not a failure.
    with capture_output(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ImageGenWarning)
        try:
            call()
        except UsageError as exc:
            assert str(exc).strip(), "an error must say what was wrong"
            event(f"UsageError: {' '.join(str(exc).split()[:3])}")
        else:
            event("accepted")


@FUZZ
@given(line=lines, body=bodies)
def test_cell_magic_arguments(shell: InteractiveShell, line: str, body: str) -> None:
    if "--panel" in line:
        return  # a widget per example; the panel's own tests cover it
    _magic_outcome(lambda: shell.run_cell_magic("imagegen", line, body))


@FUZZ
@given(line=lines)
def test_line_magic_arguments(shell: InteractiveShell, line: str) -> None:
    if "--panel" in line:
        return
    _magic_outcome(lambda: shell.run_line_magic("imagegen", line))


@FUZZ
@given(model=st.sampled_from(list_models()), name=st.text(max_size=12), text=st.text(max_size=20))
def test_coerce_param(model: str, name: str, text: str) -> None:
    spec = get_model(model)
    for candidate in (name, *spec.parameters):
        with contextlib.suppress(ImageGenError):
            coerce_param(spec, candidate, text)


# -- prompt templates -----------------------------------------------------------------------

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.lists(st.integers() | st.text(max_size=5), max_size=4),
    st.tuples(st.text(max_size=5)),
    st.builds(object),
)
templates = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.sampled_from(["{a}", "{b}", "{c!r}", "{a:>4}", "{b:.2f}", "{a:,}", "{c:%Y}", "{{", "}}", "{", "}"])
        | st.text(max_size=4)
        | st.from_regex(r"\{[abc](![rsax])?(:[<>^=+\-#0-9,._a-zA-Z%]{0,14})?\}", fullmatch=True),
        max_size=6,
    ).map("".join),
)
namespaces = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), _VALUES, max_size=4)


@FUZZ
@given(template=templates, namespace=namespaces)
@example(template="{a:>999999999}", namespace={"a": 1})  # would build a 1 GB prompt
@example(template="{a}{b}{c}", namespace={k: list(range(100)) for k in "abc"})  # a million cells
def test_prompt_templating(template: str, namespace: dict[str, Any]) -> None:
    assert isinstance(template_names(template), list)
    try:
        assert isinstance(fill(template, namespace), str)
        axes, cells = expand_grid(template, namespace)
    except ImageGenError:
        return
    assert len(cells) == math.prod(len(axis.values) for axis in axes)
    assert all(isinstance(cell.prompt, str) for cell in cells)


# -- the service's answers ------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
_IMAGE_STRINGS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["https://x.test/a.png", "ftp://x", "data:image/png;base64,", "data:,x", "iVBORw0KGgo="]),
    st.binary(max_size=40).map(lambda b: __import__("base64").b64encode(b).decode()),
)
payloads = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "success": st.booleans() | json_values,
            "result": json_values | st.fixed_dictionaries({"image": _IMAGE_STRINGS | json_values}),
            "state": st.sampled_from(["Completed", "Failed", "failed", ""]) | json_values,
            "errors": st.lists(
                st.fixed_dictionaries({"code": json_values, "message": json_values}), max_size=2
            )
            | json_values,
            "error": json_values,
            "image": _IMAGE_STRINGS,
        },
    ),
)
bodies_bytes = st.one_of(payloads.map(lambda p: json.dumps(p).encode()), st.binary(max_size=200))
headers = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.sampled_from(["application/json", "image/png", "text/html", "", "application/jso"])
        | st.text(max_size=10),
        "retry-after": st.sampled_from(["5", "nan", "inf", "-1", "1e999", "Wed, 21 Oct 2015 07:28:00 GMT"])
        | st.text(max_size=30),
        "cf-aig-log-id": st.text(max_size=10),
    },
)
statuses = st.sampled_from([200, 201, 204, 301, 400, 401, 402, 403, 404, 408, 413, 429, 500, 502, 503, 599])


@FUZZ
@given(status=statuses, head=headers, body=bodies_bytes)
@example(status=429, head={"retry-after": "nan"}, body=b"{}")  # sleeping NaN seconds raised
@example(status=429, head={}, body=b'{"errors": [{"code": [3036], "message": "x"}]}')  # unhashable code
def test_response_parser(status: int, head: dict[str, str], body: bytes) -> None:
    model = "openai/gpt-image-1.5"
    if status >= 300:
        error = error_from_response(status, head, body, model=model)
        assert isinstance(error, APIStatusError) and str(error)
        delay = retry_delay(error, 0, 2)  # what the client does next with it
        assert delay is None or (math.isfinite(delay) and delay >= 0)
        return
    try:
        answer = parse_answer(status, head, body, model=model)
    except ImageGenError as exc:
        delay = retry_delay(exc, 0, 2)
        assert delay is None or (math.isfinite(delay) and delay >= 0)
        return
    assert isinstance(answer, Answer) and (answer.image is not None) != (answer.url is not None)
    if answer.image is not None:
        with contextlib.suppress(ValueError):  # the client turns this into APIResponseError
            verify_image(answer.image)


@FUZZ
@given(value=st.text(max_size=40) | st.none())
@example(value="nan")
@example(value="-1e999")
def test_retry_after_header(value: str | None) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or 0 <= seconds <= 60


@FUZZ
@given(text=st.text(max_size=60) | _IMAGE_STRINGS)
def test_base64_image_strings(text: str) -> None:
    with contextlib.suppress(ValueError):
        assert isinstance(decode_base64_image(text), bytes)
