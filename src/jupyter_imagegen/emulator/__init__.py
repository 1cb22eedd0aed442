"""A local Cloudflare Workers AI emulator: a real HTTP server that answers like the service.

It serves the two routes of the contract (``/ai/run`` for third-party models, ``/ai/run/{model}``
for ``@cf/`` models), checks the token, the account and every input against the model's
published schema, and answers in each model's real shape: an image URL in one of three
envelopes, base64 JSON, or raw image bytes. Images are labelled test patterns, reproducible from
the request. Faults (rate limits, server errors, broken connections, bad images, ...) can be
injected from Python, per request with the ``x-emulator-fault`` header, or over HTTP.

    from jupyter_imagegen.emulator import Emulator

    with Emulator() as emulator:
        emulator.inject("rate_limit", retry_after=1)
        ...  # point a client at emulator.base_url with emulator.env

From a shell: ``python -m jupyter_imagegen.emulator --port 8787`` (or ``imagegen emulator``).
"""

from __future__ import annotations

from ._cli import main
from ._faults import Fault
from ._server import Emulator
from ._state import RecordedRequest

__all__ = ["Emulator", "Fault", "RecordedRequest", "main"]
