"""Configuration: keyword beats environment beats default; the token never shows."""

from __future__ import annotations

import builtins
import pickle
from pathlib import Path

import httpx
import pytest

from jupyter_imagegen import Client, ConfigurationError, ImageGenError
from jupyter_imagegen.client._config import DEFAULT_BASE_URL, Settings

TOKEN = "tok-Zq9-very-secret-value"


def test_defaults() -> None:
    settings = Settings.resolve(env={})
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.gateway_id == "default"
    assert settings.model == "openai/gpt-image-1.5"
    assert settings.max_retries == 2
    assert (
        settings.timeout.connect == 10.0
        and settings.timeout.read is not None
        and settings.timeout.read >= 180
    )


def test_keyword_beats_environment_beats_default() -> None:
    env = {
        "IMAGEGEN_MODEL": "google/imagen-4",
        "CLOUDFLARE_AI_GATEWAY_ID": "gw",
        "CLOUDFLARE_BASE_URL": "http://127.0.0.1:1/v4/",
    }
    assert Settings.resolve(env=env).model == "google/imagen-4"
    assert Settings.resolve(env=env, model="openai/gpt-image-2").model == "openai/gpt-image-2"
    assert Settings.resolve(env=env).gateway_id == "gw"
    assert Settings.resolve(env=env).base_url == "http://127.0.0.1:1/v4"


@pytest.mark.parametrize("in_jupyter", [True, False])
def test_missing_credentials_name_the_variables_without_echoing_values(
    in_jupyter: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # IPython marks its shells (kernels included) with builtins.__IPYTHON__; a terminal has none.
    if in_jupyter:
        monkeypatch.setattr(builtins, "__IPYTHON__", True, raising=False)
    else:
        monkeypatch.delattr(builtins, "__IPYTHON__", raising=False)
    with pytest.raises(ConfigurationError) as info:
        Settings.resolve(env={"CLOUDFLARE_API_TOKEN": TOKEN}).require_credentials()
    text = str(info.value)
    assert "CLOUDFLARE_ACCOUNT_ID" in text and "emulator" in text
    # Advice that fits where it is read: getpass and %env mean nothing in a shell.
    assert ("getpass" in text and "%env" in text) is in_jupyter
    assert ("export CLOUDFLARE_ACCOUNT_ID" in text) is not in_jupyter
    assert TOKEN not in text
    with pytest.raises(ConfigurationError, match="CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN"):
        Settings.resolve(env={}).require_credentials()


def test_missing_credentials_fail_before_any_network_call() -> None:
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: calls.append(request) or httpx.Response(500))
    with Client(transport=transport) as client, pytest.raises(ConfigurationError):
        client.generate("a fox")
    assert calls == []


def test_token_never_in_repr_str_or_pickle_text() -> None:
    settings = Settings.resolve(env={"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_ACCOUNT_ID": "acc"})
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.api_token)
    assert TOKEN not in f"{settings.api_token}"
    client = Client(api_token=TOKEN, account_id="acc")
    assert TOKEN not in repr(client)
    restored = pickle.loads(pickle.dumps(settings.api_token))
    assert restored is not None and restored.get() == TOKEN


@pytest.mark.parametrize(
    "env,message",
    [
        ({"CLOUDFLARE_BASE_URL": "api.cloudflare.com"}, "must be an http"),
        ({"IMAGEGEN_TIMEOUT": "soon"}, "IMAGEGEN_TIMEOUT must be a number of seconds above 0"),
        ({"IMAGEGEN_TIMEOUT": "0"}, "IMAGEGEN_TIMEOUT must be a number of seconds above 0"),
        ({"IMAGEGEN_TIMEOUT": "nan"}, "IMAGEGEN_TIMEOUT must be a number of seconds above 0"),
        ({"IMAGEGEN_MAX_RETRIES": "-1"}, "max_retries must be 0 or more"),
        ({"IMAGEGEN_MAX_RETRIES": "x"}, "IMAGEGEN_MAX_RETRIES must be a whole number, got 'x'"),
        ({"CLOUDFLARE_BASE_URL": "http://api.example.com/client/v4"}, "plain http to api.example.com"),
        ({"CLOUDFLARE_BASE_URL": "http://10.0.0.5:8787/client/v4"}, "plain http to 10.0.0.5"),
    ],
)
def test_bad_settings_are_explained(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.resolve(env=env)


def test_fractional_timeout_seconds_are_accepted() -> None:
    settings = Settings.resolve(env={"IMAGEGEN_TIMEOUT": "2.5"})
    assert settings.timeout.read == 2.5


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8787/client/v4", "http://localhost:1/v4", "http://[::1]:1/v4"]
)
def test_plain_http_is_allowed_to_this_machine_only(url: str) -> None:
    assert Settings.resolve(env={"CLOUDFLARE_BASE_URL": url}).base_url == url


def test_plain_http_keyword_base_url_to_another_host_is_refused_before_any_request() -> None:
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: calls.append(request) or httpx.Response(500))
    with pytest.raises(
        ConfigurationError, match=r"^base_url is plain http to example\.com, which would send"
    ):
        Client(transport=transport, base_url="http://example.com/v4", api_token=TOKEN, account_id="a")
    assert calls == []


@pytest.mark.parametrize("given", [TOKEN + "\n", TOKEN + "\r\n", "  " + TOKEN + "\t", "\n" + TOKEN])
def test_surrounding_whitespace_is_stripped_from_the_token(given: str) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(401, json={"success": False, "errors": [{"code": 10000, "message": "no"}]})

    with (
        Client(transport=httpx.MockTransport(answer), api_token=given, account_id="acc") as client,
        pytest.raises(ImageGenError),
    ):
        client.generate("a fox")
    assert seen == [f"Bearer {TOKEN}"]
    env = {"CLOUDFLARE_API_TOKEN": given, "CLOUDFLARE_ACCOUNT_ID": "acc"}
    assert Settings.resolve(env=env).require_credentials() == ("acc", TOKEN)


@pytest.mark.parametrize("bad", ["tok-a\nb", "tok a", "tok\x00", "tok\x7f", "tok\u00e9", "tok\u2028x"])
def test_a_token_with_inner_whitespace_or_control_characters_is_refused_without_echo(bad: str) -> None:
    secret = bad.replace("tok", TOKEN)
    for build in (
        lambda: Client(api_token=secret, account_id="acc"),
        lambda: Settings.resolve(env={"CLOUDFLARE_API_TOKEN": secret}),
    ):
        with pytest.raises(ConfigurationError, match="no API token has") as info:
            build()
        text = str(info.value)
        assert "\n" not in text and TOKEN not in text and TOKEN[:12] not in text


def test_runtime_precedence_is_keyword_then_config_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from jupyter_imagegen.runtime._runtime import ImageGenConfig, Runtime

    model = "openai/gpt-image-1.5"
    runtime = Runtime(ImageGenConfig())
    assert runtime.model_defaults(model) == {} and runtime.concurrency == 4
    monkeypatch.setenv("IMAGEGEN_QUALITY", "medium")
    monkeypatch.setenv("IMAGEGEN_CONCURRENCY", "3")
    assert runtime.model_defaults(model) == {"quality": "medium"} and runtime.concurrency == 3
    runtime.use_config(ImageGenConfig(quality="high", concurrency=2, cache_dir=str(tmp_path / "c")))
    assert runtime.model_defaults(model) == {"quality": "high"} and runtime.concurrency == 2
    assert runtime.model_defaults(model, {"quality": "low"}) == {"quality": "low"}
    cache = runtime.cache()
    assert cache is not None and cache.directory == str(tmp_path / "c")
    # Defaults go only to models that take them.
    assert runtime.model_defaults("@cf/black-forest-labs/flux-1-schnell") == {}
    runtime.use_config(None)
    assert runtime.model_defaults(model) == {"quality": "medium"}
    runtime.close()
