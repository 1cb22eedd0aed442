"""What the HTTP handler and the control endpoints use of an :class:`~._server.Emulator`, so they
need not import the server that starts them (the server imports them)."""

from __future__ import annotations

from typing import Any, Protocol

from ._api import Service
from ._faults import Fault, FaultQueue
from ._state import RequestLog

__all__ = ["EmulatorParts"]


class EmulatorParts(Protocol):
    _service: Service
    _faults: FaultQueue
    _requests: RequestLog
    _file_requests: RequestLog

    @property
    def token(self) -> str: ...

    @property
    def latency(self) -> float: ...

    @latency.setter
    def latency(self, seconds: float) -> None: ...

    def inject(self, kind: Fault | str, *, times: int = 1, **options: Any) -> None: ...

    def stats(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...

    def _log_line(self, line: str) -> None: ...
