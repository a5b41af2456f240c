"""The inbox client against raw loopback servers that answer in every way HTTP/1.1 allows.

tests/federation/test_delivery.py covers the statuses through a real aiohttp server; these
tests write the answers byte by byte (chunked, no length, Connection: close, 100 Continue, a
server closing a kept-alive connection, garbage) and a real TLS server.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable

import pytest

from federation import inbox_client
from federation.content_digest import digest_sha256
from federation.delivery import Delivered, GiveUp, RetryLater, deliver
from federation.inbox_client import BODY_LIMIT, InboxClient
from tests.support.smtp import make_certificate

AGENT = "copnet/test (+https://copnet.test/)"
BODY = b'{"type":"Create"}'
DIGEST = digest_sha256(BODY)
HOSTS = {"remote.test": "127.0.0.1"}

# request number on its connection -> raw answer, or None to close the connection unanswered
Answerer = Callable[[int], bytes | None]


class RawServer:
    """Reads each request (head and Content-Length body) and writes `answer(n)` back."""

    def __init__(self, answer: Answerer, *, close_after: int | None = None) -> None:
        self.answer = answer
        self.close_after = close_after  # close each connection after this many answers
        self.requests: list[tuple[bytes, bytes]] = []
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self, tls: ssl.SSLContext | None = None) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    def url(self, scheme: str = "http", host: str = "remote.test") -> str:
        return f"{scheme}://{host}:{self.port}/users/alex/inbox"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.requests.append((head, await reader.readexactly(length)))
                answer = self.answer(answered)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                answered += 1
                if self.close_after is not None and answered >= self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def raw():
    servers: list[RawServer] = []

    async def start(answer: Answerer, tls: ssl.SSLContext | None = None, **options) -> RawServer:
        server = await RawServer(answer, **options).start(tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def client():
    async with InboxClient(allow_private=True, host_map=HOSTS, user_agent=AGENT) as inboxes:
        yield inboxes


async def post(client: InboxClient, url: str, headers: dict[str, str] | None = None):
    return await deliver(client, url, BODY, DIGEST, headers or {}, time_limit=5)


def fixed(raw_answer: bytes) -> Answerer:
    return lambda _n: raw_answer


async def test_the_request_carries_host_agent_length_and_the_signed_headers(raw, client):
    server = await raw(fixed(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"))
    signed = {"Host": f"remote.test:{server.port}", "Signature": 'keyId="k"'}
    assert await post(client, server.url(), signed) == Delivered(202)
    ((head, body),) = server.requests
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /users/alex/inbox HTTP/1.1"
    assert f"Host: remote.test:{server.port}" in lines
    assert f"User-Agent: {AGENT}" in lines
    assert f"Digest: {DIGEST}" in lines
    assert "Content-Type: application/activity+json" in lines
    assert 'Signature: keyId="k"' in lines
    assert sum(line.lower().startswith("host:") for line in lines) == 1
    assert body == BODY


async def test_a_chunked_answer_is_read_and_the_connection_kept(raw, client):
    chunked = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nok!!\r\n0\r\n\r\n"
    server = await raw(fixed(chunked))
    for _ in range(3):
        assert await post(client, server.url()) == Delivered(202)
    assert (len(server.requests), server.connections, client.connections_made) == (3, 1, 1)


async def test_a_chunked_error_page_becomes_the_reason(raw, client):
    head = b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n"
    page = head + b"5\r\nslow \r\n4\r\ndown\r\n0\r\n\r\n"
    server = await raw(fixed(page))
    result = await post(client, server.url())
    assert result == RetryLater("HTTP 503: slow down", status=503)


async def test_connection_close_is_obeyed(raw, client):
    server = await raw(
        fixed(b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
        close_after=1,
    )
    for _ in range(2):
        assert await post(client, server.url()) == Delivered(202)
    assert server.connections == 2


async def test_an_answer_without_length_is_read_to_the_end_of_the_connection(raw, client):
    server = await raw(fixed(b"HTTP/1.1 400 Bad Request\r\n\r\nno such actor"), close_after=1)
    result = await post(client, server.url())
    assert result == GiveUp("HTTP 400: no such actor", status=400)
    assert await post(client, server.url()) == GiveUp("HTTP 400: no such actor", status=400)
    assert server.connections == 2


async def test_a_huge_body_is_cut_and_its_connection_not_reused(raw, client):
    huge = b"x" * (BODY_LIMIT * 4)
    page = b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n" % len(huge) + huge
    server = await raw(fixed(page))
    first = await post(client, server.url())
    assert isinstance(first, RetryLater) and len(first.reason) < 300
    await post(client, server.url())
    assert server.connections == 2


async def test_idle_connections_are_bounded_the_least_recent_server_first(raw, client, monkeypatch):
    monkeypatch.setattr(inbox_client, "MAX_IDLE", 2)
    ok = fixed(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
    first, second, third = [await raw(ok) for _ in range(3)]
    for server in (first, second, third):
        assert await post(client, server.url()) == Delivered(202)
    assert await post(client, third.url()) == Delivered(202)  # still kept alive
    assert await post(client, first.url()) == Delivered(202)  # its connection was given up
    assert (first.connections, second.connections, third.connections) == (2, 1, 1)


async def test_an_interim_100_continue_is_skipped(raw, client):
    server = await raw(
        fixed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    )
    assert await post(client, server.url()) == Delivered(201)


async def test_a_kept_alive_connection_the_server_closed_is_replaced(raw, client):
    server = await raw(fixed(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"), close_after=1)
    assert await post(client, server.url()) == Delivered(202)
    await asyncio.sleep(0.05)  # the server has closed it; the client still holds it idle
    assert await post(client, server.url()) == Delivered(202)
    assert len(server.requests) == 2  # each POST arrived once


async def test_a_connection_closed_unanswered_after_keep_alive_is_tried_once_more(raw, client):
    ok = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
    server = await raw(lambda n: ok if n == 0 else None)
    assert await post(client, server.url()) == Delivered(202)
    assert await post(client, server.url()) == Delivered(202)
    assert server.connections == 2


async def test_a_fresh_connection_closed_unanswered_is_retried_later(raw, client):
    server = await raw(lambda _n: None)
    result = await post(client, server.url())
    assert isinstance(result, RetryLater) and "closed before the answer" in result.reason
    assert server.connections == 1


async def test_garbage_is_a_protocol_error_to_retry(raw, client):
    server = await raw(fixed(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"))
    result = await post(client, server.url())
    assert isinstance(result, RetryLater)
    assert "ProtocolError" in result.reason and result.status is None


async def test_headers_with_line_breaks_never_reach_the_wire(raw, client):
    server = await raw(fixed(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"))
    result = await post(client, server.url(), {"Signature": "x\r\nX-Evil: 1"})
    assert isinstance(result, GiveUp) and "line break" in result.reason
    assert server.requests == []


async def test_https_with_a_trusted_certificate_and_refused_without(raw, tmp_path):
    certificate, key = make_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate, key)
    server = await raw(fixed(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"), tls=tls)
    url = server.url("https", "localhost")
    trusted = ssl.create_default_context(cafile=str(certificate))
    async with InboxClient(allow_private=True, user_agent=AGENT, ssl_context=trusted) as inboxes:
        assert await post(inboxes, url) == Delivered(202)
        assert await post(inboxes, url) == Delivered(202)
        assert inboxes.connections_made == 1
    async with InboxClient(allow_private=True, user_agent=AGENT) as untrusting:
        refused = await post(untrusting, url)
    assert isinstance(refused, RetryLater) and refused.reason.startswith("cannot connect")
    assert len(server.requests) == 2


async def test_a_tls_connection_the_server_closed_is_replaced(raw, tmp_path):
    certificate, key = make_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate, key)
    ok = fixed(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
    server = await raw(ok, tls=tls, close_after=1)
    trusted = ssl.create_default_context(cafile=str(certificate))
    async with InboxClient(allow_private=True, user_agent=AGENT, ssl_context=trusted) as inboxes:
        for _ in range(3):
            assert await post(inboxes, server.url("https", "localhost")) == Delivered(202)
            await asyncio.sleep(0.05)  # the server's close reaches the idle connection
    assert (len(server.requests), server.connections) == (3, 3)


async def test_a_server_that_never_answers_times_out(raw, client):
    started = asyncio.Event()

    def silent(_n: int) -> bytes:
        started.set()
        return b""

    server = await raw(silent)
    result = await deliver(client, server.url(), BODY, DIGEST, {}, time_limit=0.3)
    assert isinstance(result, RetryLater) and result.reason.startswith("timed out")
    assert started.is_set()
