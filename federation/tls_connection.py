"""An HTTP/1.1 client connection over TLS, encrypted in memory (`ssl.MemoryBIO`).

asyncio's own TLS transport gives every connection a 256 KB read buffer; a fan-out keeps an
idle connection to each of a thousand servers, which came to 400 MB. Here OpenSSL's own
buffers are all a connection holds between requests.
"""

from __future__ import annotations

import ssl

from federation.http1 import Connection, ProtocolError

_READ = 16 * 1024  # one TLS record at most


class TlsConnection(Connection):
    """`Connection` whose bytes are TLS records; `handshake()` before the first request."""

    def __init__(self, context: ssl.SSLContext, server_hostname: str) -> None:
        super().__init__()
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(
            self._incoming, self._outgoing, server_side=False, server_hostname=server_hostname
        )
        self._secure = False

    async def handshake(self) -> None:
        """Complete the TLS handshake; ssl.SSLError (a refused certificate...) or
        ProtocolError when the server hangs up."""
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                await self._cipher()
                continue
            break
        self._flush()
        self._secure = True
        self._decrypt()

    def send(self, data: bytes) -> None:
        self._tls.write(data)
        self._flush()

    def data_received(self, data: bytes) -> None:
        self._incoming.write(data)
        if self._secure:
            self._decrypt()
        self._wake()

    def eof_received(self) -> bool:
        self._incoming.write_eof()
        return super().eof_received()

    def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending and self.transport is not None:
            self.transport.write(pending)

    def _decrypt(self) -> None:
        while True:
            try:
                chunk = self._tls.read(_READ)
            except ssl.SSLWantReadError:
                return
            except ssl.SSLZeroReturnError:  # the server's close_notify
                self._ended = True
                return
            except ssl.SSLError:  # a broken record: nothing more can be read
                self._ended = True
                return
            if not chunk:
                self._ended = True
                return
            self._buffer += chunk

    async def _cipher(self) -> None:
        if self._ended:
            raise ProtocolError("the server closed the connection during the TLS handshake")
        await self._arrival()
