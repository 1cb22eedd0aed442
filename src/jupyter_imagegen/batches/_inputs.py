"""What a batch can be given, turned into numbered, validated requests before anything is sent.

Accepted: a list of prompts; a list of dicts; a CSV/TSV file (first row names the columns), a
JSONL file (one JSON object a line) or a text file (one prompt a line); a pandas DataFrame.

In every row ``prompt`` is required; ``model``, ``images`` (an input image path) and
``variation`` are request fields; columns the row's model takes are its parameters (text from
CSV is converted to the schema's type). Any other column (a label, an id) is not sent: it is kept
in the manifest under ``extra``, unless its name looks like a misspelled parameter, which is an
error. Invalid rows are all reported at once and nothing is sent.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import functools
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ValidationError
from ..client import (
    MAX_PROMPT_CHARS,
    BaseClient,
    ImageRequest,
    check_prompt_length,
    coerce_param,
    safe_filename,
)
from ..runtime import build_call, check_image_count, get_runtime, model_spec

__all__ = ["BatchItem", "load_items"]

FILE_KINDS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "txt"}
_FIELDS = ("model", "images", "variation")
_MAX_REPORTED = 5


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One image to make: its place in the batch, its request and the row's other columns."""

    index: int
    request: ImageRequest
    extra: dict[str, Any] = field(default_factory=dict)
    stem: str = field(init=False, repr=False, compare=False)
    """The file name without extension: stable for the same index and prompt."""

    def __post_init__(self) -> None:
        # Made once: planning, saving and cleaning up each need it, up to four times an item (a
        # field, not a cached property, so it costs no instance dict).
        object.__setattr__(
            self, "stem", f"{self.index:05d}-{safe_filename(self.request.prompt, max_length=50)}"
        )


@dataclass(frozen=True)
class _Row:
    where: str  # "line 4 of prompts.csv", "item 3": for messages
    fields: dict[str, Any]
    as_text: bool  # values are strings to convert to the schema's types


def load_items(source: Any, client: BaseClient, common: Mapping[str, Any], n: int = 1) -> list[BatchItem]:
    """Every item of ``source`` (``n`` variations each), validated; raises ValidationError."""
    check_image_count(n, get_runtime().max_images, what="n (images per prompt)")
    items: list[BatchItem] = []
    problems: list[str] = []
    bad_rows = 0
    for row in _rows(source):
        try:
            request, extra = _request(row, client, common)
        except ValidationError as exc:
            bad_rows += 1
            if len(problems) < _MAX_REPORTED:
                problems.append(f"{row.where}: {exc}")
            continue
        for offset in range(n):
            varied = request.with_variation(request.variation + offset) if offset else request
            items.append(BatchItem(len(items), varied, extra))
    if problems:
        more = f" (and {bad_rows - len(problems)} more)" if bad_rows > len(problems) else ""
        raise ValidationError(
            f"{bad_rows} input row(s) are invalid; nothing was sent. Fix: " + "; ".join(problems) + more
        )
    if not items:
        raise ValidationError("The batch is empty: give at least one prompt.")
    return items


def _rows(source: Any) -> Iterator[_Row]:
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and os.path.splitext(source)[1].lower() in FILE_KINDS
    ):
        yield from _file_rows(os.fspath(source))
        return
    if isinstance(source, (str, bytes, Mapping, ImageRequest)):
        raise ValidationError(
            "batch() takes a list of prompts or dicts, a DataFrame, or a .csv/.jsonl/.txt file path; "
            f"got a single {type(source).__name__} (for one image use generate())."
        )
    if type(source).__module__.startswith("pandas") and hasattr(source, "to_dict"):
        source = source.to_dict(orient="records")
    if not isinstance(source, Iterable):
        raise ValidationError(f"batch() cannot read items from a {type(source).__name__}.")
    for i, item in enumerate(source):
        where = f"item {i}"
        if isinstance(item, str):
            yield _Row(where, {"prompt": item}, as_text=False)
        elif isinstance(item, Mapping):
            yield _Row(where, {str(k): v for k, v in item.items()}, as_text=False)
        elif isinstance(item, ImageRequest):
            yield _Row(where, {"__request__": item}, as_text=False)
        else:
            raise ValidationError(f"{where}: expected a prompt or a dict, got {type(item).__name__}.")


def _file_rows(path: str) -> Iterator[_Row]:
    name = os.path.basename(path)
    kind = FILE_KINDS.get(os.path.splitext(path)[1].lower())
    if kind is None:
        raise ValidationError(f"{name}: use a .csv, .tsv, .jsonl or .txt file.")
    try:
        with open(path, "rb") as raw:
            data = raw.read()
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    with io.StringIO(_decode(data, name), newline="") as handle:
        if kind == "txt":
            for lineno, line in enumerate(handle, 1):
                if len(line) > MAX_PROMPT_CHARS + 2:  # checked before the line is copied or kept
                    try:
                        check_prompt_length(line.rstrip("\r\n"))
                    except ValidationError as exc:
                        raise ValidationError(f"line {lineno} of {name}: {exc}") from None
                if line.strip():
                    yield _Row(f"line {lineno} of {name}", {"prompt": line.strip()}, as_text=False)
        elif kind == "jsonl":
            yield from _jsonl_rows(handle, name)
        else:
            yield from _csv_rows(handle, name, path.lower().endswith(".tsv"))


def _decode(data: bytes, name: str) -> str:
    """The text of an input file: UTF-8, or UTF-8/UTF-16 with a byte-order mark."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            data, chosen = data[len(bom) :], encoding
            break
    else:
        chosen = "utf-8"
    fix = "save it as UTF-8 (in Excel: CSV UTF-8)"
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n" if chosen == "utf-8" else "\n".encode(chosen)) + 1
        raise ValidationError(f"line {line} of {name} is not {chosen.upper()[:6]} text; {fix}.") from None
    if "\x00" in text:  # UTF-16 without its byte-order mark decodes as UTF-8 full of NULs
        line = text[: text.index("\x00")].count("\n") + 1
        raise ValidationError(
            f"line {line} of {name} holds NUL bytes (UTF-16 without a byte-order mark?); {fix}."
        )
    return text


def _jsonl_rows(handle: Iterable[str], name: str) -> Iterator[_Row]:
    for lineno, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, object_pairs_hook=_one_of_each)
        except ValueError as exc:
            raise ValidationError(f"line {lineno} of {name} is not valid JSON: {exc}.") from None
        if isinstance(value, str):
            value = {"prompt": value}
        if not isinstance(value, dict):
            raise ValidationError(f"line {lineno} of {name}: expected a JSON object with a 'prompt'.")
        yield _Row(f"line {lineno} of {name}", value, as_text=False)


def _one_of_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys differ, ignoring case; ValueError naming the ones given twice."""
    names = [key.lower() for key, _ in pairs]
    twice = sorted({key for key in names if names.count(key) > 1})
    if twice:
        raise ValueError(f"it names {', '.join(twice)} more than once (names ignore case)")
    return dict(pairs)


def _csv_rows(handle: Any, name: str, tabs: bool) -> Iterator[_Row]:
    first = handle.readline()
    delimiters = ("\t",) if tabs else (",", ";", "\t")
    try:
        headers = [
            [h.strip().lower() for h in next(csv.reader([first], delimiter=d), [])] for d in delimiters
        ]
    except csv.Error as exc:
        raise ValidationError(f"line 1 of {name} cannot be read as a header: {exc}.") from None
    found = next((i for i, header in enumerate(headers) if "prompt" in header), None)
    if found is None:
        shown = ", ".join(repr(h) for h in headers[0]) or "none"
        raise ValidationError(
            f"{name} has no 'prompt' column (columns: {shown}); its first line must name the "
            "columns, e.g. prompt,quality,size. For one prompt a line, use a .txt file."
        )
    delimiter, header = delimiters[found], headers[found]
    twice = sorted({column for column in header if header.count(column) > 1 and column})
    if twice:
        raise ValidationError(
            f"line 1 of {name} names the same column more than once ({', '.join(twice)}; names ignore "
            "case): keep one column of each name."
        )
    reader = csv.reader(handle, delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell over the 128 KB field limit, an unclosed quote...
            raise ValidationError(
                f"line {reader.line_num + 1} of {name} cannot be read as {'TSV' if tabs else 'CSV'}: {exc}"
                " (a cell holds at most 128 KB; put long text in a .jsonl file)."
            ) from None
        if not any(cell.strip() for cell in cells):
            continue
        where = f"line {reader.line_num + 1} of {name}"
        if len(cells) > len(header):
            raise ValidationError(f"{where} has {len(cells)} cells but the header names {len(header)}.")
        # A short row leaves its last columns empty.
        yield _Row(where, dict(zip(header, cells, strict=False)), as_text=True)


def _present(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return not (isinstance(value, str) and not value.strip())


def _plain(value: Any) -> Any:
    """numpy/pandas scalars (a DataFrame's cells) as the Python values the schema checks expect."""
    if not isinstance(value, (str, bytes, int, float, bool, list, dict)) and hasattr(value, "item"):
        return value.item()
    return value


@functools.lru_cache(maxsize=256)
def _misspelled(column: str, parameters: tuple[str, ...]) -> str | None:
    """The parameter ``column`` looks like a misspelling of, or None. Remembered: every row of
    a file has the same columns, and the fuzzy match was about a fifth of reading a row."""
    guess = difflib.get_close_matches(column, parameters, n=1, cutoff=0.8)
    return guess[0] if guess else None


def _request(row: _Row, client: BaseClient, common: Mapping[str, Any]) -> tuple[ImageRequest, dict[str, Any]]:
    if "__request__" in row.fields:
        request: ImageRequest = row.fields["__request__"]
        return request, {}
    check_prompt_length(row.fields.get("prompt"))  # before anything is copied or built from it
    values = {
        k: (v.strip() if isinstance(v, str) else _plain(v)) for k, v in row.fields.items() if _present(v)
    }
    if "prompt" not in values:
        raise ValidationError("the prompt is missing or empty.")
    prompt = str(values.pop("prompt"))
    fields = {k: values.pop(k) for k in _FIELDS if k in values}
    model = str(fields.get("model") or common.get("model") or client.model)
    spec = model_spec(get_runtime(), model)
    params: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in values.items():
        if spec.known and name not in spec.parameters:
            guess = _misspelled(name, tuple(spec.parameters))
            if guess:
                raise ValidationError(
                    f"{name!r} is not a parameter of {model}; did you mean {guess!r}? "
                    "(columns that are not parameters are kept in the manifest, not sent)"
                )
            extra[name] = value
        else:
            params[name] = coerce_param(spec, name, value) if row.as_text else value
    if "variation" in fields:
        try:
            fields["variation"] = int(fields["variation"])
        except (TypeError, ValueError):
            raise ValidationError(f"variation must be a whole number, got {fields['variation']!r}.") from None
    # The builder fills the runtime's configured defaults (quality, size, style) the row and the call leave out.
    request = build_call(
        get_runtime(), {**common, **fields, **params, "model": model, "prompt": prompt}, {}, planner=client
    )
    return request, extra
