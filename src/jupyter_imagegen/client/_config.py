"""Settings: keyword argument beats environment variable beats built-in default.

The API token is held in a :class:`Secret`, whose repr and str never show it, so it cannot leak
through a traceback, a log line or a widget state by accident.
"""

from __future__ import annotations

import builtins
import math
import os
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from .._exceptions import ConfigurationError
from ._models import DEFAULT_MODEL
from ._offline import is_loopback_host

__all__ = [
    "DEFAULT_BASE_URL",
    "SETTINGS_ENVIRONMENT",
    "BearerToken",
    "Secret",
    "Settings",
    "as_secret",
    "environment_fingerprint",
]

# Every environment variable Settings.resolve reads.
SETTINGS_ENVIRONMENT = (
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_BASE_URL",
    "CLOUDFLARE_AI_GATEWAY_ID",
    "IMAGEGEN_MODEL",
    "IMAGEGEN_TIMEOUT",
    "IMAGEGEN_MAX_RETRIES",
    "IMAGEGEN_ALLOW_PLAIN_HTTP",
)


def environment_fingerprint() -> str:
    """A digest of the settings' environment, so a long-lived front end notices a change (say a
    token set after the panel opened) without keeping the token in yet another place."""
    import hashlib

    from ._network import NETWORK_ENVIRONMENT

    names = (*SETTINGS_ENVIRONMENT, *NETWORK_ENVIRONMENT)
    values = "\0".join(os.environ.get(name, "") for name in names)
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


_TOKEN_VARIABLE = "CLOUDFLARE_API_TOKEN"


def _environment(env: Mapping[str, str] | None) -> tuple[dict[str, str], Secret | None]:
    """The settings' variables, stripped, and the token already wrapped in a :class:`Secret`.

    Nothing here raises: the frames that check values and raise must hold neither the token nor
    ``os.environ``, since a verbose traceback (``%xmode Verbose``) prints every frame's locals.
    """
    source = os.environ if env is None else env
    values = {name: source.get(name, "").strip() for name in SETTINGS_ENVIRONMENT if name != _TOKEN_VARIABLE}
    return values, as_secret(source.get(_TOKEN_VARIABLE))


def as_secret(token: str | Secret | None) -> Secret | None:
    """A token as given (keyword or environment) wrapped at once, surrounding whitespace removed:
    a token read from a file keeps its newline."""
    if token is None or isinstance(token, Secret):
        return token
    return Secret(token.strip()) if isinstance(token, str) else Secret(token)


def _check_token(token: Secret | None, source: str) -> Secret | None:
    """The token, or a ConfigurationError that does not echo it when it cannot be a header value."""
    if token is None or not token:
        return None
    if not isinstance(token.get(), str):
        raise ConfigurationError(f"{source} must be text, got {type(token.get()).__name__}.")
    bad = next((i for i, char in enumerate(token.get()) if not "!" <= char <= "~"), None)
    if bad is not None:
        raise ConfigurationError(
            f"{source} holds a space, a line break or another character no API token has "
            f"(character {bad + 1}); copy the token again without it."
        )
    return token


def _check_base_url(url: str, source: str, allow_plain_http: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(
            f"{source} must be an http(s) URL, got {url!r}; unset it to use {DEFAULT_BASE_URL}."
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not allow_plain_http:
        raise ConfigurationError(
            f"{source} is plain http to {parts.hostname}, which would send the API token in clear "
            "text: use https (plain http is only for this machine, or for an emulator shared on a "
            "trusted network with IMAGEGEN_ALLOW_PLAIN_HTTP=1)."
        )
    return url.rstrip("/")


def _switch(value: str, name: str) -> bool:
    word = value.lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("", "0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be 1 or 0, got {value!r}.")


def _retries(value: str) -> int:
    try:
        retries = int(value)
    except ValueError:
        raise ConfigurationError(f"IMAGEGEN_MAX_RETRIES must be a whole number, got {value!r}.") from None
    if retries < 0:
        raise ConfigurationError(f"max_retries must be 0 or more, got {retries}.")
    return retries


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise ConfigurationError(
            f"IMAGEGEN_TIMEOUT must be a number of seconds above 0 (such as 180 or 2.5), got {value!r}."
        )
    return seconds


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
    # Plain http to a base URL on another machine, and that machine's plain-http image URLs: only
    # for an emulator shared on a trusted network (a classroom), never for Cloudflare.
    allow_plain_http: bool = False

    @classmethod
    def resolve(
        cls,
        *,
        account_id: str | None = None,
        api_token: str | Secret | None = None,
        base_url: str | None = None,
        gateway_id: str | None = None,
        model: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        max_image_bytes: int | None = None,
        allow_plain_http: bool | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        # First, before anything can raise: wrap the token and keep only our variables.
        api_token = as_secret(api_token)
        found, env_token = _environment(env)
        del env
        if api_token is not None:
            token = _check_token(api_token, "api_token")
        else:
            token = _check_token(env_token, _TOKEN_VARIABLE)
        if allow_plain_http is None:
            allow_plain_http = _switch(found["IMAGEGEN_ALLOW_PLAIN_HTTP"], "IMAGEGEN_ALLOW_PLAIN_HTTP")
        if base_url is not None:
            resolved_base = _check_base_url(base_url, "base_url", allow_plain_http)
        else:
            resolved_base = _check_base_url(
                found["CLOUDFLARE_BASE_URL"] or DEFAULT_BASE_URL, "CLOUDFLARE_BASE_URL", allow_plain_http
            )
        if max_retries is None:
            max_retries = _retries(found["IMAGEGEN_MAX_RETRIES"]) if found["IMAGEGEN_MAX_RETRIES"] else 2
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be 0 or more, got {max_retries}.")
        if isinstance(timeout, (int, float)):
            timeout = httpx.Timeout(float(timeout), connect=min(10.0, float(timeout)))
        if timeout is None:
            read = _seconds(found["IMAGEGEN_TIMEOUT"]) if found["IMAGEGEN_TIMEOUT"] else 180.0
            timeout = httpx.Timeout(max(read, 60.0) + 120.0, connect=10.0, read=read)
        return cls(
            account_id=account_id if account_id is not None else found["CLOUDFLARE_ACCOUNT_ID"] or None,
            api_token=token,
            base_url=resolved_base,
            gateway_id=gateway_id or found["CLOUDFLARE_AI_GATEWAY_ID"] or "default",
            model=model or found["IMAGEGEN_MODEL"] or DEFAULT_MODEL,
            timeout=timeout,
            max_retries=max_retries,
            max_image_bytes=max_image_bytes or 50 * 1024 * 1024,
            allow_plain_http=allow_plain_http,
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


class BearerToken(httpx.Auth):
    """Adds ``Authorization: Bearer ...`` as the request is sent; shows no token in any repr."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get()}"
        yield request

    def __repr__(self) -> str:
        return "<BearerToken '**********'>"
