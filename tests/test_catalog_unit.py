"""Single functions of the catalog client: answers the emulator never gives (a malformed schema,
pages without ``result_info``) through an ``httpx.MockTransport``, and reading output schemas."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jupyter_imagegen import Client, ImageGenWarning
from jupyter_imagegen.client._catalog import catalog_model, forget
from jupyter_imagegen.client._model_list import search_models
from jupyter_imagegen.client._model_schema import output_kind_of, spec_from_schema

MODEL = "@cf/acme/odd-one"


@pytest.fixture(autouse=True)
def _fresh_catalog_memory() -> Iterator[None]:
    forget()
    yield
    forget()


def _client(answer: Any, seen: list[httpx.Request] | None = None) -> Client:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return answer(request) if callable(answer) else httpx.Response(200, json=answer)

    return Client(
        account_id="acct",
        api_token="tok",
        base_url="https://api.example.test/v4",
        transport=httpx.MockTransport(handle),
    )


@pytest.mark.parametrize(
    ("result", "why"),
    [
        ({"input": {"type": "object"}, "output": {}}, "no 'properties'"),
        ({"input": {"properties": {"steps": {"type": "integer"}}}, "output": {}}, "no 'prompt'"),
        ("not an object", "not a JSON object"),
    ],
)
def test_a_malformed_schema_leaves_the_model_unchecked_with_one_warning(result: Any, why: str) -> None:
    seen: list[httpx.Request] = []
    with _client({"success": True, "result": result}, seen) as client:
        spec = catalog_model(MODEL, client=client)
        assert not spec.known and spec.note is not None and why in spec.note
        with pytest.warns(ImageGenWarning, match=f"unusable.*{why}.*sent unchecked") as caught:
            client.prepare("a fox", model=MODEL, steps=99)
    assert len(caught) == 1 and len(seen) == 1  # remembered: not asked again at once
    assert seen[0].url.params["model"] == MODEL and seen[0].headers["authorization"] == "Bearer tok"


def test_pages_without_result_info_are_read_until_a_short_page() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        names = [{"name": f"@cf/a/m{page}-{i}"} for i in range(100 if page < 3 else 7)]
        return httpx.Response(200, json={"success": True, "result": names})

    seen: list[httpx.Request] = []
    with _client(answer, seen) as client:
        found, refused = search_models(client, "Text-to-Image")
    assert len(found) == 207 and refused == 0 and [r.url.params["page"] for r in seen] == ["1", "2", "3"]


def test_an_id_that_is_not_a_model_id_is_never_sent() -> None:
    seen: list[httpx.Request] = []
    with _client({"success": True, "result": {}}, seen) as client:
        for bad in ("@cf/../accounts", "acme/x?y=1", "acme x/y", "nomodel"):
            assert not catalog_model(bad, client=client).known
    assert seen == []


@pytest.mark.parametrize(
    ("output", "hosting", "expected"),
    [
        (
            {"type": "string", "contentType": "image/jpeg", "format": "binary"},
            "hosted",
            ("binary", "image/jpeg"),
        ),
        ({"type": "string", "format": "binary"}, "hosted", ("binary", "image/png")),
        (
            {"type": "object", "properties": {"image": {"type": "string", "format": "uri"}}},
            "proxied",
            ("url", None),
        ),
        (
            {"properties": {"image": {"description": "The image in Base64 format."}}},
            "proxied",
            ("base64-json", None),
        ),
        ({}, "hosted", ("base64-json", None)),
        (None, "proxied", ("url", None)),
    ],
)
def test_the_answer_shape_is_read_from_the_output_schema(output: Any, hosting: Any, expected: Any) -> None:
    assert output_kind_of(output, hosting) == expected


def test_a_schema_from_the_catalog_becomes_a_closed_spec() -> None:
    schema = json.loads(
        '{"input": {"type": "object", "properties": {"prompt": {"type": "string"}, "seed": {"type": "integer"}},'
        ' "additionalProperties": false}, "output": {"type": "string", "contentType": "image/png"}}'
    )
    spec = spec_from_schema("openai/next-image", schema)
    assert (spec.hosting, spec.output_kind, spec.closed, list(spec.parameters)) == (
        "proxied",
        "binary",
        True,
        ["seed"],
    )


def test_a_client_without_credentials_never_asks_the_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by hypothesis: `%imagegen -m acme/unknown` with no token set crashed on an assertion.
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    with Client(transport=httpx.MockTransport(handle)) as client:
        spec = catalog_model("acme/unknown", client=client)
    assert not spec.known and seen == []
