"""Cloudflare's side of the contract, without the HTTP plumbing: from a request to a :class:`Reply`.

Status codes and error codes follow docs/cloudflare.md §4. Where Cloudflare's behaviour is not documented
the choice is ours and marked so:

- unknown path: 404, code 7000 ("No route for that URI"); wrong method: 405, code 7001 (ours);
- bad or missing token: 401, code 10000; another account id: 404, code 7003;
- body not JSON, or no ``model``/``input`` (proxied route): 400, code 3003;
- unknown model, or a model called on the other route (a third-party model on
  ``/ai/run/{model}``, or a ``@cf/`` model on ``/ai/run`` without ``cf-aig-gateway-id``): 400,
  code 5007, "No such model ... or task" (ours: Workers AI answers this for ids it does not host;
  the gateway's answer is undocumented). A ``@cf/`` model on ``/ai/run`` with the header is served;
- inputs that fail the model's schema, a missing ``prompt`` included: 400, code 5006,
  ``AiError: Bad input: ...`` with ``"result": {}``, as the live service answers; unreadable input images (bad base64, not an
  image): 400, code 5004 ("Invalid data");
- request body over 50 MiB: 413, code 3006 (the limit is ours);
- ``GET .../ai/models/search`` and ``.../ai/models/schema``: the catalog (``_catalog``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

from ..client import ModelSpec, shipped_model
from ._answers import answer_seed, base64_answer, binary_answer, wants_data_uri
from ._catalog import CatalogEntry, schema_result, search_answer
from ._faults import (
    BAD_IMAGE_STRING,
    IMAGE_FAULTS,
    URL_ONLY_FAULTS,
    Fault,
    FaultSpec,
    oversize_chunks,
    spoiled_image,
)
from ._form import is_multipart, parse_form, typed_form
from ._inputs import Job, ServiceError, check_request
from ._render import render_image
from ._reply import Reply, fault_reply, log_id, v4
from ._state import FileStore, SampleCounter, StoredFile

__all__ = ["Envelope", "ImageUrlStyle", "Service", "ServiceError", "files_served_from"]

Envelope = Literal["v4", "run", "v4+run"]
ImageUrlStyle = Literal["url", "data-uri"]

_ROUTE = re.compile(r"/client/v4/accounts/([^/]+)/ai/run(?:/(.+))?")
_CATALOG_ROUTE = re.compile(r"/client/v4/accounts/([^/]+)/ai/models/(search|schema)")


_REQUEST = threading.local()


@contextlib.contextmanager
def files_served_from(base: str | None) -> Iterator[None]:
    """Image URLs made in this thread meanwhile start with ``base``: the address the client reached."""
    _REQUEST.file_base = base
    try:
        yield
    finally:
        _REQUEST.file_base = None


@dataclass
class Service:
    """The emulated Cloudflare account: its credentials, settings, stored files and counters."""

    account_id: str
    token: str
    envelope: Envelope = "v4+run"
    image_url_style: ImageUrlStyle = "url"
    url_ttl: float = 60.0
    single_use_urls: bool = False
    file_base: str = ""
    files: FileStore = field(default_factory=FileStore)
    samples: SampleCounter = field(default_factory=SampleCounter)
    added: dict[str, CatalogEntry] = field(default_factory=dict)  # from --models DIR
    catalog_readable: bool = True
    resets: dict[str, int] = field(default_factory=dict, init=False)  # image_reset: downloads cut so far
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def answer(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        raw: bytes,
        fault: FaultSpec | None,
        query: str = "",
    ) -> Reply:
        """The reply to one API request, ``fault`` applied; never raises for bad input."""
        proxied = bool((found := _ROUTE.fullmatch(path)) and found.group(2) is None)
        try:
            catalog = _CATALOG_ROUTE.fullmatch(path)
            if catalog is not None:
                reply = self._catalog_answer(method, catalog, headers, query, fault)
            else:
                reply = self._answer(method, path, headers, raw, fault)
        except ServiceError as exc:
            reply = Reply.error(exc.status, exc.code, exc.message, result=exc.result)
        except Exception as exc:  # an emulator bug: answer like a failing service, and say why
            traceback.print_exc()
            reply = Reply.error(500, 3000, f"Internal error in the emulator: {exc!r}")
        reply.headers["cf-aig-log-id"] = log_id()
        if proxied:
            reply.headers["cf-aig-cache-status"] = "MISS"
        kind = fault.kind if fault else None
        if kind is Fault.MALFORMED_JSON:
            start = b'{"success": true, "errors": [], "messages": [], "result": {"image": "'
            reply = Reply(200, {**reply.headers, "content-type": "application/json"}, start)
        elif kind is Fault.TRUNCATED:
            reply.cut_after = reply.size // 2
        return reply

    def _admit(self, method: str, allowed: str, path: str, account: str, headers: dict[str, str]) -> None:
        if method != allowed:
            raise ServiceError(405, 7001, f"Method {method} not allowed")
        if headers.get("authorization", "") != f"Bearer {self.token}":
            raise ServiceError(401, 10000, "Authentication error")
        if account != self.account_id:
            raise ServiceError(
                404, 7003, f"Could not route to {path}, perhaps your object identifier is invalid?"
            )

    def _catalog_answer(
        self, method: str, route: re.Match[str], headers: dict[str, str], query: str, fault: FaultSpec | None
    ) -> Reply:
        self._admit(method, "GET", route.group(0), route.group(1), headers)
        if not self.catalog_readable:
            raise ServiceError(401, 10000, "Authentication error")
        early = fault_reply(fault, self.envelope)
        if early is not None:
            return early
        if route.group(2) == "search":
            return Reply.json(200, search_answer(self.added, query))
        return Reply.json(200, v4(schema_result(self.added, query)))

    def _answer(
        self, method: str, path: str, headers: dict[str, str], raw: bytes, fault: FaultSpec | None
    ) -> Reply:
        route = _ROUTE.fullmatch(path)
        if route is None:
            raise ServiceError(404, 7000, "No route for that URI")
        self._admit(method, "POST", path, route.group(1), headers)
        early = fault_reply(fault, self.envelope)
        if early is not None:
            return early
        spec, inputs = self._read_inputs(route.group(2), headers, raw)
        job = check_request(spec, inputs)
        count = spec.images_per_request(inputs) if spec.output_kind == "url-array" else 1
        images = [self._render(job) for _ in range(count)]
        seed = answer_seed(spec, inputs)
        if spec.output_kind in ("url", "url-array"):
            return self._url_answer(job, images, fault, seed)
        if spec.output_kind == "base64-json":
            return base64_answer(images[0], fault, seed)
        return binary_answer(job, images[0], fault)

    def _render(self, job: Job) -> bytes:
        return render_image(
            model=job.spec.id,
            prompt=job.prompt,
            request_key=job.request_key,
            sample=self.samples.next(job.request_key),
            size=job.size,
            fmt=job.fmt,
            edit_source=job.edit_source,
            edit_count=job.edit_count,
        )

    def _read_inputs(
        self, path_model: str | None, headers: dict[str, str], raw: bytes
    ) -> tuple[ModelSpec, Any]:
        """The model and its inputs from a JSON body, or from a multipart form for a model that
        takes one (docs/cloudflare.md, "Request formats"); each format is refused for the other."""
        if is_multipart(headers):
            model = unquote(path_model) if path_model is not None else None
            spec = self.model(model) if model is not None else None
            if spec is None or spec.request_format != "multipart":
                raise ServiceError(400, 3003, "Incomplete request: the body is not valid JSON")
            try:
                fields = parse_form(headers["content-type"], raw)
            except ValueError as exc:
                raise ServiceError(
                    400, 3003, f"Incomplete request: unreadable multipart body ({exc})"
                ) from None
            return self._model_and_inputs(path_model, typed_form(spec, fields), headers)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ServiceError(400, 3003, "Incomplete request: the body is not valid JSON") from None
        except RecursionError:
            raise ServiceError(400, 3003, "Incomplete request: the JSON body is nested too deeply") from None
        spec, inputs = self._model_and_inputs(path_model, body, headers)
        if spec.request_format == "multipart":  # ours: the live answer to JSON here is undocumented
            raise ServiceError(
                400, 5006, f"AiError: Bad input: {spec.id} takes multipart/form-data, not JSON", result={}
            )
        return spec, inputs

    def _model_and_inputs(
        self, path_model: str | None, body: Any, headers: dict[str, str]
    ) -> tuple[ModelSpec, Any]:
        if path_model is not None:
            model, inputs, route = unquote(path_model), body, "hosted"
        else:
            if not isinstance(body, dict) or not isinstance(body.get("model"), str):
                raise ServiceError(400, 3003, "Incomplete request: 'model' (a string) is required")
            if "input" not in body:
                raise ServiceError(400, 3003, "Incomplete request: 'input' (the model's inputs) is required")
            model, inputs, route = body["model"], body["input"], "proxied"
        spec = self.model(model)
        if spec is None:
            raise ServiceError(400, 5007, f"No such model {model} or task")
        # Workers AI models are also served on /ai/run when the gateway is named (docs/cloudflare.md §1).
        gateway_named = bool(headers.get("cf-aig-gateway-id"))
        if spec.hosting != route and not (spec.hosting == "hosted" and gateway_named):
            where = (
                f"/ai/run/{model}, or on /ai/run with a cf-aig-gateway-id header"
                if spec.hosting == "hosted"
                else '/ai/run with {"model": ..., "input": ...}'
            )
            raise ServiceError(400, 5007, f"No such model {model} or task on this route (call it on {where})")
        return spec, inputs

    def model(self, model_id: str) -> ModelSpec | None:
        """The model the account serves under ``model_id``: a shipped one or one added from a file."""
        entry = self.added.get(model_id)
        return entry.spec if entry is not None else shipped_model(model_id)

    def file_url(self, name: str) -> str:
        return f"{getattr(_REQUEST, 'file_base', None) or self.file_base}/files/{name}"

    def _url_answer(self, job: Job, images: list[bytes], fault: FaultSpec | None, seed: int | None) -> Reply:
        strings = [self._image_string(job, data, fault) for data in images]
        answer: dict[str, Any] = (
            {"images": strings} if job.spec.output_kind == "url-array" else {"image": strings[0]}
        )
        if seed is not None:
            answer["seed"] = seed
        run = {"state": "Completed", "result": answer, "gatewayMetadata": {"keySource": "Unified"}}
        if self.envelope == "v4":
            return Reply.json(200, v4(answer))
        return Reply.json(200, run if self.envelope == "run" else v4(run))

    def _image_string(self, job: Job, data: bytes, fault: FaultSpec | None) -> str:
        kind = fault.kind if fault else None
        if kind is Fault.BAD_IMAGE_STRING:
            return BAD_IMAGE_STRING
        if kind is Fault.EXPIRED_URL:
            return self.file_url(self.files.new_name(job.fmt.extension))  # never stored
        if (self.image_url_style == "data-uri" or wants_data_uri(job)) and kind not in URL_ONLY_FAULTS:
            return f"data:{job.fmt.mime};base64,{base64.b64encode(spoiled_image(fault, data)).decode()}"
        name = self.files.new_name(job.fmt.extension)
        kept = fault if kind in IMAGE_FAULTS else None  # recorded with the download
        expires = time.monotonic() + self.url_ttl
        self.files.put(name, StoredFile(spoiled_image(fault, data), job.fmt.mime, expires, kept))
        return self.file_url(name)

    def serve_file(self, name: str) -> tuple[Reply, FaultSpec | None]:
        """The file route's answer for ``name`` and the fault it carries, if any."""
        stored = self.files.fetch(name, single_use=self.single_use_urls)
        cors = {"access-control-allow-origin": "*"}
        if stored is None:
            text = b"404 Not Found: this image URL has expired or was already downloaded (emulator)\n"
            return Reply(404, {"content-type": "text/plain; charset=utf-8", **cors}, text), None
        fault = stored.fault
        if fault is not None and fault.kind is Fault.IMAGE_RESET:
            with self._lock:
                resets = self.resets[name] = self.resets.get(name, 0) + 1
            if resets <= fault["fetches"]:
                self.files.put(name, stored)  # still there for the next download
                return Reply(0, reset=True), fault
        if fault is not None and fault.kind is Fault.REDIRECT_INSECURE:
            return Reply(302, {"location": fault["location"], **cors}), fault
        if fault is not None and fault.kind is Fault.OVERSIZE:
            size = fault["bytes"]
            return Reply(
                200, {"content-type": stored.mime, **cors}, oversize_chunks(size), length=size
            ), fault
        return Reply(200, {"content-type": stored.mime, **cors}, stored.data), fault
