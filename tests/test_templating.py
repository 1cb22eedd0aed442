"""Prompt templates: {name} filling, escapes, and grid expansion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_imagegen import ValidationError
from jupyter_imagegen.runtime._templating import (
    Axis,
    expand_grid,
    fill,
    grid_axes,
    label,
    rows_and_columns,
    template_names,
)


def test_fill_substitutes_known_names_and_refuses_unknown_ones_with_a_suggestion() -> None:
    assert fill("a {animal} in {place}", {"animal": "fox", "place": "snow"}) == "a fox in snow"
    with pytest.raises(ValidationError) as refused:
        fill("a {animl} in snow", {"animal": "fox", "_hidden": 1})
    message = str(refused.value)
    assert message == (
        "{animl} in the prompt: there is no variable 'animl'; did you mean {animal}? "
        "Define it, or write {{animl}} for literal braces."
    )
    with pytest.raises(ValidationError, match="there is no variable 'nonexistent'; Define it"):
        fill("{nonexistent}", {"animal": "fox"})
    # Braces that are not a placeholder stay as written: JSON, spaces, an empty pair.
    assert fill('{"a": 1} { x } {}', {}) == '{"a": 1} { x } {}'


def test_a_zero_width_spec_is_formatted_not_a_crash() -> None:
    # Found by hypothesis: "00" strips to "" in the width check.
    assert fill("{n:0}|{n:00}|{n:.0f}", {"n": 3}) == "3|3|3"
    with pytest.raises(ValidationError, match="cannot format a NoneType"):
        fill("{a:00}", {"a": None})


def test_fill_escapes_double_braces() -> None:
    assert fill("{{animal}} is {animal}, json {{ }}", {"animal": "fox"}) == "{animal} is fox, json { }"


def test_fill_applies_format_spec_and_conversion() -> None:
    assert fill("{n:03d} {x:.1f} {s!r}", {"n": 7, "x": 2.25, "s": "hi"}) == "007 2.2 'hi'"


def test_fill_bad_format_spec_is_a_one_line_validation_error() -> None:
    with pytest.raises(ValidationError, match=r"\{s:d\} in the prompt: cannot format a str"):
        fill("{s:d}", {"s": "text"})


def test_fill_does_not_evaluate_expressions() -> None:
    # Attribute access or indexing is left alone: nothing but plain names is looked up.
    assert fill("{a.b} {a[0]} {1}", {"a": [1]}) == "{a.b} {a[0]} {1}"


def test_template_names_in_order_of_first_appearance() -> None:
    assert template_names("{b} {a} {b} {{c}} {d:>3}") == ["b", "a", "d"]


def test_grid_expands_every_list_in_row_major_order() -> None:
    ns = {"animals": ["cat", "owl"], "styles": ("ink", "oil", "pixel"), "light": "dusk"}
    axes, cells = expand_grid("a {animals} in {styles} at {light}", ns)
    assert axes == [Axis("animals", ("cat", "owl")), Axis("styles", ("ink", "oil", "pixel"))]
    assert [c.prompt for c in cells] == [
        "a cat in ink at dusk",
        "a cat in oil at dusk",
        "a cat in pixel at dusk",
        "a owl in ink at dusk",
        "a owl in oil at dusk",
        "a owl in pixel at dusk",
    ]
    assert cells[4].labels == ("owl", "oil")


def test_grid_without_lists_is_one_plain_prompt() -> None:
    axes, cells = expand_grid("a {animal}", {"animal": "fox"})
    assert axes == [] and [c.prompt for c in cells] == ["a fox"]


def test_grid_rejects_an_empty_list() -> None:
    with pytest.raises(ValidationError, match=r"\{animals\} is an empty list"):
        grid_axes("a {animals}", {"animals": []})


def test_rows_and_columns_combine_all_but_the_last_axis() -> None:
    axes = [Axis("a", ("x", "y")), Axis("b", (1, 2)), Axis("c", ("p", "q", "r"))]
    rows, columns = rows_and_columns(axes)
    assert columns == ["p", "q", "r"]
    assert rows == ["x · 1", "x · 2", "y · 1", "y · 2"]
    assert rows_and_columns([]) == ([], [])


def test_label_is_one_short_line() -> None:
    assert label("a\nb   c") == "a b c"
    assert len(label("x" * 100)) == 40 and label("x" * 100).endswith("…")


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
plain = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40)


@given(plain)
def test_text_without_braces_is_unchanged(text: str) -> None:
    assert fill(text, {"x": 1}) == text


@given(names, st.one_of(st.integers(), st.text(max_size=20)), plain, plain)
def test_a_known_name_is_replaced_by_its_str(name: str, value: object, before: str, after: str) -> None:
    assert fill(before + "{" + name + "}" + after, {name: value}) == before + str(value) + after


@given(st.lists(st.sampled_from(["{{", "}}", "a", " "]), max_size=20))
def test_doubled_braces_always_unescape(parts: list[str]) -> None:
    text = "".join(parts)
    assert fill(text, {"a": "zzz"}) == text.replace("{{", "{").replace("}}", "}")
