"""One HTTP/1.1 client connection on an asyncio protocol: write a request, read the answer.

Made for inbox POSTs, where a request is a few headers and a small body and the answer is a
status with (mostly) an empty body: no streaming, no redirects, no cookies. The answer's body
is read up to a limit; a connection whose body was not read to the end is not used again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

MAX_HEAD = 64 * 1024  # status line and headers together
_NO_BODY = frozenset({204, 304})


class ProtocolError(Exception):
    """The server's answer was not HTTP/1.1 we can read, or the connection ended early."""


class StaleConnection(ProtocolError):
    """A kept-alive connection ended before any byte of the answer: the server had closed it."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A status, its headers (names in lowercase, the last value of each) and some body."""

    status: int
    headers: dict[str, str]
    body: bytes


class Connection(asyncio.Protocol):
    """A client connection; `exchange` sends one request and reads its answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self.reusable = False
        self.used = 0  # requests answered on this connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._wake()

    def send(self, data: bytes) -> None:
        """Write bytes of the request (a TLS connection encrypts them first)."""
        self.transport.write(data)

    def eof_received(self) -> bool:
        self._ended = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        self.reusable = False
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    @property
    def alive(self) -> bool:
        """Still open and nothing unasked-for arrived while idle."""
        transport = self.transport
        return (
            not self._ended
            and not self._buffer
            and transport is not None
            and not transport.is_closing()
        )

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes, body_limit: int) -> Answer:
        """Send `request` (head and body) and read the answer; `reusable` says what is next."""
        self.reusable = False
        self.send(request)
        answer, keep_alive = await self._answer(body_limit)
        self.used += 1
        self.reusable = keep_alive and not self._ended
        return answer

    async def _more(self) -> None:
        if self._ended:
            if self.used and not self._buffer:
                raise StaleConnection("the server had closed the kept-alive connection")
            raise ProtocolError("the connection closed before the answer was complete")
        await self._arrival()

    async def _arrival(self) -> None:
        """Wait until more bytes come or the connection ends."""
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def _answer(self, body_limit: int) -> tuple[Answer, bool]:
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    raise ProtocolError("the answer's headers are too long")
                await self._more()
                continue
            head = bytes(self._buffer[:end])
            del self._buffer[: end + 4]
            version, status, headers = _parse_head(head)
            if 100 <= status < 200:
                continue  # an interim answer (100 Continue): the real one follows
            body, complete = await self._body(status, headers, body_limit)
            keep_alive = (
                complete
                and version == b"HTTP/1.1"
                and headers.get("connection", "").lower() != "close"
            )
            return Answer(status, headers, body), keep_alive

    async def _body(self, status: int, headers: dict[str, str], limit: int) -> tuple[bytes, bool]:
        if status in _NO_BODY:
            return b"", True
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return await self._chunked(limit)
        length = headers.get("content-length")
        if length is None:
            return await self._until_close(limit), False
        try:
            size = int(length)
        except ValueError:
            raise ProtocolError(f"bad Content-Length {length[:40]!r}") from None
        if size < 0:
            raise ProtocolError("negative Content-Length")
        if size > limit:
            return await self._exactly(limit), False
        return await self._exactly(size), True

    async def _exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            await self._more()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def _until_close(self, limit: int) -> bytes:
        while len(self._buffer) < limit and not self._ended:
            await self._more_or_end()
        return bytes(self._buffer[:limit])

    async def _more_or_end(self) -> None:
        if not self._ended:
            await self._arrival()

    async def _line(self) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > MAX_HEAD:
                raise ProtocolError("a chunk header is too long")
            await self._more()
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    async def _chunked(self, limit: int) -> tuple[bytes, bool]:
        body = bytearray()
        while True:
            size_text = (await self._line()).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size {size_text[:20]!r}") from None
            if size == 0:
                while await self._line():  # trailers, up to the empty line
                    pass
                return bytes(body), True
            if len(body) + size > limit:
                body += await self._exactly(min(size, limit - len(body)))
                return bytes(body), False
            body += await self._exactly(size)
            await self._exactly(2)  # the CRLF after each chunk


def _parse_head(head: bytes) -> tuple[bytes, int, dict[str, str]]:
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:60]!r}")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return parts[0], int(parts[1]), headers
