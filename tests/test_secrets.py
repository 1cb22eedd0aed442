"""The API token never shows: with a recognisable token, exercise every feature, failures
included, then search everything a user can see or keep for it. Zero occurrences anywhere; and the
token never reaches the image host, redirects included.

Each scan prints how many artefacts and bytes it searched (figures for docs/RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from ipywidgets.embed import embed_data
from nbclient import NotebookClient

from fault_support import CAP, CASES, MODELS, TIMEOUT, TOKEN, WRONG, Scan, capture_logs, free_port
from fetch_support import fetch
from jupyter_imagegen import AsyncClient, Client, ImageGenError, ImageGenPanel, ServerError
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_state import HISTORY
from jupyter_imagegen.runtime import ImageCache
from magic_support import Ran, ipython_shell, run
from panel_support import FrontEnd
from panel_support import run as run_panel


def connect(emulator: Emulator, **kw: Any) -> dict[str, Any]:
    return dict(account_id=emulator.account_id, api_token=TOKEN, base_url=emulator.base_url, **kw)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(token=TOKEN) as server:
        yield server


def test_the_python_api_never_shows_the_token(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jupyter_imagegen.client._retry.BASE_DELAY", 0.02)
    caplog.set_level(logging.DEBUG)  # every logger: httpx and httpcore log requests at DEBUG
    scan = Scan()
    settings: dict[str, Any] = connect(emulator, max_retries=1, timeout=TIMEOUT, max_image_bytes=CAP)
    with Client(**settings) as client:
        scan.add("client repr", repr(client))
        scan.add("settings repr", repr(client.settings))
        scan.add("settings as dict", repr(dataclasses.asdict(client.settings)))
        scan.add("client vars", repr(vars(client)))
        for case in CASES:  # every fault, each model kind
            emulator.inject(case.kind, times=5, **case.options)
            model, params = MODELS[case.model]
            with pytest.raises(ImageGenError) as info:
                client.generate("a fox", model=model, **params)
            scan.error(case.id, info.value)
            emulator.reset()
        # The service echoing the token in its own message.
        emulator.inject("failed_state", times=5, message=f"token {TOKEN} is not allowed here")
        with pytest.raises(ServerError) as echoed:
            client.generate("a fox", size="256x256")
        scan.error("echoed token", echoed.value)
        images = client.generate_many(["a fox", "an owl"], size="256x256")
        emulator.inject("moderation")
        mixed = client.generate_many(["a cat", "a dog"], size="256x256")
        scan.add("results repr", repr(images) + repr(mixed) + repr(mixed.errors))
        with pytest.raises(ImageGenError) as summary:
            mixed.raise_for_errors()
        scan.error("raise_for_errors", summary.value)
        for image in images.images:
            scan.add("image repr", repr(image))
            data, metadata = image._repr_mimebundle_()
            scan.add("display bundle", {"data": data, "metadata": metadata})
            scan.add("provenance", image.to_json_metadata())
            image.save(tmp_path / "saved" / "fox.png")
            cache = ImageCache(tmp_path / "cache")
            fetch(client, client.prepare("cached fox", size="256x256"), cache)
    scan.files(tmp_path)

    async def async_calls() -> None:
        async with AsyncClient(**settings) as async_client:
            emulator.inject("server_error", times=5, status=503)
            outcome = await async_client.generate_many(["a", "b"], size="256x256")
            for _, error in outcome.errors:
                scan.error("async", error)

    asyncio.run(async_calls())
    with Client(account_id=emulator.account_id, api_token=WRONG, base_url=emulator.base_url) as wrong:
        with pytest.raises(ImageGenError) as rejected:
            wrong.generate("a fox")
        scan.error("wrong token", rejected.value)
    refused = f"http://127.0.0.1:{free_port()}/client/v4"
    with Client(account_id="a", api_token=TOKEN, base_url=refused, max_retries=0) as nowhere:
        with pytest.raises(ImageGenError) as unreachable:
            nowhere.generate("a fox")
        scan.error("connection refused", unreachable.value)
    capture_logs(caplog, scan)
    scan.assert_clean("python api")


def test_an_interrupted_request_shows_no_token_even_with_local_variables(emulator: Emulator) -> None:
    """Ctrl-C while waiting for the service: the traceback passes through the HTTP library's
    frames, whose local variables a verbose traceback prints."""
    emulator.inject("hang", seconds=30)
    scan = Scan()
    # A real SIGINT to the main thread, as Ctrl-C sends: it also ends the blocking read.
    main = threading.main_thread().ident
    assert main is not None and threading.current_thread() is threading.main_thread()
    timer = threading.Timer(0.5, signal.pthread_kill, args=(main, signal.SIGINT))
    with Client(**connect(emulator)) as client:
        timer.start()
        try:
            client.generate("a fox", size="256x256")
        except KeyboardInterrupt as interrupt:
            scan.error("interrupt", interrupt)
        finally:
            timer.cancel()
    assert scan.items, "the request was not interrupted"
    scan.assert_clean("interrupted request")


def test_the_token_never_reaches_the_image_host_redirects_included(emulator: Emulator) -> None:
    with Client(**connect(emulator)) as client:
        client.generate("a fox", size="256x256")
        target = f"http://127.0.0.1:{emulator.port}/files/moved.png"  # a loopback hop is followed
        emulator.inject("redirect_insecure", location=target)
        with pytest.raises(ImageGenError):
            client.generate("a fox", size="256x256")
    api = emulator.requests
    files = emulator.file_requests
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in api)
    assert [r.path for r in files][-1] == "/files/moved.png" and len(files) == 3
    for download in files:
        assert "authorization" not in download.headers
        assert not any(TOKEN in value for value in download.headers.values())


def test_the_command_line_never_shows_the_token(emulator: Emulator, tmp_path: Path) -> None:
    env = {
        **emulator.env,
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "IMAGEGEN_CACHE_DIR": str(tmp_path),
    }
    (tmp_path / "prompts.txt").write_text("a fox\nan owl\na cat\n", encoding="utf-8")
    scan = Scan()

    def imagegen(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "jupyter_imagegen", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        scan.add(f"imagegen {' '.join(args)}: stdout", done.stdout)
        scan.add(f"imagegen {' '.join(args)}: stderr", done.stderr)

    imagegen("generate", "a red fox", "--size", "256x256", "-o", "fox.png")
    emulator.inject("moderation")
    imagegen("generate", "a blue fox", "--size", "256x256")
    emulator.inject("failed_state", times=5, message=f"token {TOKEN} is not allowed here")
    imagegen("generate", "a green fox", "--size", "256x256")
    imagegen("generate", "a fox", "--size", "13x13")
    emulator.inject("daily_limit")
    imagegen("batch", "prompts.txt", "-o", "batch", "--size", "256x256", "--quiet", "--max-retries", "0")
    imagegen("models")
    env["CLOUDFLARE_API_TOKEN"] = WRONG
    imagegen("generate", "a fox", "--size", "256x256")
    scan.files(tmp_path)
    assert any(name.endswith(".png") for name, _ in scan.items)  # something was made, and scanned
    scan.assert_clean("command line")


# -- the front ends ---------------------------------------------------------------------------


@pytest.fixture
def frontend_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    for name, value in {**emulator.env, "IMAGEGEN_MAX_RETRIES": "0", "IMAGEGEN_TIMEOUT": "2"}.items():
        monkeypatch.setenv(name, value)
    HISTORY.clear()
    yield emulator
    HISTORY.clear()


def _outputs(ran: Ran) -> str:
    shown = [{"data": o.data, "metadata": o.metadata} for o in ran.outputs]
    return json.dumps(shown, default=repr) + ran.stdout + ran.stderr + repr(ran.error)


def test_the_magic_never_shows_the_token(
    frontend_env: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator, scan = frontend_env, Scan()
    echo = {"message": f"token {TOKEN} is not allowed here"}
    cells: list[tuple[str, tuple[str, dict[str, Any]] | None]] = [
        (f"%%imagegen -s 256x256 -o one --save {tmp_path}/saved\na red fox", None),
        ("%%imagegen -s 256x256 -n 2 -o two --grid\na {animal}", None),
        ("%%imagegen -s 256x256\na green fox", ("moderation", {})),
        ("%%imagegen -s 256x256\na grey fox", ("failed_state", echo)),
        ("%%imagegen -s 256x256 -n 2\na blue fox", ("expired_url", {})),
        ("%imagegen -s 13x13 a fox", None),
        ("%colors nocolor", None),
        ("%xmode Verbose", None),
        ("%%imagegen -s 256x256\na brown fox", ("server_error", {"status": 503})),
        (
            "from jupyter_imagegen import Client\nClient().generate('x', size='256x256')",
            ("failed_state", echo),
        ),
        ("one, two, repr(one), one.provenance", None),
        ("%config ImageGenMagics", None),
    ]
    with ipython_shell() as shell:
        shell.user_ns["animal"] = ["cat", "owl"]
        for code, fault in cells:
            if fault is not None:
                emulator.inject(fault[0], **fault[1])
            scan.add(f"cell {code!r}", _outputs(run(shell, code)))
        # Interrupted while waiting, with verbose tracebacks on.
        emulator.inject("hang", seconds=30)
        main = threading.main_thread().ident
        assert main is not None
        timer = threading.Timer(0.5, signal.pthread_kill, args=(main, signal.SIGINT))
        timer.start()
        interrupted = run(shell, "%%imagegen -s 256x256\na slow fox")
        timer.cancel()
        assert isinstance(interrupted.error, KeyboardInterrupt)
        scan.add("interrupted cell", _outputs(interrupted))
    scan.files(tmp_path)  # saved images and the cache
    capture_logs(caplog, scan)
    assert any("saved" in name for name, _ in scan.items)
    scan.assert_clean("magic")


def test_the_panel_never_shows_the_token(
    frontend_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator, scan = frontend_env, Scan()

    async def scenario() -> None:
        panel = ImageGenPanel()
        front = FrontEnd(panel)
        front.generate("a fox", params={"size": "256x256"}, variations=2)
        await panel.wait()
        faults: list[tuple[str, dict[str, Any]]] = [
            ("moderation", {}),
            ("failed_state", {"message": f"token {TOKEN} is not allowed here"}),
            ("server_error", {"status": 502}),
            ("expired_url", {}),
            ("reset", {}),
            ("malformed_json", {}),
        ]
        for kind, options in faults:
            emulator.inject(kind, **options)
            front.generate(f"a fox, {kind}")
            await panel.wait()
        front.send({"type": "no-such-action"})
        front.set(params={"size": "13x13"})
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", WRONG)
        front.set(params={"size": "256x256"})
        front.generate("a fox with the wrong token")
        await panel.wait()
        states = [job["state"] for job in panel.jobs]  # two variations each time
        assert states.count("failed") == 6 + 2 and states.count("done") == 2 + 6
        text, _, buffers = front.saved_state()
        scan.add("saved widget state", text)
        for index, blob in enumerate(buffers):
            scan.add(f"saved widget buffer {index}", blob)
        scan.add("every state update", json.dumps(front.updates, default=repr))
        scan.add("every custom message", json.dumps([c for c, _ in front.received], default=repr))
        scan.add("embedded widget state", json.dumps(embed_data(views=[panel]), default=repr))
        scan.add("panel repr", repr(panel) + repr(panel.jobs) + panel.error + repr(panel.last_error))
        panel.save(tmp_path / "from-panel")
        panel.close()

    run_panel(scenario())
    scan.files(tmp_path)
    scan.assert_clean("panel")


def test_an_executed_notebook_never_holds_the_token(frontend_env: Emulator, tmp_path: Path) -> None:
    emulator, scan = frontend_env, Scan()
    failing = {"tags": ["raises-exception"]}
    cells = [
        nbformat.v4.new_code_cell("%load_ext jupyter_imagegen"),
        nbformat.v4.new_code_cell("%%imagegen -s 256x256 -o fox\na red fox"),
        nbformat.v4.new_code_cell("%%imagegen -s 256x256\na blue fox", metadata=failing),
        nbformat.v4.new_code_cell(
            "from jupyter_imagegen import ImageGenPanel\n"
            "panel = ImageGenPanel('a green fox', params={'size': '256x256'}, variations=2)\npanel"
        ),
        nbformat.v4.new_code_cell(
            "panel.generate()\nawait panel.wait()\n[job['state'] for job in panel.jobs]"
        ),
        nbformat.v4.new_code_cell("%xmode Verbose"),
        nbformat.v4.new_code_cell(
            "import jupyter_imagegen\njupyter_imagegen.generate('a grey fox', size='256x256')",
            metadata=failing,
        ),
        nbformat.v4.new_code_cell("fox, fox.provenance, panel"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # API requests in order: red fox, blue fox, the panel's two, grey fox.
    emulator.inject("latency", seconds=0)
    emulator.inject("moderation")
    emulator.inject("failed_state", message=f"token {TOKEN} is not allowed here")
    emulator.inject("latency", seconds=0)
    emulator.inject("failed_state", message=f"token {TOKEN} is not allowed here")
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    saved = tmp_path / "executed.ipynb"
    nbformat.write(notebook, saved)
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "ContentPolicyError" in outputs or "safety system" in outputs  # the failing cell failed
    assert "not allowed here" in outputs and "'done'" in outputs
    widgets = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any(w["model_name"] == "AnyModel" for w in widgets.values())  # the panel's state was saved
    scan.add("executed notebook", saved.read_bytes())
    scan.files(tmp_path)
    scan.assert_clean("notebook")
