"""The emulator as a server shared on a network: bounded request bodies however they are framed,
clear 400s for malformed framing, cut-off idle and slow connections, a cap on connections served
at once, control endpoints that need the token, refused absurd settings, and image URLs that
name the address the client reached."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from jupyter_imagegen.emulator import Emulator

GPT = "openai/gpt-image-1.5"


def connect(emulator: Emulator) -> socket.socket:
    return socket.create_connection(("127.0.0.1", emulator.port), timeout=10)


def exchange(emulator: Emulator, raw: bytes) -> bytes:
    """Send ``raw`` on a new connection; everything the server sends until it closes or goes quiet."""
    with connect(emulator) as sock:
        sock.sendall(raw)
        return read_all(sock)


def read_all(sock: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received


def api_path(emulator: Emulator) -> str:
    return f"/client/v4/accounts/{emulator.account_id}/ai/run"


def head(emulator: Emulator, path: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{emulator.port}\r\n"
        f"Authorization: Bearer {emulator.token}\r\nContent-Type: application/json\r\n{extra}\r\n"
    ).encode()


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def still_serves(http: httpx.Client, emulator: Emulator) -> bool:
    answer = http.post(
        f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run",
        json={"model": GPT, "input": {"prompt": "x", "size": "256x256"}},
        headers={"authorization": f"Bearer {emulator.token}"},
    )
    return answer.status_code == 200


@pytest.mark.parametrize("route", ["api", "files", "control", "other"])
@pytest.mark.parametrize("length", ["abc", "-5", "12, 12", "1e3"])
def test_a_malformed_content_length_is_a_400_not_a_traceback(
    http: httpx.Client, emulator: Emulator, capfd: pytest.CaptureFixture[str], route: str, length: str
) -> None:
    path = {
        "api": api_path(emulator),
        "files": "/files/x.png",
        "control": "/__emulator__/stats",
        "other": "/x",
    }
    answer = exchange(emulator, head(emulator, path[route], f"Content-Length: {length}\r\n"))
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"Content-Length must be a whole number" in answer
    assert "Traceback" not in capfd.readouterr().err
    assert still_serves(http, emulator)


@pytest.mark.parametrize("route", ["api", "files", "control"])
def test_a_chunked_body_past_the_limit_is_refused_before_it_is_read(
    http: httpx.Client, emulator: Emulator, route: str
) -> None:
    path = {"api": api_path(emulator), "files": "/files/x.png", "control": "/__emulator__/faults"}[route]
    with connect(emulator) as sock:
        sock.sendall(head(emulator, path, "Transfer-Encoding: chunked\r\n"))
        # A 1 MB chunk first, then one announced at 49 MB + 1 byte: together past the 50 MB limit.
        # The server must answer from the sizes alone, without waiting for bytes that never come.
        sock.sendall(b"100000\r\n" + b"x" * 0x100000 + b"\r\n" + b"3100001\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert still_serves(http, emulator)


def test_a_bad_chunk_size_is_a_400(http: httpx.Client, emulator: Emulator) -> None:
    raw = head(emulator, api_path(emulator), "Transfer-Encoding: chunked\r\n") + b"zz\r\nhello\r\n0\r\n\r\n"
    assert exchange(emulator, raw).startswith(b"HTTP/1.1 400 ")
    assert still_serves(http, emulator)


def test_a_chunked_body_under_the_limit_is_still_read(http: httpx.Client, emulator: Emulator) -> None:
    body = json.dumps({"model": GPT, "input": {"prompt": "chunks", "size": "256x256"}}).encode()
    raw = head(emulator, api_path(emulator), "Transfer-Encoding: chunked\r\n")
    raw += b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 7]), body[i : i + 7]) for i in range(0, len(body), 7))
    with connect(emulator) as sock:
        sock.sendall(raw + b"0\r\n\r\n")
        answer = b""
        while b'"success"' not in answer:
            answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_idle_and_trickling_connections_are_cut_off(http: httpx.Client) -> None:
    with Emulator(read_timeout=0.5) as emulator:
        idle = connect(emulator)
        assert idle.recv(1) == b""  # closed by the server, not by our 10 s timeout
        idle.close()
        # One byte of headers at a time: each arrives well within any per-read timeout, yet the
        # request as a whole is overdue and the connection is cut before it completes.
        slow = connect(emulator)
        request = head(emulator, api_path(emulator), "X-Padding: " + "p" * 2000 + "\r\n")
        cut = False
        for byte in request:
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                cut = True
                break
            time.sleep(0.01)
            slow.setblocking(False)
            try:
                cut = slow.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                cut = True
            slow.setblocking(True)
            if cut:
                break
        slow.close()
        assert cut, "the server waited for the whole trickled request"
        # Kept-alive between requests: a connection that goes quiet after an answer is closed too.
        with connect(emulator) as kept:
            kept.sendall(b"GET /__emulator__/stats HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_all(kept).startswith(b"HTTP/1.1 401 ")  # answered, then cut when idle
        with httpx.Client(timeout=10) as client:
            assert still_serves(client, emulator)


def test_connections_beyond_the_cap_get_503_and_the_cap_frees_up() -> None:
    with Emulator(max_connections=3) as emulator:
        idle = [connect(emulator) for _ in range(3)]
        for sock in idle:  # each is being served: its thread waits for a request
            sock.sendall(b"GET /__emulator__/stats HTTP/1.1\r\nHost: x\r\n")
        # The server accepts connections in order, so these three hold every slot before the next.
        with connect(emulator) as extra:
            assert read_all(extra).startswith(b"HTTP/1.1 503 ")
        for sock in idle:
            sock.close()
        with httpx.Client(timeout=10) as client:
            deadline = time.monotonic() + 10
            while not still_serves(client, emulator):
                assert time.monotonic() < deadline, "the freed connections never became available"
                time.sleep(0.05)


def test_control_endpoints_need_the_token_and_send_no_cors(http: httpx.Client, emulator: Emulator) -> None:
    control = f"http://127.0.0.1:{emulator.port}/__emulator__"
    for answer in (
        http.get(f"{control}/stats"),
        http.post(f"{control}/reset"),
        http.post(f"{control}/faults", json={"kind": "reset"}, headers={"authorization": "Bearer wrong"}),
        http.post(f"{control}/latency", json={"seconds": 5}, headers={"origin": "http://evil.example"}),
        http.options(f"{control}/faults", headers={"origin": "http://evil.example"}),
    ):
        assert answer.status_code == 401, answer.request
        assert "access-control-allow-origin" not in answer.headers
    assert emulator.stats()["faults_pending"] == 0 and emulator.latency == 0
    auth = {"authorization": f"Bearer {emulator.token}"}
    answer = http.get(f"{control}/stats", headers=auth)
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers


def test_the_requests_endpoint_names_each_request_s_inputs_without_their_values(
    http: httpx.Client, emulator: Emulator
) -> None:
    assert still_serves(http, emulator)
    control = f"http://127.0.0.1:{emulator.port}/__emulator__/requests"
    assert http.get(control).status_code == 401
    answer = http.get(control, headers={"authorization": f"Bearer {emulator.token}"})
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers
    (summary,) = answer.json()["requests"]
    assert summary == {"path": api_path(emulator), "status": 200, "inputs": ["prompt", "size"]}


@pytest.mark.parametrize("seconds", [1e300, 1e6, -1, "1e300", None, True])
def test_absurd_latency_is_refused(http: httpx.Client, emulator: Emulator, seconds: object) -> None:
    auth = {"authorization": f"Bearer {emulator.token}"}
    control = f"http://127.0.0.1:{emulator.port}/__emulator__"
    answer = http.post(f"{control}/latency", json={"seconds": seconds}, headers=auth)
    assert answer.status_code == 400 and emulator.latency == 0
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        with pytest.raises(ValueError, match="latency must be 0 to 3600 seconds"):
            Emulator(latency=seconds)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "latency", "seconds": 1e300},
        {"kind": "hang", "seconds": 1e9},
        {"kind": "rate_limit", "retry_after": 1e300},
        {"kind": "oversize", "bytes": 1e300},
        {"kind": "reset", "times": 10**30},
    ],
)
def test_absurd_fault_options_are_refused(
    http: httpx.Client, emulator: Emulator, fault: dict[str, object]
) -> None:
    auth = {"authorization": f"Bearer {emulator.token}"}
    answer = http.post(f"http://127.0.0.1:{emulator.port}/__emulator__/faults", json=fault, headers=auth)
    assert answer.status_code == 400 and emulator.stats()["faults_pending"] == 0
    header = ";".join(f"{k}={v}" if k != "kind" else str(v) for k, v in fault.items() if k != "times")
    if "times" not in fault:
        sent = http.post(
            f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run",
            json={"model": GPT, "input": {"prompt": "x"}},
            headers={**auth, "x-emulator-fault": header},
        )
        assert sent.status_code == 400 and "x-emulator-fault" in sent.text.lower()


def image_url_for(http: httpx.Client, emulator: Emulator, host: str | None) -> str:
    headers = {"authorization": f"Bearer {emulator.token}"}
    if host is not None:
        headers["host"] = host
    answer = http.post(
        f"{emulator.base_url}/accounts/{emulator.account_id}/ai/run",
        json={"model": GPT, "input": {"prompt": "x", "size": "256x256"}},
        headers=headers,
    )
    payload = answer.json()
    while "image" not in payload:
        payload = payload["result"]
    return str(payload["image"])


def test_on_every_address_image_urls_name_the_address_the_client_reached(
    http: httpx.Client, emulator: Emulator
) -> None:
    local = f"http://127.0.0.1:{emulator.port}/files/"
    assert image_url_for(http, emulator, "192.168.1.50:8787").startswith(local)  # one address: its own
    # Listening on every address (--host 0.0.0.0) is simulated on loopback: no test listens wider.
    emulator._http.wildcard = True
    assert image_url_for(http, emulator, "192.168.1.50:8787").startswith("http://192.168.1.50:8787/files/")
    assert image_url_for(http, emulator, "classroom.local").startswith("http://classroom.local/files/")
    assert image_url_for(http, emulator, "[fd00::5]:8787").startswith("http://[fd00::5]:8787/files/")
    for hostile in ("evil.example/@x", "a b", "x:99999999", "", "host:80:80", "-bad"):
        assert image_url_for(http, emulator, hostile).startswith(local), hostile  # the socket's own address
    url = image_url_for(http, emulator, f"localhost:{emulator.port}")
    assert http.get(url).status_code == 200
