"""uvicorn's httptools protocol, sending a response's head and body in one write.

uvicorn writes the status line and headers as soon as the app sends `http.response.start`, and the
body on `http.response.body`: two syscalls and two TCP segments for every small answer, and the
client wakes up twice. Here each connection's transport holds a lone write back until the next
write (they leave together, in one `writelines`) or the end of the event-loop step (it leaves alone),
so a one-piece response is one segment and nothing ever waits longer than the current step.
Measured A/B with wrk on /predict at concurrency 1: p50 10-25 us lower (medians of alternating runs).

Use it with `uvicorn app.main:app --http app.http_protocol:CoalescingHttpToolsProtocol`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HTTP_PROTOCOL = "app.http_protocol:CoalescingHttpToolsProtocol"  # uvicorn's --http value


class CoalescingTransport:
    """A transport that holds one write until the next write or the end of the loop step.

    Everything else (reading flow control, closing, extra info) is the wrapped transport's.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._held is None:
            self._held = bytes(data)  # the caller may reuse its buffer
            self._loop.call_soon(self.flush)
            return
        held, self._held = self._held, None
        self._transport.writelines((held, data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Send the held write now (a no-op when nothing is held, or dropped if the connection is gone)."""
        if self._held is not None:
            held, self._held = self._held, None
            if not self._transport.is_closing():  # uvloop raises on writes to a closed transport
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held or b"")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol writing through a CoalescingTransport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
