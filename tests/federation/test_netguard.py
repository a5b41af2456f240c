"""SSRF guard: URL checks, address classification, and refusal at connect time."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from federation.netguard import (
    BlockedAddressError,
    GuardedResolver,
    check_url,
    is_public_address,
    make_connector,
)

PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e"]
NOT_PUBLIC = [
    "127.0.0.1",
    "127.255.0.9",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::7f00:1",
    "2002:7f00:1::1",
    "2001::1",
    "2001:db8::1",
    "not an address",
]


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses_are_public(ip):
    assert is_public_address(ip)


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_non_public_addresses_are_not_public(ip):
    assert not is_public_address(ip)


def test_nat64_and_6to4_of_public_ipv4_are_public():
    assert is_public_address("64:ff9b::808:808")
    assert is_public_address("2002:808:808::1")


def test_check_url_accepts_public_https_url():
    url = check_url("https://example.com/users/alice", allow_private=False)
    assert url.host == "example.com"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)"],
)
def test_check_url_refuses_non_http_scheme(url):
    with pytest.raises(BlockedAddressError, match="is not allowed"):
        check_url(url, allow_private=True)


def test_check_url_refuses_url_without_host():
    with pytest.raises(BlockedAddressError, match="no host"):
        check_url("http:///path", allow_private=True)


def test_check_url_refuses_userinfo():
    with pytest.raises(BlockedAddressError, match="credentials"):
        check_url("https://user:pw@example.com/", allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://10.0.0.5/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://[fd00::1]/x",
        "http://[fe80::1]/x",
        "http://[::ffff:127.0.0.1]/x",
    ],
)
def test_check_url_refuses_private_ip_literal(url):
    with pytest.raises(BlockedAddressError, match=r"^address .+ is not public$"):
        check_url(url, allow_private=False)


def test_check_url_names_the_refused_address():
    with pytest.raises(BlockedAddressError) as info:
        check_url("http://127.0.0.1/", allow_private=False)
    assert info.value.reason == "address 127.0.0.1 is not public"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://[::1]/x", "http://[fd00::1]/"])
def test_check_url_allows_private_ip_literal_when_allowed(url):
    assert check_url(url, allow_private=True).host


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001", "0177.0.0.1"])
def test_check_url_refuses_legacy_numeric_hosts(host):
    with pytest.raises(BlockedAddressError):
        check_url(f"http://{host}/", allow_private=True)


class _FixedResolver(AbstractResolver):
    """A DNS stand-in whose answers change per call, like a rebinding attacker's server."""

    def __init__(self, *answers: list[str]) -> None:
        self._answers = list(answers)

    async def resolve(self, host, port=0, family=socket.AF_INET):
        ips = self._answers.pop(0)
        return [
            ResolveResult(
                hostname=host,
                host=ip,
                port=port,
                family=socket.AF_INET6 if ":" in ip else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for ip in ips
        ]

    async def close(self):
        pass


async def test_resolver_refuses_hostname_mapped_to_loopback():
    resolver = GuardedResolver(allow_private=False, host_map={"evil.test": "127.0.0.1"})
    with pytest.raises(BlockedAddressError, match=r"address 127\.0\.0\.1 is not public"):
        await resolver.resolve("evil.test", 80)


async def test_resolver_refuses_hostname_mapped_to_ula():
    resolver = GuardedResolver(allow_private=False, host_map={"evil.test": "fd00::1"})
    with pytest.raises(BlockedAddressError, match="address fd00::1 is not public"):
        await resolver.resolve("evil.test", 80)


async def test_resolver_allows_mapped_loopback_when_private_allowed():
    resolver = GuardedResolver(allow_private=True, host_map={"Peer.Test": "127.0.0.2"})
    [answer] = await resolver.resolve("peer.test", 443)
    assert (answer["host"], answer["port"], answer["family"]) == ("127.0.0.2", 443, socket.AF_INET)


async def test_resolver_keeps_public_mapped_address():
    resolver = GuardedResolver(allow_private=False, host_map={"pub.test": "93.184.216.34"})
    [answer] = await resolver.resolve("pub.test", 443)
    assert answer["host"] == "93.184.216.34"


async def test_resolver_drops_private_answers_and_keeps_public_ones():
    inner = _FixedResolver(["127.0.0.1", "93.184.216.34", "10.0.0.1"])
    resolver = GuardedResolver(inner, allow_private=False)
    answers = await resolver.resolve("mixed.test", 80)
    assert [a["host"] for a in answers] == ["93.184.216.34"]


async def test_resolver_blocks_dns_rebinding_on_second_lookup():
    inner = _FixedResolver(["93.184.216.34"], ["127.0.0.1"])
    resolver = GuardedResolver(inner, allow_private=False)
    assert (await resolver.resolve("rebind.test", 80))[0]["host"] == "93.184.216.34"
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1"):
        await resolver.resolve("rebind.test", 80)


@pytest.fixture
async def loopback_server(aiohttp_server):
    hits = []

    async def handler(request):
        hits.append(request.path)
        return web.Response(text="secret")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await aiohttp_server(app)
    return server.port, hits


async def test_connector_refuses_hostname_resolving_to_loopback(loopback_server):
    port, hits = loopback_server
    connector = make_connector(allow_private=False, host_map={"evil.test": "127.0.0.1"})
    async with aiohttp.ClientSession(connector=connector) as session:
        with pytest.raises(aiohttp.ClientConnectorError) as info:
            await session.get(f"http://evil.test:{port}/secret")
    assert isinstance(info.value.os_error, BlockedAddressError)
    assert info.value.os_error.reason == "address 127.0.0.1 is not public"
    assert hits == []


async def test_connector_refuses_loopback_ip_literal_at_connect_time(loopback_server):
    port, hits = loopback_server
    async with aiohttp.ClientSession(connector=make_connector(allow_private=False)) as session:
        with pytest.raises(aiohttp.ClientConnectorError) as info:
            await session.get(f"http://127.0.0.1:{port}/secret")
    assert isinstance(info.value.os_error, BlockedAddressError)
    assert hits == []


async def test_connector_reaches_loopback_when_private_allowed(loopback_server):
    port, hits = loopback_server
    connector = make_connector(allow_private=True, host_map={"peer.test": "127.0.0.1"})
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(f"http://peer.test:{port}/hello") as resp:
            assert resp.status == 200
            assert await resp.text() == "secret"
    assert hits == ["/hello"]
