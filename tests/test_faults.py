"""The fault matrix for ``generate`` and ``generate_many``, sync and async, against the emulator's
fault injection over real loopback HTTP: every fault ends in success after retries or in one
specific, readable error; batches keep every success in input order; and no thread, task or
socket is left behind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fault_support import (
    CAP,
    CASES,
    MODELS,
    TIMEOUT,
    TRANSIENT,
    Case,
    DripServer,
    assert_readable,
    client_sockets,
    free_port,
    settle,
    snapshot,
)
from jupyter_imagegen import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    Client,
    GeneratedImage,
    GenerationResults,
    ImageDownloadError,
    ImageGenError,
    RateLimitError,
)
from jupyter_imagegen.emulator import Emulator

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff sizes are unit-tested elsewhere; here only that a retry happens matters."""
    monkeypatch.setattr("jupyter_imagegen.client._retry.BASE_DELAY", 0.02)


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Every thread and descriptor a test opens (the emulator's included) is gone after it."""
    before = snapshot()
    yield
    threads, fds = settle(before)
    assert threads == [] and fds <= 0, f"left behind: threads {threads}, {fds} descriptors"


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


Outcome = GeneratedImage | BaseException


def _settings(emulator: Emulator, **client: Any) -> dict[str, Any]:
    return dict(
        account_id=emulator.account_id,
        api_token=emulator.token,
        base_url=emulator.base_url,
        timeout=TIMEOUT,
        max_image_bytes=CAP,
        **client,
    )


def run_one(mode: str, emulator: Emulator, case: Case, **client: Any) -> Outcome:
    """One ``generate`` with the case's model; checks the client keeps no socket it should not."""
    model, params = MODELS[case.model]
    settings = _settings(emulator, **client)
    outcome: Outcome
    if mode == "sync":
        with Client(**settings) as sync_client:
            try:
                outcome = sync_client.generate("a lighthouse", model=model, **params)
            except ImageGenError as exc:
                outcome = exc
            assert client_sockets(emulator.port) <= 1  # at most the kept-alive connection
    else:

        async def scenario() -> Outcome:
            async with AsyncClient(**settings) as async_client:
                try:
                    result: Outcome = await async_client.generate("a lighthouse", model=model, **params)
                except ImageGenError as exc:
                    result = exc
                assert client_sockets(emulator.port) <= 1
            assert asyncio.all_tasks() == {asyncio.current_task()}
            return result

        outcome = asyncio.run(scenario())
    assert client_sockets(emulator.port) == 0
    return outcome


def run_many(
    mode: str, emulator: Emulator, case: Case, prompts: list[str], **client: Any
) -> GenerationResults:
    model, params = MODELS[case.model]
    settings = _settings(emulator, **client)
    if mode == "sync":
        with Client(**settings) as sync_client:
            results = sync_client.generate_many(prompts, concurrency=3, model=model, **params)
    else:

        async def scenario() -> GenerationResults:
            async with AsyncClient(**settings) as async_client:
                found = await async_client.generate_many(prompts, concurrency=3, model=model, **params)
            assert asyncio.all_tasks() == {asyncio.current_task()}
            return found

        results = asyncio.run(scenario())
    assert client_sockets(emulator.port) == 0
    return results


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_one_fault_is_retried_or_reported(mode: str, case: Case, emulator: Emulator) -> None:
    emulator.inject(case.kind, **case.options)
    outcome = run_one(mode, emulator, case, max_retries=1)
    if case.retried:
        assert isinstance(outcome, GeneratedImage), outcome
        assert len(emulator.requests) == 2
    else:
        assert isinstance(outcome, BaseException)
        assert_readable(outcome, case)
        assert len(emulator.requests) == 1  # final faults are never sent again


@pytest.mark.parametrize("case", TRANSIENT, ids=lambda c: c.id)
def test_a_fault_that_persists_beyond_max_retries_is_reported(
    mode: str, case: Case, emulator: Emulator
) -> None:
    emulator.inject(case.kind, times=10, **case.options)
    outcome = run_one(mode, emulator, case, max_retries=2)
    assert isinstance(outcome, BaseException)
    assert_readable(outcome, case)
    assert str(outcome).endswith("(Gave up after 3 attempts.)")
    assert len(emulator.requests) == 3


def test_retry_after_is_waited_for(emulator: Emulator) -> None:
    emulator.inject("rate_limit", retry_after=0.3)
    run_one("sync", emulator, Case("rate_limit", RateLimitError, ""), max_retries=1)
    first, second = emulator.requests
    assert first.finished is not None and second.started - first.finished >= 0.3


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.model == "url" or c.kind == "oversize"], ids=lambda c: c.id
)
def test_generate_many_keeps_every_success_and_names_every_failure(
    mode: str, case: Case, emulator: Emulator
) -> None:
    prompts = [f"lighthouse {i}" for i in range(5)]
    emulator.inject(case.kind, times=2, **case.options)
    results = run_many(mode, emulator, case, prompts, max_retries=1)
    assert len(results) == len(prompts) and [r.prompt for r in results.requests] == prompts
    for prompt, outcome in zip(prompts, results, strict=True):
        if isinstance(outcome, GeneratedImage):
            assert outcome.prompt == prompt and outcome.width > 0
        else:
            assert_readable(outcome, case)
    assert len(results.errors) == (0 if case.retried else 2)
    assert len(results.images) == len(prompts) - len(results.errors)


def test_connection_refused(mode: str) -> None:
    base_url = f"http://127.0.0.1:{free_port()}/client/v4"
    settings: dict[str, Any] = dict(
        account_id="a", api_token="token-for-nobody", base_url=base_url, max_retries=1
    )
    if mode == "sync":
        with Client(**settings) as sync_client:
            many = sync_client.generate_many(["a", "b", "c"], size="256x256")
            one: BaseException | None = many.errors[0][1]
    else:

        async def scenario() -> GenerationResults:
            async with AsyncClient(**settings) as async_client:
                return await async_client.generate_many(["a", "b", "c"], size="256x256")

        many = asyncio.run(scenario())
        one = many.errors[0][1]
    assert [i for i, _ in many.errors] == [0, 1, 2]
    assert isinstance(one, APIConnectionError) and not isinstance(one, APITimeoutError)
    text = str(one)
    assert "Could not talk to" in text and "ConnectError" in text and "(Gave up after 2 attempts.)" in text


@pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])
def test_an_answer_that_trickles_in_is_abandoned_by_the_clients_own_deadline(run_async: bool) -> None:
    """Each read of a trickled answer is quick, so the read timeout never fires: the attempt's
    overall deadline (the sum of the phase timeouts) must."""
    model, params = MODELS["binary"]
    with DripServer(interval=0.05).running() as server:
        settings: dict[str, Any] = dict(
            account_id="a", api_token="token-for-nobody", base_url=server.base_url, timeout=0.25
        )
        error: BaseException | None = None
        if not run_async:
            with Client(**settings) as sync_client, pytest.raises(APITimeoutError) as info:
                sync_client.generate("slow", model=model, **params)
            error = info.value
        else:

            async def scenario() -> None:
                async with AsyncClient(**settings) as async_client:
                    await async_client.generate("slow", model=model, **params)

            with pytest.raises(APITimeoutError) as info:
                asyncio.run(scenario())
            error = info.value
    assert isinstance(error, APITimeoutError) and error.phase == "total"
    assert "still arriving after 1 s" in str(error) and "Gave up" not in str(error)  # not retried


@pytest.mark.parametrize("status", [403, 404, 410])
def test_an_image_url_that_is_gone_or_forbidden_says_so(status: int) -> None:
    """Unit test of the download step: 403 is how signed storage URLs usually expire."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"result": {"image": "https://files.example.test/a.png"}})
        return httpx.Response(status, text="AccessDenied")

    transport = httpx.MockTransport(handler)
    client = Client(
        transport=transport,
        account_id="a",
        api_token="token-for-nobody",
        base_url="https://api.example.test/v4",
        resolver=lambda host, port: ["93.184.216.34"],  # no DNS query: the transport is in memory
    )
    with client, pytest.raises(ImageDownloadError) as info:
        client.generate("a fox")
    assert f"HTTP {status}: it has probably expired" in str(info.value)


def test_a_redirect_loop_on_the_image_url_ends() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"result": {"image": "https://files.example.test/0"}})
        calls.append(str(request.url))
        return httpx.Response(302, headers={"location": f"/{len(calls)}"})

    client = Client(
        transport=httpx.MockTransport(handler),
        account_id="a",
        api_token="token-for-nobody",
        base_url="https://api.example.test/v4",
        resolver=lambda host, port: ["93.184.216.34"],  # no DNS query: the transport is in memory
    )
    with client, pytest.raises(ImageDownloadError, match="redirected too often"):
        client.generate("a fox")
    assert len(calls) == 5  # the first URL and four redirects; the fifth is not followed
