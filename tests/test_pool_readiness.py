"""The async pool's check that an idle connection is still open: one poll answers a whole scan of
the pool, and a connection the server has closed since is never handed to the next request.
Real sockets over loopback."""

from __future__ import annotations

import asyncio
import socket

import httpx

from jupyter_imagegen.client._pool import _Readiness, async_transport

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"


async def _closing_server(accepted: list[int]) -> asyncio.AbstractServer:
    """Answers one request per connection, claims keep-alive, then closes the connection."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(ANSWER)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_a_connection_the_server_closed_is_not_reused() -> None:
    async def run() -> tuple[list[int], list[int]]:
        accepted: list[int] = []
        server = await _closing_server(accepted)
        port = server.sockets[0].getsockname()[1]
        statuses = []
        async with httpx.AsyncClient(transport=async_transport(4)) as client:
            for _ in range(3):
                response = await client.get(f"http://127.0.0.1:{port}/")
                statuses.append(response.status_code)
                await asyncio.sleep(0.05)  # the server's close reaches this side
        server.close()
        await server.wait_closed()
        return statuses, accepted

    statuses, accepted = asyncio.run(run())
    assert statuses == [200, 200, 200]
    assert len(accepted) == 3  # each request on a new connection: the closed one was seen


def test_one_poll_answers_a_scan_and_is_forgotten_when_the_loop_moves_on() -> None:
    async def run() -> list[bool]:
        readiness = _Readiness()
        quiet, quiet_peer = socket.socketpair()
        loud, loud_peer = socket.socketpair()
        try:
            for sock in (quiet, loud):
                readiness.add(sock)
            loud_peer.send(b"x")
            answers = [readiness.readable(quiet), readiness.readable(loud)]
            quiet_peer.send(b"y")  # arrives during the same scan: seen by the next one
            answers.append(readiness.readable(quiet))
            await asyncio.sleep(0)
            answers.append(readiness.readable(quiet))
            readiness.remove(quiet)
            quiet.close()
            answers.append(readiness.readable(quiet))  # closed: never reported as alive
            return answers
        finally:
            for sock in (quiet, quiet_peer, loud, loud_peer):
                sock.close()

    assert asyncio.run(run()) == [False, True, False, True, True]
