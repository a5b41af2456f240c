"""One signed POST to a real loopback inbox, and how each answer is classified."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from federation.content_digest import digest_sha256
from federation.delivery import (
    AS2_CONTENT_TYPE,
    Delivered,
    GiveUp,
    RetryLater,
    deliver,
    host_is_down,
)
from federation.inbox_client import InboxClient
from federation.keys import generate_rsa_keypair
from federation.signature_header import signature_from_headers
from federation.signatures import sign_request, verify_request

HOSTS = {"remote.test": "127.0.0.1"}
KEY_ID = "https://copnet.test/c/nursing#main-key"
BODY = '{"type":"Create","summary":"café"}'.encode()
DIGEST = digest_sha256(BODY)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AGENT = "copnet/test (+https://copnet.test/)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def keys():
    return generate_rsa_keypair()


class Inbox:
    """A remote inbox that answers with whatever a test sets and keeps what it received."""

    def __init__(self) -> None:
        self.respond = lambda: web.Response(status=202)
        self.requests: list[tuple[web.Request, bytes]] = []
        self.peers: set[tuple] = set()
        self.release = asyncio.Event()
        self.hang = False
        self.app = web.Application()
        self.app.router.add_post("/{tail:.*}", self._post)
        self.port = 0

    def url(self, path: str = "/users/alex/inbox") -> str:
        return f"http://remote.test:{self.port}{path}"

    async def _post(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append((request, body))
        self.peers.add(request.transport.get_extra_info("peername"))
        if self.hang:
            await self.release.wait()
        return self.respond()


@pytest.fixture
async def inbox(aiohttp_server):
    box = Inbox()
    server = await aiohttp_server(box.app)
    box.port = server.port
    yield box
    box.release.set()


@pytest.fixture
async def session():
    async with InboxClient(allow_private=True, host_map=HOSTS, user_agent=AGENT) as client:
        yield client


def signed(url: str, private_pem: str) -> dict[str, str]:
    return sign_request(
        "POST", url, {}, BODY, key_id=KEY_ID, private_key=private_pem, digest=DIGEST
    )


async def test_accepted_post_is_delivered_with_a_verifiable_signature(inbox, session, keys):
    url = inbox.url()
    result = await deliver(session, url, BODY, DIGEST, signed(url, keys[0]))
    assert result == Delivered(202)
    ((request, body),) = inbox.requests
    assert body == BODY
    assert request.headers["Content-Type"] == AS2_CONTENT_TYPE
    assert request.headers["Digest"] == DIGEST
    parsed = signature_from_headers(request.headers)
    assert parsed.key_id == KEY_ID
    verify_request("POST", request.path_qs, request.headers, parsed, keys[1], body=body)


async def test_connections_to_one_host_are_kept_alive(inbox, session, keys):
    for n in range(5):
        url = inbox.url(f"/users/u{n}/inbox")
        assert isinstance(
            await deliver(session, url, BODY, DIGEST, signed(url, keys[0])), Delivered
        )
    assert len(inbox.requests) == 5
    assert len(inbox.peers) == 1


@pytest.mark.parametrize("status", [200, 201, 204])
async def test_any_2xx_is_delivered(inbox, session, keys, status):
    inbox.respond = lambda: web.Response(status=status)
    url = inbox.url()
    assert await deliver(session, url, BODY, DIGEST, signed(url, keys[0])) == Delivered(status)


@pytest.mark.parametrize("status", [500, 502, 503, 401, 408])
async def test_transient_statuses_are_retried(inbox, session, keys, status):
    inbox.respond = lambda: web.Response(status=status, text="try later")
    url = inbox.url()
    result = await deliver(session, url, BODY, DIGEST, signed(url, keys[0]))
    assert isinstance(result, RetryLater)
    assert result.status == status
    assert result.delay is None
    assert f"HTTP {status}: try later" == result.reason
    assert host_is_down(result) == (status >= 500)


async def test_429_carries_the_retry_after_delay(inbox, session, keys):
    inbox.respond = lambda: web.Response(
        status=429, headers={"Retry-After": "Sun, 01 Mar 2026 12:30:00 GMT"}
    )
    url = inbox.url()
    result = await deliver(session, url, BODY, DIGEST, signed(url, keys[0]), now=NOW)
    assert result == RetryLater("HTTP 429", delay=timedelta(minutes=30), status=429)


@pytest.mark.parametrize("status", [400, 403, 404, 422, 302])
async def test_permanent_refusals_give_up(inbox, session, keys, status):
    inbox.respond = lambda: web.Response(
        status=status, headers={"Location": "http://remote.test/x"}
    )
    url = inbox.url()
    result = await deliver(session, url, BODY, DIGEST, signed(url, keys[0]))
    assert result == GiveUp(f"HTTP {status}", gone=False, status=status)
    assert len(inbox.requests) == 1  # a redirect is not followed


async def test_410_means_gone(inbox, session, keys):
    inbox.respond = lambda: web.Response(status=410, text="Gone")
    url = inbox.url()
    result = await deliver(session, url, BODY, DIGEST, signed(url, keys[0]))
    assert result == GiveUp("HTTP 410: Gone", gone=True, status=410)


async def test_only_a_small_part_of_an_error_page_is_kept(inbox, session, keys):
    inbox.respond = lambda: web.Response(status=500, text="x" * 1_000_000)
    url = inbox.url()
    result = await deliver(session, url, BODY, DIGEST, signed(url, keys[0]))
    assert isinstance(result, RetryLater)
    assert len(result.reason) < 300


async def test_a_hanging_inbox_times_out_and_is_retried(inbox, session, keys):
    inbox.hang = True
    url = inbox.url()
    result = await deliver(session, url, BODY, DIGEST, signed(url, keys[0]), time_limit=0.2)
    assert isinstance(result, RetryLater)
    assert result.reason.startswith("timed out")
    assert host_is_down(result)


async def test_refused_connection_is_retried(session, keys):
    url = f"http://remote.test:{free_port()}/inbox"
    result = await deliver(session, url, BODY, DIGEST, signed(url, keys[0]))
    assert isinstance(result, RetryLater)
    assert result.reason.startswith("cannot connect")
    assert result.status is None
    assert host_is_down(result)


async def test_private_address_is_given_up_by_the_guard(inbox, keys):
    async with InboxClient(allow_private=False, host_map=HOSTS, user_agent=AGENT) as guarded:
        url = inbox.url()
        result = await deliver(guarded, url, BODY, DIGEST, signed(url, keys[0]))
    assert isinstance(result, GiveUp)
    assert "not public" in result.reason
    assert not result.gone
    assert inbox.requests == []


async def test_non_http_inbox_is_given_up(session, keys):
    result = await deliver(session, "ftp://remote.test/inbox", BODY, DIGEST, {})
    assert isinstance(result, GiveUp)
