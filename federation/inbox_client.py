"""The HTTP client for inbox POSTs: kept-alive HTTP/1.1 connections per server, SSRF-guarded.

A fan-out POSTs one small signed body to thousands of inboxes; aiohttp's general client spent
more time per request than the RSA signature did. This one writes the request head in one
piece, reads the answer with `federation.http1`, and keeps each server's idle connections for
the next inbox there. Addresses go through `federation.netguard` as for every other request:
the URL check, then a resolver that drops non-public answers (unless private addresses are
allowed), then connecting to what was checked.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Mapping

from yarl import URL

from federation.http1 import Answer, Connection, ProtocolError, StaleConnection
from federation.netguard import BlockedAddressError, GuardedResolver, check_url
from federation.tls_connection import TlsConnection

__all__ = ["Answer", "ConnectFailed", "InboxClient"]

BODY_LIMIT = 8 * 1024  # enough of an error page to explain a failure
IDLE_SECONDS = 30.0  # below the keep-alive timeout of common servers (nginx: 75 s)
DNS_SECONDS = 60.0
MAX_ADDRESSES = 8192  # servers whose addresses are remembered
MAX_IDLE = 2048  # idle connections kept over all servers
_FORBIDDEN = ("\r", "\n", "\0")

Origin = tuple[str, str, int]  # scheme, host, port


class ConnectFailed(OSError):
    """No connection could be made to any of the server's addresses."""


class InboxClient:
    """POSTs to inboxes over pooled connections; one per process, closed with `close()`."""

    def __init__(
        self,
        *,
        allow_private: bool,
        user_agent: str,
        host_map: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        per_host_idle: int = 8,
    ) -> None:
        self._allow_private = allow_private
        self._resolver = GuardedResolver(allow_private=allow_private, host_map=host_map)
        self._ssl = ssl_context
        self._user_agent = user_agent
        self._per_host_idle = per_host_idle
        # Servers by last use, the least recent first; each with its idle connections.
        self._idle: OrderedDict[Origin, list[tuple[Connection, float]]] = OrderedDict()
        self._idle_count = 0
        self._addresses: dict[tuple[str, int], tuple[float, list[tuple[int, str]]]] = {}
        self.connections_made = 0

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, time_limit: float
    ) -> Answer:
        """POST `body` with `headers` to `url`; the answer, or an OSError / TimeoutError /
        `federation.http1.ProtocolError`. BlockedAddressError when the guard refuses it."""
        parsed = check_url(url, allow_private=self._allow_private)
        origin: Origin = (parsed.scheme, parsed.raw_host or "", parsed.port or 0)
        request = self._request(parsed, body, headers)
        async with asyncio.timeout(time_limit):
            connection = self._take_idle(origin)
            if connection is not None:
                try:
                    return await self._exchange(origin, connection, request)
                except StaleConnection:
                    pass  # closed by the server while idle: the request never arrived
            connection = await self._connect(parsed)
            return await self._exchange(origin, connection, request)

    async def __aenter__(self) -> InboxClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every idle connection."""
        for connections in self._idle.values():
            for connection, _since in connections:
                connection.close()
        self._idle.clear()
        self._idle_count = 0
        await self._resolver.close()

    def _request(self, url: URL, body: bytes, headers: Mapping[str, str]) -> bytes:
        lines = [f"POST {url.raw_path_qs} HTTP/1.1"]
        if not any(name.lower() == "host" for name in headers):
            lines.append(f"Host: {url.host_port_subcomponent}")
        for name, value in headers.items():
            if any(bad in name or bad in value for bad in _FORBIDDEN):
                raise ValueError(f"header {name[:40]!r} holds a line break")
            lines.append(f"{name}: {value}")
        lines.append(f"User-Agent: {self._user_agent}")
        lines.append(f"Content-Length: {len(body)}")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1") + body

    async def _exchange(self, origin: Origin, connection: Connection, request: bytes) -> Answer:
        try:
            answer = await connection.exchange(request, BODY_LIMIT)
        except BaseException:
            connection.close()
            raise
        if connection.reusable:
            self._give_back(origin, connection)
        else:
            connection.close()
        return answer

    def _take_idle(self, origin: Origin) -> Connection | None:
        connections = self._idle.get(origin)
        now = time.monotonic()
        while connections:
            connection, since = connections.pop()
            self._idle_count -= 1
            if not connections:
                del self._idle[origin]
            if connection.alive and now - since < IDLE_SECONDS:
                return connection
            connection.close()
        return None

    def _give_back(self, origin: Origin, connection: Connection) -> None:
        connections = self._idle.get(origin)
        if connections is None:
            connections = self._idle[origin] = []
        self._idle.move_to_end(origin)
        if len(connections) >= self._per_host_idle:
            connection.close()
            return
        connections.append((connection, time.monotonic()))
        self._idle_count += 1
        while self._idle_count > MAX_IDLE:
            # The server used longest ago gives one up: a fan-out moves on from host to host,
            # and an idle TLS connection holds about a hundred kilobytes.
            oldest, idle = next(iter(self._idle.items()))
            idle.pop(0)[0].close()
            self._idle_count -= 1
            if not idle:
                del self._idle[oldest]

    async def _connect(self, url: URL) -> Connection:
        host, port = url.raw_host or "", url.port or 0
        secure = url.scheme == "https"
        loop = asyncio.get_running_loop()
        failures = []
        try:
            addresses = await self._resolve(host, port)
        except BlockedAddressError:
            raise
        except OSError as exc:
            raise ConnectFailed(f"cannot resolve {host}: {exc.strerror or exc}") from exc
        made = functools.partial(TlsConnection, self._tls_context(), host) if secure else Connection
        for family, address in addresses:
            try:
                _transport, connection = await loop.create_connection(
                    made, host=address, port=port, family=family
                )
            except OSError as exc:  # refused, unreachable
                failures.append(f"{address}: {exc.strerror or exc}")
                continue
            if isinstance(connection, TlsConnection):
                try:
                    await connection.handshake()
                except (OSError, ProtocolError) as exc:  # ssl.SSLError is an OSError
                    connection.close()
                    failures.append(f"{address}: TLS: {exc}")
                    continue
            self.connections_made += 1
            return connection
        raise ConnectFailed(f"cannot connect to {host}:{port} ({'; '.join(failures)})")

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def _resolve(self, host: str, port: int) -> list[tuple[int, str]]:
        now = time.monotonic()
        cached = self._addresses.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        answers = await self._resolver.resolve(host, port, family=socket.AF_UNSPEC)
        addresses = [(answer["family"], answer["host"]) for answer in answers]
        if not addresses:
            raise OSError(f"{host} did not resolve")
        if len(self._addresses) > MAX_ADDRESSES:
            self._addresses.clear()
        self._addresses[(host, port)] = (now + DNS_SECONDS, addresses)
        return addresses
