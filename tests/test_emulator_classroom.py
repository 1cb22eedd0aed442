"""The classroom emulator under a careless or hostile classmate: requests without the token do
nothing and leave nothing, the request log is bounded, deep JSON is a clear 400, a bad model file
is a one-line refusal, and serving beyond this machine never uses the published token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.emulator._state import RequestLog

FLUX = "@cf/black-forest-labs/flux-1-schnell"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:  # a request held by a fault would time out here
        yield client


def run_url(emulator: Emulator) -> str:
    return f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run/{FLUX}"


def test_requests_without_the_token_neither_use_faults_nor_stay_in_the_log(
    emulator: Emulator, http: httpx.Client
) -> None:
    emulator.inject("server_error", status=503)  # the teacher's fault, for the teacher
    for token in (None, "guess"):
        headers = {"x-emulator-fault": "hang;seconds=20"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        answer = http.post(run_url(emulator), content=b"x" * 1_000_000, headers=headers)
        assert answer.status_code == 401 and answer.json()["errors"][0]["code"] == 10000
    assert emulator.stats()["faults_pending"] == 1 and len(emulator.requests) == 0
    teacher = {"authorization": f"Bearer {emulator.token}"}
    assert http.post(run_url(emulator), json={"prompt": "a fox"}, headers=teacher).status_code == 503
    assert [r.fault for r in emulator.requests] == ["server_error;status=503"]


def test_the_request_log_is_bounded(monkeypatch: pytest.MonkeyPatch, http: httpx.Client) -> None:
    monkeypatch.setattr(RequestLog, "MAX_ENTRIES", 6, raising=False)
    monkeypatch.setattr(RequestLog, "MAX_BODY_BYTES", 1_000_000, raising=False)
    with Emulator() as emulator:
        teacher = {"authorization": f"Bearer {emulator.token}"}
        for _ in range(4):  # 300 KB bodies: the byte bound holds three
            http.post(run_url(emulator), json={"prompt": "a fox", "pad": "x" * 300_000}, headers=teacher)
        assert len(emulator.requests) == 3
        for i in range(10):
            http.post(run_url(emulator), json={"prompt": f"an owl {i}"}, headers=teacher)
        assert len(emulator.requests) == 6 and emulator.requests[-1].json["prompt"] == "an owl 9"
        assert emulator._requests.wait_for(14, timeout=0)  # every arrival still counts


def test_a_body_nested_200000_deep_is_a_clear_400(emulator: Emulator, http: httpx.Client) -> None:
    teacher = {"authorization": f"Bearer {emulator.token}", "content-type": "application/json"}
    answer = http.post(run_url(emulator), content=b"[" * 200_000, headers=teacher)
    assert answer.status_code == 400 and "nested too deeply" in answer.json()["errors"][0]["message"]
    assert http.post(run_url(emulator), json={"prompt": "a fox"}, headers=teacher).status_code == 200


GOOD_INPUT = {"properties": {"prompt": {"type": "string"}}}


@pytest.mark.parametrize(
    "content",
    [
        "[" * 200_000,
        json.dumps({"name": "@cf/acme/\udc80\x1b[2J\x1b]52;c;ZXZpbA==\x07", "input": GOOD_INPUT}),
        json.dumps({"name": "@cf/acme/ok", "input": {"properties": {"prompt": {"type": "string"}, "n": 5}}}),
    ],
    ids=["nested", "escapes-in-name", "property-not-an-object"],
)
def test_a_bad_model_file_is_a_one_line_refusal(tmp_path: Path, content: str) -> None:
    (tmp_path / "bad.json").write_text(content, encoding="utf-8", errors="surrogatepass")
    # A real process: a file that were accepted would leave it serving, and the wait would end it.
    command = [sys.executable, "-m", "jupyter_imagegen", "emulator", "--models", str(tmp_path), "--port", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: model file ") and done.stderr.count("\n") == 1, done.stderr
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr


def test_serving_beyond_this_machine_makes_and_prints_a_token_of_its_own(http: httpx.Client) -> None:
    # "127.1" reaches 127.0.0.1 but is no loopback name to the command: as --host 0.0.0.0 would.
    command = [
        sys.executable,
        "-m",
        "jupyter_imagegen",
        "emulator",
        "--host",
        "127.1",
        "--port",
        "0",
        "--quiet",
    ]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        assert proc.stdout is not None
        exports: dict[str, str] = {}
        for line in proc.stdout:
            if "export " in line:
                name, _, value = line.split("export ", 1)[1].strip().partition("=")
                exports[name] = value.strip("'")
            if line.startswith("#") and len(exports) == 3:
                break
        token = exports["CLOUDFLARE_API_TOKEN"]
        assert token.startswith("classroom-") and len(token) > 20
        url = f"{exports['CLOUDFLARE_BASE_URL']}/accounts/{exports['CLOUDFLARE_ACCOUNT_ID']}/ai/run/{FLUX}"
        published = {"authorization": "Bearer emulator-token"}
        assert http.post(url, json={"prompt": "a fox"}, headers=published).status_code == 401
        own = {"authorization": f"Bearer {token}"}
        assert http.post(url, json={"prompt": "a fox"}, headers=own).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
