"""A response's head and body in one write: the transport wrapper's rules, and uvicorn running with it."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.http_protocol import CoalescingTransport


class RecordingTransport(asyncio.Transport):
    """The wrapped transport: records what reaches it, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple[bytes, ...]]] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", (bytes(data),)))

    def writelines(self, chunks: Any) -> None:
        self.calls.append(("writelines", tuple(bytes(c) for c in chunks)))

    def close(self) -> None:
        self.calls.append(("close", ()))
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def run(steps: Callable[[CoalescingTransport, RecordingTransport], Any]) -> RecordingTransport:
    async def main() -> RecordingTransport:
        inner = RecordingTransport()
        await steps(CoalescingTransport(inner, asyncio.get_running_loop()), inner)
        return inner

    return asyncio.run(main())


def test_two_writes_in_one_step_leave_together() -> None:
    async def steps(transport: CoalescingTransport, inner: RecordingTransport) -> None:
        transport.write(b"head")
        assert inner.calls == []  # held
        transport.write(b"body")
        assert inner.calls == [("writelines", (b"head", b"body"))]  # at once, not at the end of the step
        await asyncio.sleep(0)

    assert run(steps).calls == [("writelines", (b"head", b"body"))]


def test_a_lone_write_leaves_at_the_end_of_the_step() -> None:
    async def steps(transport: CoalescingTransport, inner: RecordingTransport) -> None:
        transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        assert inner.calls == []
        await asyncio.sleep(0)
        assert inner.calls == [("write", (b"HTTP/1.1 100 Continue\r\n\r\n",))]

    run(steps)


def test_writes_keep_their_order_across_steps() -> None:
    async def steps(transport: CoalescingTransport, inner: RecordingTransport) -> None:
        for chunk in (b"1", b"2", b"3"):
            transport.write(chunk)
        await asyncio.sleep(0)
        transport.writelines([b"4", b"", b"5"])  # empty chunks are dropped, as uvloop does
        await asyncio.sleep(0)

    calls = run(steps).calls
    assert calls == [("writelines", (b"1", b"2")), ("write", (b"3",)), ("writelines", (b"4", b"5"))]


def test_close_sends_the_held_write_first() -> None:
    async def steps(transport: CoalescingTransport, inner: RecordingTransport) -> None:
        transport.write(b"last words")
        transport.close()
        assert inner.calls == [("write", (b"last words",)), ("close", ())]
        assert transport.is_closing()  # everything else is the wrapped transport's
        await asyncio.sleep(0)  # the scheduled flush finds nothing left

    assert run(steps).calls == [("write", (b"last words",)), ("close", ())]


def test_a_held_write_is_dropped_when_the_connection_went_away_meanwhile() -> None:
    async def steps(transport: CoalescingTransport, inner: RecordingTransport) -> None:
        transport.write(b"head")
        inner.closed = True  # the peer reset the connection: uvloop closed the transport itself
        await asyncio.sleep(0)

    assert run(steps).calls == []


def test_the_held_write_counts_in_the_write_buffer_size() -> None:
    async def steps(transport: CoalescingTransport, inner: RecordingTransport) -> None:
        inner.get_write_buffer_size = lambda: 10  # type: ignore[method-assign]
        transport.write(b"12345")
        assert transport.get_write_buffer_size() == 15
        await asyncio.sleep(0)
        assert transport.get_write_buffer_size() == 10

    run(steps)


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def read_response(sock: socket.socket) -> bytes:
    """One whole response with a Content-Length body."""
    received = b""
    while True:
        head_end = received.find(b"\r\n\r\n")
        if head_end != -1:
            length = re.search(rb"content-length: *(\d+)", received[:head_end], re.IGNORECASE)
            if length and len(received) >= head_end + 4 + int(length.group(1)):
                return received
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection after {received!r}"
        received += chunk


@pytest.mark.slow
def test_uvicorn_with_the_protocol_answers_keep_alive_head_and_close(live_catboost: Any) -> None:
    """A real uvicorn started as the image starts it: responses with a body, a HEAD (headers only, here
    a 405: the held write must leave on its own), then `Connection: close` (held data before the close)."""
    with connect(live_catboost.url) as sock:
        sock.sendall(
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
            b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /model HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        answer = read_until_closed(sock)
    assert re.findall(rb"HTTP/1.1 (\d+)", answer) == [b"200", b"405", b"200"]
    assert b'{"status":"ok","color":"green"}' in answer
    assert answer.endswith(b"}") and b'"name":"credit-default"' in answer  # /model, whole


@pytest.mark.slow
def test_uvicorn_with_the_protocol_sends_100_continue_on_its_own(live_catboost: Any, example: dict) -> None:
    """`Expect: 100-continue`: the interim answer is a lone write; the client waits for it before the body."""
    body = json.dumps(example).encode()
    with connect(live_catboost.url) as sock:
        sock.sendall(
            b"POST /predict?explain=false HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = read_response(sock)
    assert answer.startswith(b"HTTP/1.1 200 OK") and b'"probability_default"' in answer
