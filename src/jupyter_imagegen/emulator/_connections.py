"""Connections of the emulator's HTTP server, bounded so that sharing it on a network is safe.

At most ``max_connections`` connections are served at once; more get an immediate 503 and are
closed, so a crowd of slow clients cannot pin hundreds of threads. A request's head and body must
arrive within ``read_seconds`` of the connection opening or of the previous answer: a client that
sends nothing, or trickles a byte at a time, is cut off however short each single wait is. While
the emulator works on an answer (latency and hang faults included) no clock runs.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["BoundedHTTPServer"]

_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


class BoundedHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer with bounded connections that can drop every open connection."""

    daemon_threads = True
    block_on_close = False
    # socketserver's default listen backlog of 5 makes the kernel drop new connections while a
    # burst is being accepted; the dropped client retries after a second (or is reset), so a
    # batch at concurrency 32 would measure the emulator, not the client.
    request_queue_size = 256
    max_connections = 128  # served at once; a slow or idle client holds one thread at most
    read_seconds = 60.0  # for a request's head and body, counted from the connection or last answer

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        max_connections: int = max_connections,
        read_seconds: float = read_seconds,
    ) -> None:
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1:
            raise ValueError(f"max_connections must be a whole number of at least 1, got {max_connections!r}")
        if not 0 < read_seconds <= 3600:
            raise ValueError(
                f"read_timeout must be more than 0 and at most 3600 seconds, got {read_seconds!r}"
            )
        self.max_connections, self.read_seconds = max_connections, float(read_seconds)
        self.stopping = threading.Event()
        self.wildcard = address[0] in _WILDCARD_HOSTS
        self._connections: dict[socket.socket, float | None] = {}  # connection -> read deadline
        self._connections_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
                    b"content-length: 29\r\nconnection: close\r\n\r\ntoo many connections, retry.\n"
                )
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def expect(self, connection: socket.socket, reading: bool) -> None:
        """Start (``reading``) or stop the clock for the next request to arrive on ``connection``."""
        with self._connections_lock:
            if connection in self._connections:
                self._connections[connection] = time.monotonic() + self.read_seconds if reading else None

    def service_actions(self) -> None:
        # Called by serve_forever between polls: cut connections whose request is overdue, so
        # a client trickling bytes (or sending none) cannot hold a thread for ever.
        now = time.monotonic()
        with self._connections_lock:
            overdue = [
                c for c, deadline in self._connections.items() if deadline is not None and now > deadline
            ]
            for connection in overdue:
                self._connections[connection] = None
        for connection in overdue:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host up with getfqdn, which can stall on a machine
        # without working reverse DNS; the name is not needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections[connection] = time.monotonic() + self.read_seconds
            else:
                self._connections.pop(connection, None)

    def drop_connections(self) -> None:
        """Shut every open connection, waking handler threads blocked on a keep-alive read."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if self.stopping.is_set() or isinstance(error, (ConnectionError, TimeoutError)):
            return  # a client that went away, or a connection dropped by stop()
        super().handle_error(request, client_address)
