"""Shared fixtures: every test runs against a real emulator on loopback, never the real service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from jupyter_imagegen import Client
from jupyter_imagegen.client import _request
from jupyter_imagegen.client._config import SETTINGS_ENVIRONMENT
from jupyter_imagegen.client._network import NETWORK_ENVIRONMENT
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.runtime import _runtime

# The network's variables too: a developer's own proxy must not carry the tests' loopback traffic.
_ENV = (*SETTINGS_ENVIRONMENT, *NETWORK_ENVIRONMENT)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's real credentials or cache, or a default client from another."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IMAGEGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_runtime, "_runtime", None)
    monkeypatch.setattr(_request, "_warned_extra", set())  # each test sees its own first warning
    yield
    if _runtime._runtime is not None:
        _runtime._runtime.close()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


@pytest.fixture
def emulator_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator, with the process environment pointing at it (as offline mode does)."""
    for name, value in emulator.env.items():
        monkeypatch.setenv(name, value)
    return emulator


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Client]:
    with Client(
        account_id=emulator.account_id,
        api_token=emulator.token,
        base_url=emulator.base_url,
    ) as c:
        yield c


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    """A test CA, as on a network that inspects TLS with its own (tests/test_tls.py, test_http2.py)."""
    return trustme.CA()


@pytest.fixture
def ca_file(authority: trustme.CA, tmp_path: Path) -> str:
    """The test CA's certificate as a PEM file, for the CA bundle settings."""
    path = tmp_path / "test-ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return str(path)
