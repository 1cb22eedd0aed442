"""P11: memory a compressed answer costs the client. A loopback server answers every request with
256 MiB of zeros gzip-compressed twice (``Content-Encoding: gzip, gzip``, under 1 KB on the wire).

Baseline: a bare httpx client reading the answer with ``iter_bytes`` (httpx inflates it), in the
same run. Ours: ``Client.generate`` against the same server. Each runs in a fresh interpreter;
the figure is the growth of its peak resident memory over the interpreter after imports.
Target: ours grows by under 16 MiB. Run: python bench/p11_compressed_answer.py
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import zlib

from _support import machine, record

MIB = 256

CHILD = """
import json, resource, sys
import httpx
from jupyter_imagegen import Client, ImageGenError

base, side = sys.argv[1], sys.argv[2]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = "read"
if side == "baseline":
    with httpx.Client() as http, http.stream("POST", base + "/x") as response:
        size = sum(len(chunk) for chunk in response.iter_bytes())
    outcome = f"inflated to {size:,} bytes"
else:
    settings = dict(account_id="acc", api_token="tok", base_url=base + "/client/v4", max_retries=0)
    try:
        with Client(**settings) as client:
            client.generate("x", model="@cf/stabilityai/stable-diffusion-xl-base-1.0")
    except ImageGenError as exc:
        outcome = type(exc).__name__
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps([(after - before) / 1024, outcome]))
"""


def bomb() -> bytes:
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    once = b"".join(inner.compress(zeros) for _ in range(MIB)) + inner.flush()
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return outer.compress(once) + outer.flush()


def serve(listener: socket.socket, body: bytes, stop: threading.Event) -> None:
    listener.settimeout(0.1)
    while not stop.is_set():
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next(
                (
                    int(h.split(b":")[1])
                    for h in head.lower().split(b"\r\n")
                    if h.startswith(b"content-length:")
                ),
                0,
            )
            while len(rest) < length:
                rest += connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-encoding: gzip, gzip\r\n"
                + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                + body
            )


def main() -> None:
    body = bomb()
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(listener, body, stop), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    figures = {}
    try:
        for side in ("baseline", "ours"):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, base, side], capture_output=True, text=True, timeout=300
            )
            figures[side] = json.loads(done.stdout)
    finally:
        stop.set()
        thread.join(5)
        listener.close()
    (base_mib, base_outcome), (ours_mib, ours_outcome) = figures["baseline"], figures["ours"]
    verdict = "meets" if ours_mib < 16 else "misses"
    record(
        "P11 compressed answer",
        f"""
An answer of {len(body):,} bytes on the wire that inflates to {MIB} MiB (`Content-Encoding: gzip, gzip`)
({machine()}).

| client | peak memory growth, MiB | outcome |
|---|---|---|
| bare httpx `iter_bytes` (baseline) | {base_mib:.0f} | {base_outcome} |
| `Client.generate` | {ours_mib:.1f} | {ours_outcome} |

Ours grows by **{ours_mib:.1f} MiB** against {base_mib:.0f} MiB ({verdict} the < 16 MiB target): the
client asks for `identity`, reads raw bytes and refuses an encoded body unread.
""",
    )


if __name__ == "__main__":
    main()
