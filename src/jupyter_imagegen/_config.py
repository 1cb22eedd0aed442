"""Settings: keyword argument beats environment variable beats built-in default.

The API token is held in a :class:`Secret`, whose repr and str never show it, so it cannot leak
through a traceback, a log line or a widget state by accident.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from ._exceptions import ConfigurationError
from ._models import DEFAULT_MODEL

__all__ = ["DEFAULT_BASE_URL", "SETTINGS_ENVIRONMENT", "Secret", "Settings", "environment_fingerprint"]

# Every environment variable Settings.resolve reads.
SETTINGS_ENVIRONMENT = (
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_BASE_URL",
    "CLOUDFLARE_AI_GATEWAY_ID",
    "IMAGEGEN_MODEL",
    "IMAGEGEN_TIMEOUT",
    "IMAGEGEN_MAX_RETRIES",
)


def environment_fingerprint() -> str:
    """A digest of the settings' environment, so a long-lived front end notices a change (say a
    token set after the panel opened) without keeping the token in yet another place."""
    import hashlib

    values = "\0".join(os.environ.get(name, "") for name in SETTINGS_ENVIRONMENT)
    return hashlib.sha256(values.encode("utf-8")).hexdigest()


DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"

# Where the message is read decides the advice: a shell sets variables with export, a notebook
# should never show the token (getpass, not %env).
_HOW_TO_SET_IN_JUPYTER = (
    "Set it in the environment before starting Jupyter, or in a cell with "
    "`import os, getpass; os.environ['{name}'] = getpass.getpass()` so it is never shown; "
    "avoid `%env {name}=...`, which prints the value. For offline use, start Jupyter with "
    "`imagegen lab`, which runs the bundled emulator."
)
_HOW_TO_SET_IN_TERMINAL = (
    "Set both in the environment: `export CLOUDFLARE_ACCOUNT_ID=... CLOUDFLARE_API_TOKEN=...` "
    "(a token with Workers AI Read). For offline use, run `imagegen emulator` and export the "
    "variables it prints."
)


def _how_to_set(name: str) -> str:
    in_ipython = hasattr(builtins, "__IPYTHON__")  # set by every IPython shell, kernels included
    return (_HOW_TO_SET_IN_JUPYTER if in_ipython else _HOW_TO_SET_IN_TERMINAL).format(name=name)


class Secret:
    """A string that never shows itself in a repr, str or format."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[type, tuple[str]]:
        # Pickling is how multiprocessing hands settings to workers; the token must survive that.
        return (Secret, (self._value,))


def _pick(given: str | None, env: Mapping[str, str], name: str, default: str | None) -> str | None:
    if given is not None:
        return given
    value = env.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    """Everything a client needs to reach the service, resolved once."""

    account_id: str | None
    api_token: Secret | None = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    gateway_id: str = "default"
    model: str = DEFAULT_MODEL
    timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(300.0, connect=10.0, read=180.0))
    max_retries: int = 2
    max_image_bytes: int = 50 * 1024 * 1024

    @classmethod
    def resolve(
        cls,
        *,
        account_id: str | None = None,
        api_token: str | None = None,
        base_url: str | None = None,
        gateway_id: str | None = None,
        model: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        max_image_bytes: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        env = os.environ if env is None else env
        token = _pick(api_token, env, "CLOUDFLARE_API_TOKEN", None)
        resolved_base = _pick(base_url, env, "CLOUDFLARE_BASE_URL", DEFAULT_BASE_URL) or DEFAULT_BASE_URL
        if not resolved_base.startswith(("https://", "http://")):
            raise ConfigurationError(
                f"CLOUDFLARE_BASE_URL must be an http(s) URL, got {resolved_base!r}; "
                f"unset it to use {DEFAULT_BASE_URL}."
            )
        retries = max_retries if max_retries is not None else _int_env(env, "IMAGEGEN_MAX_RETRIES", 2)
        if retries < 0:
            raise ConfigurationError(f"max_retries must be 0 or more, got {retries}.")
        if isinstance(timeout, (int, float)):
            timeout = httpx.Timeout(float(timeout), connect=min(10.0, float(timeout)))
        if timeout is None:
            read = float(_int_env(env, "IMAGEGEN_TIMEOUT", 180))
            timeout = httpx.Timeout(max(read, 60.0) + 120.0, connect=10.0, read=read)
        return cls(
            account_id=_pick(account_id, env, "CLOUDFLARE_ACCOUNT_ID", None),
            api_token=Secret(token) if token else None,
            base_url=resolved_base.rstrip("/"),
            gateway_id=_pick(gateway_id, env, "CLOUDFLARE_AI_GATEWAY_ID", "default") or "default",
            model=_pick(model, env, "IMAGEGEN_MODEL", DEFAULT_MODEL) or DEFAULT_MODEL,
            timeout=timeout,
            max_retries=retries,
            max_image_bytes=max_image_bytes or 50 * 1024 * 1024,
        )

    def require_credentials(self) -> tuple[str, str]:
        """The account id and token, or a :class:`ConfigurationError` saying how to set them."""
        missing = [
            name
            for name, value in (
                ("CLOUDFLARE_ACCOUNT_ID", self.account_id),
                ("CLOUDFLARE_API_TOKEN", self.api_token),
            )
            if not value
        ]
        if missing:
            names = " and ".join(missing)
            raise ConfigurationError(f"{names} not set. " + _how_to_set(missing[0]))
        assert self.account_id is not None and self.api_token is not None
        return self.account_id, self.api_token.get()


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}.") from None
