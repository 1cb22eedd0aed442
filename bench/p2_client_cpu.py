"""P2: client CPU per 1024x1024 image (request, download, decode, display bundle) against a bare
httpx + base64-decode baseline doing the same HTTP in the same run.

Target: at most 1.15x the baseline. CPU is process time of this process only; the emulator runs
in its own process. Run: python bench/p2_client_cpu.py
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable

import httpx

from jupyter_imagegen import Client
from jupyter_imagegen._display import image_bundle

from _support import emulator_process, machine, record

ROUNDS = 12
FLUX = "@cf/black-forest-labs/flux-1-schnell"
GPT = "openai/gpt-image-1.5"


def cpu_per_call(fn: Callable[[int], object]) -> float:
    fn(-1)  # warm-up: imports, connection
    started = time.process_time()
    for i in range(ROUNDS):
        fn(i)
    return (time.process_time() - started) / ROUNDS


def main() -> None:
    with emulator_process() as env:
        os.environ.update(env)
        base = f"{env['CLOUDFLARE_BASE_URL']}/accounts/{env['CLOUDFLARE_ACCOUNT_ID']}/ai/run"
        auth = {"Authorization": f"Bearer {env['CLOUDFLARE_API_TOKEN']}"}
        bare = httpx.Client(timeout=60)
        client = Client()

        def bare_flux(i: int) -> bytes:
            answer = bare.post(f"{base}/{FLUX}", headers=auth, json={"prompt": f"fox {i}"}).json()
            return base64.b64decode(answer["result"]["image"])

        def bare_gpt(i: int) -> bytes:
            answer = bare.post(
                base, headers=auth, json={"model": GPT, "input": {"prompt": f"fox {i}", "size": "1024x1024"}}
            )
            return bare.get(answer.json()["result"]["result"]["image"]).content

        def ours_flux(i: int) -> object:
            return image_bundle(client.generate(f"fox {i}", model=FLUX))

        def ours_gpt(i: int) -> object:
            return image_bundle(client.generate(f"fox {i}", model=GPT, size="1024x1024"))

        def ours_gpt_png(i: int) -> object:
            return image_bundle(client.generate(f"fox {i}", model=GPT, size="1024x1024"), "png")

        rows = [
            ("flux-1-schnell (base64 JPEG in JSON)", cpu_per_call(bare_flux), cpu_per_call(ours_flux)),
            (
                "gpt-image-1.5 (URL to PNG), display as PNG original",
                cpu_per_call(bare_gpt),
                cpu_per_call(ours_gpt_png),
            ),
            (
                "gpt-image-1.5 (URL to PNG), default JPEG preview",
                cpu_per_call(bare_gpt),
                cpu_per_call(ours_gpt),
            ),
        ]
        bare.close()
        client.close()
    table = "\n".join(f"| {name} | {b * 1000:.1f} | {o * 1000:.1f} | {o / b:.2f}x |" for name, b, o in rows)
    record(
        "P2 client CPU per image",
        f"""
CPU milliseconds per 1024x1024 image in the client process, mean of {ROUNDS} ({machine()}).
Baseline: bare httpx request(s) + base64 decode. Ours: `Client.generate` (validation, request,
parse, download, image check) + the notebook display bundle.

| model / display | baseline ms | ours ms | ratio |
|---|---|---|---|
{table}

Target <= 1.15x. The default display re-encodes a 1-2 MB PNG as a JPEG under 250 KB so the notebook
stays small; that encode is the cost above the baseline in the last row, paid once per displayed image.
""",
    )


if __name__ == "__main__":
    main()
