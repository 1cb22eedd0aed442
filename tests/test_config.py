"""Configuration: keyword beats environment beats default; the token never shows."""

from __future__ import annotations

import pickle
from pathlib import Path

import httpx
import pytest

from jupyter_imagegen import Client, ConfigurationError
from jupyter_imagegen._config import DEFAULT_BASE_URL, Settings

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


def test_missing_credentials_name_the_variables_without_echoing_values() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.resolve(env={"CLOUDFLARE_API_TOKEN": TOKEN}).require_credentials()
    text = str(info.value)
    assert "CLOUDFLARE_ACCOUNT_ID" in text and "getpass" in text and "emulator" in text
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
        ({"IMAGEGEN_TIMEOUT": "soon"}, "IMAGEGEN_TIMEOUT must be a whole number"),
        ({"IMAGEGEN_MAX_RETRIES": "-1"}, "max_retries must be 0 or more"),
    ],
)
def test_bad_settings_are_explained(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.resolve(env=env)


def test_runtime_precedence_is_keyword_then_config_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from jupyter_imagegen._runtime import ImageGenConfig, Runtime

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
