"""A live catalog of any shape, served over real loopback HTTP: schemas with keywords of the wrong
type, enums of 400,000 values, answers past their size bound, a store that would grow without
end, saved times in the future, and names that are terminal escape sequences."""

from __future__ import annotations

import json
import socket
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from jupyter_imagegen import Client, ImageGenWarning, ValidationError
from jupyter_imagegen.cli import main
from jupyter_imagegen.client._catalog import catalog_model, forget
from jupyter_imagegen.client._model_list import models
from test_hostile_answers import raw_server, response

GOOD = "@cf/acme/good"
PROMPT = {"type": "string", "minLength": 1}
BAD_KEYWORDS: dict[str, dict[str, Any]] = {
    "required-number": {"required": 5},
    "required-text": {"required": "prompt"},
    "minimum-text": {"properties": {"steps": {"type": "integer", "minimum": "1"}}},
    "enum-number": {"properties": {"style": {"type": "string", "enum": 7}}},
    "maxlength-null": {"properties": {"negative_prompt": {"type": "string", "maxLength": None}}},
    "maxitems-text": {"properties": {"image": {"type": "array", "maxItems": "many"}}},
    "type-number": {"properties": {"steps": {"type": 5}}},
}


def input_schema(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    extra = dict(extra or {})
    properties = {"prompt": PROMPT, "steps": {"type": "integer", "minimum": 1, "maximum": 8}}
    properties.update(extra.pop("properties", {}))
    return {"type": "object", "properties": properties, "required": ["prompt"], **extra}


@contextmanager
def catalog(schemas: dict[str, Any], names: list[str] | None = None) -> Iterator[dict[str, int]]:
    """A catalog service on loopback: ``schemas`` by model id (a dict is the input schema, bytes
    the raw answer); yields how often each route was read, with the environment pointing at it."""
    reads = {"search": 0, "schema": 0}
    listed = list(schemas) if names is None else names

    def handler(connection: socket.socket, request_line: str) -> None:
        target = urlsplit(request_line.split(" ")[1])
        query = parse_qs(target.query)
        if target.path.endswith("/ai/models/search"):
            reads["search"] += 1
            page = [{"name": name} for name in listed] if query.get("page") == ["1"] else []
            body = json.dumps({"success": True, "result": page}).encode()
        elif target.path.endswith("/ai/models/schema"):
            reads["schema"] += 1
            found = schemas.get(query.get("model", [""])[0])
            if isinstance(found, bytes):
                body = found
            else:
                answer = {"input": found, "output": {"type": "string", "format": "binary"}}
                body = json.dumps({"success": True, "result": answer}).encode()
        else:
            body = b"{}"
        connection.sendall(response("200 OK", {"content-type": "application/json"}, body))

    with raw_server(handler) as base, pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
        patch.setenv("CLOUDFLARE_API_TOKEN", "tok-catalog")
        patch.setenv("CLOUDFLARE_BASE_URL", f"{base}/client/v4")
        forget()
        try:
            yield reads
        finally:
            forget()


def run_models(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["models", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_wrong_typed_keywords_leave_that_model_unchecked_and_the_others_checked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    schemas = {GOOD: input_schema(), **{f"@cf/acme/{k}": input_schema(v) for k, v in BAD_KEYWORDS.items()}}
    with catalog(schemas):
        code, out, _ = run_models(capsys)
        assert code == 0 and all(model in out for model in schemas), out  # never stops halfway
        with Client() as client:
            with pytest.raises(ValidationError, match="steps: 99 is out of range"):
                client.prepare("a fox", model=GOOD, steps=99)
            for keyword in BAD_KEYWORDS:
                model = f"@cf/acme/{keyword}"
                spec = catalog_model(model, client)
                assert not spec.known and spec.note and "unusable" in spec.note, (keyword, spec.note)
                with pytest.warns(ImageGenWarning, match="sent unchecked") as caught:
                    client.prepare("a fox", model=model, steps=99)
                assert len(caught) == 1


def test_a_huge_enum_is_refused_by_size_and_a_large_one_lists_a_few_values() -> None:
    huge = input_schema(
        {"properties": {"style": {"type": "string", "enum": [f"s{i:06d}" for i in range(400_000)]}}}
    )
    large = input_schema(
        {"properties": {"style": {"type": "string", "enum": [f"s{i:05d}" for i in range(20_000)]}}}
    )
    with catalog({"@cf/acme/huge": huge, "@cf/acme/large": large}), Client() as client:
        spec = catalog_model("@cf/acme/huge", client)
        assert not spec.known and spec.note and "over the 512 KB limit" in spec.note
        with pytest.raises(ValidationError) as info:
            client.prepare("a fox", model="@cf/acme/large", style="vivid")
    message = str(info.value)
    assert len(message) < 400 and "(20000 values in all)" in message, message


def test_the_catalog_store_stays_within_its_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    padding = {"description": "x" * 300_000}  # each schema about 300 KB, under the answer bound
    schemas = {
        f"@cf/acme/big-{i:02d}": input_schema({"properties": {"steps": {"type": "integer", **padding}}})
        for i in range(40)
    }
    with catalog(schemas):
        code, out, _ = run_models(capsys)
    assert code == 0 and "@cf/acme/big-39" in out
    from jupyter_imagegen.client._catalog_store import MAX_STORE_BYTES

    store = tmp_path / "cache-catalog"
    total = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    assert 0 < total <= MAX_STORE_BYTES, total


def test_a_schema_saved_in_the_future_is_stale_and_refresh_always_refetches(tmp_path: Path) -> None:
    with catalog({GOOD: input_schema()}) as reads, Client() as client:
        assert catalog_model(GOOD, client).known and reads["schema"] == 1
        [saved] = (tmp_path / "cache-catalog").rglob("schema-*.json")
        document = json.loads(saved.read_text(encoding="utf-8"))
        document["saved"] = time.time() + 365 * 86400  # the clock was a year ahead
        saved.write_text(json.dumps(document), encoding="utf-8")
        forget()
        assert catalog_model(GOOD, client).known and reads["schema"] == 2
        models(refresh=True, client=client)
        assert catalog_model(GOOD, client).known and reads["schema"] == 3


def test_names_with_terminal_escapes_are_refused_and_nothing_prints_raw(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hostile = ["@cf/acme/\x1b]52;c;ZXZpbA==\x07clip", "@cf/acme/clear\x1b[2J", "@cf/acme/forged\nMODEL x"]
    with (
        catalog({GOOD: input_schema()}, names=[GOOD, *hostile]),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        code, out, err = run_models(capsys)
    assert code == 0 and GOOD in out
    assert "\x1b" not in out + err and "\x07" not in out + err and "MODEL x" not in out
    assert "Left out 3 name(s)" in err + " ".join(str(w.message) for w in caught)
    from jupyter_imagegen.cli import printable

    assert printable("a\x1b[2Jb\u202e") == "a\\x1b[2Jb\\u202e"
