"""The client against the service contract written in docs/cloudflare.md and the model schemas
shipped in the package: every JSON example, every error row and the documented inputs."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from jupyter_imagegen import APIStatusError, ContentPolicyError, ServerError
from jupyter_imagegen.client._imagebytes import verify_image
from jupyter_imagegen.client._models import get_model, list_models
from jupyter_imagegen.client._response import error_from_response, parse_answer
from jupyter_imagegen.client._retry import is_retryable

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "docs" / "cloudflare.md"
MODELS = ROOT / "src" / "jupyter_imagegen" / "client" / "models"
URL = "https://pub-example.r2.dev/image.png"

# The error tree the README promises, by HTTP status.
CLASS_BY_STATUS = {
    400: "BadRequestError",
    401: "AuthenticationError",
    402: "InsufficientCreditsError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    408: "APIStatusError",
    413: "BadRequestError",
    429: "RateLimitError",
    500: "ServerError",
    502: "ServerError",
    503: "ServerError",
}


def contract_text() -> str:
    return CONTRACT.read_text(encoding="utf-8")


def section(number: int) -> str:
    """The text of ``## {number}.`` up to the next section."""
    found = re.search(rf"^## {number}\. .*?(?=^## |\Z)", contract_text(), flags=re.S | re.M)
    assert found is not None, f"docs/cloudflare.md has no section {number}"
    return found.group(0)


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the Markdown tables in ``text``, cells stripped."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return [row for row in rows if row[0] not in ("HTTP", "field", "models", "route")]


def _tiny_png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def json_examples() -> list[dict[str, Any]]:
    # The page elides image payloads: "https://..." is a URL, a bare "..." base64 data.
    text = contract_text().replace('"https://..."', f'"{URL}"')
    text = text.replace('"image": "..."', f'"image": "{_tiny_png()}"')
    blocks = re.findall(r"```json\n(.*?)```", text, flags=re.S)
    found = []
    for line in (line for block in blocks for line in block.strip().splitlines()):
        value = json.loads(line)  # every line of a json block is one complete example
        assert isinstance(value, dict)
        found.append(value)
    return found


def _holds_image(value: Any) -> bool:
    if isinstance(value, dict):
        return "image" in value or any(_holds_image(v) for v in value.values())
    return False


def _is_failure(example: dict[str, Any]) -> bool:
    return example.get("success") is False or example.get("state") == "Failed"


def test_the_contract_page_has_the_examples_this_suite_expects() -> None:
    examples = json_examples()
    images = [e for e in examples if not _is_failure(e) and _holds_image(e)]
    failures = [e for e in examples if _is_failure(e)]
    assert len(images) >= 3 and len(failures) >= 2
    assert "Workers AI Read" in section(5)


def test_every_success_envelope_yields_the_image() -> None:
    for example in json_examples():
        if _is_failure(example) or not _holds_image(example):
            continue
        answer = parse_answer(200, {}, json.dumps(example).encode(), model="openai/gpt-image-1.5")
        if answer.url is not None:
            assert answer.url == URL
        else:
            assert answer.image is not None and verify_image(answer.image)[0] == "image/png"


def test_every_error_envelope_becomes_an_api_error() -> None:
    for example in json_examples():
        if example.get("success") is False:
            error = error_from_response(400, {}, json.dumps(example).encode(), model="m")
            assert isinstance(error, APIStatusError)
            assert error.code == example["errors"][0]["code"]
            assert example["errors"][0]["message"] in str(error)
        elif example.get("state") == "Failed":
            with pytest.raises(ServerError) as info:
                parse_answer(200, {}, json.dumps(example).encode(), model="m")
            assert info.value.code == example["error"]["code"]


def test_catalog_raw_responses_shipped_with_each_model_parse() -> None:
    parsed = 0
    for path in sorted(MODELS.glob("*.json")):
        raw = json.loads(path.read_text())["example_raw_response"]
        if raw is None:
            continue
        answer = parse_answer(200, {}, json.dumps(raw).encode(), model=path.stem)
        images = raw["result"].get("images") or [raw["result"]["image"]]
        assert [answer.url, *answer.more] == images
        parsed += 1
    assert parsed >= 1


def _error_rows() -> list[tuple[int, int, bool]]:
    """(status, code, retried) for every code in the error table; ``5xx`` as 500, 502 and 503."""
    rows = []
    for status, codes, _meaning, retried in table_rows(section(4)):
        statuses = [500, 502, 503] if status == "5xx" else [int(status)]
        numbers = [3001] if codes == "any" else [int(c) for c in codes.split(",")]
        rows += [(s, n, retried.startswith("yes")) for s in statuses for n in numbers]
    return rows


def test_the_error_table_is_complete() -> None:
    rows = _error_rows()
    assert {status for status, _, _ in rows} == set(CLASS_BY_STATUS)
    assert len(rows) >= 20


@pytest.mark.parametrize("status,code,retried", _error_rows())
def test_every_error_row_maps_to_its_class_and_retry_rule(status: int, code: int, retried: bool) -> None:
    body = {
        "success": False,
        "errors": [{"code": code, "message": "said by the service"}],
        "messages": [],
        "result": None,
    }
    error = error_from_response(status, {"cf-aig-log-id": "log-1"}, json.dumps(body).encode(), model="m")
    assert type(error).__name__ == CLASS_BY_STATUS[status]
    assert (error.status_code, error.code, error.log_id) == (status, code, "log-1")
    assert "said by the service" in str(error)
    assert is_retryable(error) is retried


def test_documented_inputs_match_the_packaged_schema() -> None:
    spec = get_model("openai/gpt-image-1.5")
    documented = {row[0].strip("`"): row for row in table_rows(section(2))}
    assert set(documented) == set(spec.properties)
    assert spec.input_schema["required"] == ["prompt"] and "required" in documented["prompt"][1]
    for name, (_, kind, values) in documented.items():
        rule = spec.properties[name]
        if kind == "enum":
            assert re.findall(r"`([^`]+)`", values) == rule["enum"], name
        if "at most" in kind:
            assert f"at most {rule['maxItems']}" in kind


def test_every_packaged_model_is_in_the_output_table_with_its_shape() -> None:
    shape = {"third-party": "url", "some hosted": "base64-json", "other hosted": "binary"}
    documented = {
        model: shape[family]
        for family, _holds, examples in table_rows(section(3))
        for model in re.findall(r"`([^`]+)`", examples)
    }
    assert documented == {model: get_model(model).output_kind for model in documented}


def test_every_packaged_model_is_in_todays_catalog_table_with_its_answer() -> None:
    """§8 names every shipped model with the answer it gives (``images`` for several)."""
    rows = {
        model: answer
        for _n, _r, _i, answer, examples in table_rows(section(8))
        for model in re.findall(r"`([^`]+)`", examples)
    }
    for model in list_models():
        spec = get_model(model)
        named = [m for m in rows if model.endswith(m.removeprefix("@cf/")) or m == model]
        assert named, f"{model} is missing from docs/cloudflare.md §8"
        answer = rows[named[0]]
        if spec.output_kind == "url-array":
            assert "result.images" in answer, model


def test_moderation_refusal_is_a_content_policy_error_with_the_providers_words() -> None:
    message = "Your request was rejected by the safety system. code: moderation_blocked"
    body = {"success": False, "errors": [{"code": 5006, "message": message}], "messages": [], "result": None}
    error = error_from_response(400, {}, json.dumps(body).encode(), model="openai/gpt-image-1.5")
    assert isinstance(error, ContentPolicyError)
    assert message in str(error)
