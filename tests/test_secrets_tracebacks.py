"""The token never shows in a verbose traceback: every error a setting or a request can raise,
with the token in the environment or given as a keyword, formatted with every frame's local
variables (``traceback`` with ``capture_locals=True``) and shown by a real IPython shell under
``%xmode Verbose``. The scan looks for the token raw, escaped, URL-encoded and base64-encoded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fault_support import ODD, TOKEN, Scan, free_port
from jupyter_imagegen import Client, ImageGenError
from jupyter_imagegen.client._config import Settings
from jupyter_imagegen.emulator import Emulator
from magic_support import Ran, ipython_shell, run

BROKEN = TOKEN[:10] + "\n" + TOKEN[10:]  # a newline inside: refused without echo

# Environments that each make one settings check fail, with the token set beside them.
BAD_ENVIRONMENTS: dict[str, dict[str, str]] = {
    "timeout not a number": {"IMAGEGEN_TIMEOUT": "soon"},
    "fractional retries": {"IMAGEGEN_MAX_RETRIES": "x"},
    "negative retries": {"IMAGEGEN_MAX_RETRIES": "-1"},
    "base URL not a URL": {"CLOUDFLARE_BASE_URL": "api.cloudflare.com"},
    "plain http base URL": {"CLOUDFLARE_BASE_URL": "http://api.example.com/client/v4"},
    "token with a newline inside": {"CLOUDFLARE_API_TOKEN": BROKEN},
    "odd token, bad timeout": {"CLOUDFLARE_API_TOKEN": ODD, "IMAGEGEN_TIMEOUT": "-2"},
}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(token=TOKEN) as server:
        yield server


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, str]], None]]:
    def apply(values: dict[str, str]) -> None:
        # Loopback with nobody listening: should a check fail to fire, nothing leaves the machine.
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"http://127.0.0.1:{free_port()}/client/v4")
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acc")
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    yield apply


@pytest.mark.parametrize("case", list(BAD_ENVIRONMENTS))
def test_a_settings_error_holds_no_token_in_any_frame(
    case: str, environment: Callable[[dict[str, str]], None]
) -> None:
    environment(BAD_ENVIRONMENTS[case])
    scan = Scan()
    for name, build in [
        ("Client()", lambda: Client()),
        ("Settings.resolve()", lambda: Settings.resolve()),
        ("generate()", lambda: __import__("jupyter_imagegen").generate("a fox")),
    ]:
        with pytest.raises(ImageGenError) as info:
            build()
        scan.error(f"{case}: {name}", info.value)
        assert "\n" not in str(info.value)
    scan.assert_clean(case)


@pytest.mark.parametrize("token", [BROKEN, ODD + " x", TOKEN + "\x00"])
def test_a_keyword_token_that_is_refused_shows_in_no_frame(token: str) -> None:
    scan = Scan()
    with pytest.raises(ImageGenError) as info:
        Client(api_token=token, account_id="acc", timeout=1.0)
    scan.error("keyword token", info.value)
    scan.assert_clean("keyword token")


def test_a_request_error_with_an_unsendable_header_does_not_quote_it(emulator: Emulator) -> None:
    """A header value the HTTP library refuses: its own message quotes the value, and its frames
    (a debugger shows a context's locals) hold every header, the token among them."""
    scan = Scan()
    with (
        Client(account_id=emulator.account_id, api_token=TOKEN, base_url=emulator.base_url) as client,
        pytest.raises(ImageGenError) as info,
    ):
        client.generate("a fox", size="256x256", cache_key="key\nHEADER-VALUE")
    error = info.value
    assert "could not send the request" in str(error).lower() and "HEADER-VALUE" not in str(error)
    assert error.__context__ is None and error.__cause__ is None
    assert emulator.requests == []
    scan.error("unsendable header", error)
    scan.assert_clean("unsendable header")


def _shown(ran: Ran) -> str:
    outputs = [{"data": o.data, "metadata": o.metadata} for o in ran.outputs]
    return json.dumps(outputs, default=repr) + ran.stdout + ran.stderr + repr(ran.error)


CELLS = [
    "%%imagegen -s 256x256\na fox",
    "from jupyter_imagegen import Client\nClient()",
    "import jupyter_imagegen\njupyter_imagegen.generate('a fox', size='256x256')",
    "from jupyter_imagegen import ImageGenPanel\nImageGenPanel('a fox').generate()",
]


@pytest.mark.parametrize("case", list(BAD_ENVIRONMENTS))
def test_xmode_verbose_shows_no_token_for_any_settings_error(
    case: str, environment: Callable[[dict[str, str]], None]
) -> None:
    environment(BAD_ENVIRONMENTS[case])
    scan = Scan()
    with ipython_shell() as shell:
        assert run(shell, "%load_ext jupyter_imagegen").error is None
        run(shell, "%colors nocolor")
        run(shell, "%xmode Verbose")
        for code in CELLS:
            ran = run(shell, code)
            scan.add(f"{case}: {code!r}", _shown(ran))
            if code.startswith("%%imagegen"):
                assert ran.error is not None and "\n" not in str(ran.error)
    shown = "".join(data.decode() for _, data in scan.items)
    assert "Traceback" in shown or "ConfigurationError" in shown  # an error was shown and is scanned
    scan.assert_clean(f"xmode verbose: {case}")


def test_xmode_verbose_shows_no_token_for_request_errors(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**emulator.env, "CLOUDFLARE_API_TOKEN": TOKEN, "IMAGEGEN_MAX_RETRIES": "0"}.items():
        monkeypatch.setenv(name, value)
    scan = Scan()
    faults: list[tuple[str, dict[str, Any]]] = [
        ("failed_state", {"message": f"token {TOKEN} is not allowed here"}),
        ("server_error", {"status": 503}),
        ("malformed_json", {}),
        ("expired_url", {}),
        ("image_reset", {"fetches": 5}),
        ("reset", {}),
    ]
    code = "from jupyter_imagegen import Client\nClient(api_token=None).generate('a fox', size='256x256')"
    with ipython_shell() as shell:
        run(shell, "%colors nocolor")
        run(shell, "%xmode Verbose")
        for kind, options in faults:
            emulator.inject(kind, **options)
            ran = run(shell, code)
            assert isinstance(ran.error, ImageGenError), (kind, ran.error)
            scan.add(f"verbose {kind}", _shown(ran))
    shown = "".join(data.decode() for _, data in scan.items)
    assert "Traceback" in shown
    scan.assert_clean("xmode verbose: request errors")
