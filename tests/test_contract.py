"""The response parser against every JSON example in the service contract (CONTRACT.md)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from pathlib import Path

import pytest

from jupyter_imagegen import APIStatusError, ContentPolicyError, ServerError
from jupyter_imagegen._imagebytes import verify_image
from jupyter_imagegen._response import error_from_response, parse_answer

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "cloudflare" / "CONTRACT.md"
MODELS = CONTRACT.parent / "models"


def _contract_text() -> str:
    if not CONTRACT.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CONTRACT} is missing: CI must run with shared/ beside the repository")
        pytest.skip(f"{CONTRACT} not found (shared/ is not beside this checkout)")
    return CONTRACT.read_text(encoding="utf-8")


def _tiny_png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _json_examples(text: str) -> list[dict[str, object]]:
    # The contract elides image payloads: "https://..." is a URL, a bare "..." base64 data.
    text = text.replace('"https://..."', '"https://pub-example.r2.dev/image.png"')
    text = text.replace('"image": "..."', f'"image": "{_tiny_png()}"')
    text = text.replace('"code": N,', '"code": 5007,')
    candidates = re.findall(r"```json\n(.*?)```", text, flags=re.S)
    blocks = [line for block in candidates for line in block.strip().splitlines()]
    inline = re.findall(r"`(\{.*?\})`", text)
    found = []
    for raw in [*blocks, *inline]:
        try:
            value = json.loads(raw)
        except ValueError:
            continue  # shorthand like {gateway: {id: 'default'}} is prose, not an example
        if isinstance(value, dict):
            found.append(value)
    return found


def test_contract_has_the_examples_this_suite_expects() -> None:
    examples = _json_examples(_contract_text())
    successes = [
        e for e in examples if "result" in e and e.get("success") is not False and e.get("state") != "Failed"
    ]
    failures = [e for e in examples if e.get("success") is False or e.get("state") == "Failed"]
    assert len(successes) >= 3
    assert len(failures) >= 2


def test_every_success_envelope_yields_the_image() -> None:
    for example in _json_examples(_contract_text()):
        if example.get("success") is False or example.get("state") == "Failed" or "result" not in example:
            continue
        answer = parse_answer(200, {}, json.dumps(example).encode(), model="openai/gpt-image-1.5")
        if answer.url is not None:
            assert answer.url == "https://pub-example.r2.dev/image.png"
        else:
            assert answer.image is not None and verify_image(answer.image)[0] == "image/png"


def test_every_error_envelope_becomes_an_api_error() -> None:
    for example in _json_examples(_contract_text()):
        if example.get("success") is False:
            error = error_from_response(400, {}, json.dumps(example).encode(), model="m")
            assert isinstance(error, APIStatusError)
            assert error.code == example["errors"][0]["code"]  # type: ignore[index]
        elif example.get("state") == "Failed":
            with pytest.raises(ServerError) as info:
                parse_answer(200, {}, json.dumps(example).encode(), model="m")
            assert info.value.code == "provider_unavailable"


def test_catalog_raw_responses_parse() -> None:
    _contract_text()
    for path in sorted(MODELS.glob("*.json")):
        raw = json.loads(path.read_text())["example_raw_response"]
        if raw is None:
            continue
        answer = parse_answer(200, {}, json.dumps(raw).encode(), model=path.stem)
        assert answer.url == raw["result"]["image"]


def test_packaged_model_schemas_match_the_contract() -> None:
    _contract_text()
    packaged = Path(__file__).resolve().parents[1] / "src" / "jupyter_imagegen" / "models"
    shared = {p.name: json.loads(p.read_text()) for p in MODELS.glob("*.json")}
    ours = {p.name: json.loads(p.read_text()) for p in packaged.glob("*.json")}
    assert ours == shared


@pytest.mark.parametrize(
    "status,code,cls_name",
    [
        (400, 5007, "BadRequestError"),
        (400, 5004, "BadRequestError"),
        (400, 3003, "BadRequestError"),
        (401, 10000, "AuthenticationError"),
        (402, 2021, "InsufficientCreditsError"),
        (403, 3023, "PermissionDeniedError"),
        (403, 5016, "PermissionDeniedError"),
        (404, 3042, "NotFoundError"),
        (404, 7003, "NotFoundError"),
        (408, 3007, "APIStatusError"),
        (413, 3006, "BadRequestError"),
        (429, 3036, "RateLimitError"),
        (429, 3040, "RateLimitError"),
        (429, 2003, "RateLimitError"),
        (500, 3001, "ServerError"),
        (503, 3001, "ServerError"),
    ],
)
def test_every_error_row_maps_to_its_class(status: int, code: int, cls_name: str) -> None:
    body = {
        "success": False,
        "errors": [{"code": code, "message": "said by the service"}],
        "messages": [],
        "result": None,
    }
    error = error_from_response(status, {"cf-aig-log-id": "log-1"}, json.dumps(body).encode(), model="m")
    assert type(error).__name__ == cls_name
    assert (error.status_code, error.code, error.log_id) == (status, code, "log-1")
    assert "said by the service" in str(error)


def test_moderation_refusal_is_a_content_policy_error_with_the_providers_words() -> None:
    message = "Your request was rejected by the safety system. code: moderation_blocked"
    body = {"success": False, "errors": [{"code": 5006, "message": message}], "messages": [], "result": None}
    error = error_from_response(400, {}, json.dumps(body).encode(), model="openai/gpt-image-1.5")
    assert isinstance(error, ContentPolicyError)
    assert message in str(error)
