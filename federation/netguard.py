"""SSRF guard for outgoing requests: URL checks plus a connector that refuses private addresses."""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import ssl
from collections.abc import Mapping

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ALLOWED_SCHEMES = frozenset({"http", "https"})

# Blocks that ipaddress.is_global still reports as global on some Python versions, or that
# are documentation/benchmark ranges nobody federates from.
_EXTRA_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
    )
)
_EXTRA_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # deprecated IPv4-compatible addresses
        "100::/64",
        "2001:db8::/32",
        "fc00::/7",
        "fec0::/10",
    )
)
# NAT64 prefixes embed an IPv4 address in the low 32 bits; judge that address instead.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))

# A DNS name never ends in an all-numeric label; such hosts are legacy IPv4 spellings
# (127.1, 2130706433, 0x7f.1) that getaddrinfo would quietly turn into an address.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


class BlockedAddressError(OSError):
    """An outgoing request was refused by the SSRF guard."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def _parse_ip(ip: str | IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return ip
    return ipaddress.ip_address(ip.strip("[]"))


def is_public_address(ip: str | IPAddress) -> bool:
    """Return True only for globally routable unicast addresses."""
    try:
        addr = _parse_ip(ip)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return is_public_address(addr.ipv4_mapped)
        if addr.sixtofour is not None:
            return is_public_address(addr.sixtofour)
        if addr.teredo is not None:
            return False
        if any(addr in net for net in _NAT64):
            return is_public_address(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        if addr.is_site_local or any(addr in net for net in _EXTRA_BLOCKED_V6):
            return False
    elif any(addr in net for net in _EXTRA_BLOCKED_V4):
        return False
    if (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
    ):
        return False
    return addr.is_global


def _host_ip(host: str) -> IPAddress | None:
    try:
        return _parse_ip(host)
    except ValueError:
        return None


def check_url(url: str | URL, *, allow_private: bool) -> URL:
    """Parse and vet an outgoing URL; raise BlockedAddressError if it must not be fetched."""
    try:
        parsed = url if isinstance(url, URL) else URL(url)
    except (TypeError, ValueError) as exc:
        raise BlockedAddressError("invalid URL") from exc
    scheme = (parsed.scheme or "").lower()
    if scheme not in _ALLOWED_SCHEMES:
        raise BlockedAddressError(f"scheme {scheme or '(none)'!r} is not allowed")
    if not parsed.host:
        raise BlockedAddressError("URL has no host")
    if parsed.user is not None or parsed.password is not None:
        raise BlockedAddressError("URL must not contain credentials")
    refusal = _host_refusal(parsed.host.rstrip("."), allow_private)
    if refusal is not None:
        raise BlockedAddressError(refusal)
    return parsed


@functools.lru_cache(maxsize=8192)
def _host_refusal(host: str, allow_private: bool) -> str | None:
    # Cached: a fan-out checks the same few thousand hosts over and over.
    ip = _host_ip(host)
    if ip is None:
        last_label = host.rsplit(".", 1)[-1]
        if _NUMERIC_LABEL.fullmatch(last_label):
            return f"host {host} is not a canonical IP address or name"
    elif not allow_private and not is_public_address(ip):
        return f"address {ip} is not public"
    return None


def _result(hostname: str, ip: IPAddress, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return ResolveResult(
        hostname=hostname,
        host=str(ip),
        port=port,
        family=family,
        proto=0,
        flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
    )


class GuardedResolver(AbstractResolver):
    """Resolver that drops non-public answers, so the check happens at connect time."""

    def __init__(
        self,
        inner: AbstractResolver | None = None,
        *,
        allow_private: bool,
        host_map: Mapping[str, str] | None = None,
    ) -> None:
        self._inner = inner
        self._owns_inner = inner is None
        self._allow_private = allow_private
        self._host_map = {
            name.lower().rstrip("."): _parse_ip(ip) for name, ip in (host_map or {}).items()
        }

    @property
    def allow_private(self) -> bool:
        """Whether private addresses are let through."""
        return self._allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve host and keep only the answers the guard allows."""
        mapped = self._host_map.get(host.lower().rstrip("."))
        if mapped is not None:
            answers = [_result(host, mapped, port)]
        else:
            if self._inner is None:
                # Created lazily: ThreadedResolver binds to the running loop.
                self._inner = ThreadedResolver()
            answers = await self._inner.resolve(host, port, family)
        if self._allow_private:
            if not answers:
                raise OSError(f"{host} did not resolve")
            return answers
        kept = [a for a in answers if is_public_address(a["host"])]
        if kept:
            return kept
        if answers:
            raise BlockedAddressError(f"address {answers[0]['host']} is not public")
        raise OSError(f"{host} did not resolve")

    async def close(self) -> None:
        """Close the wrapped resolver if this object created it."""
        if self._owns_inner and self._inner is not None:
            await self._inner.close()


def _guarded_socket(addr_info: tuple) -> socket.socket:
    family, type_, proto, _, sockaddr = addr_info
    # Last line of defence: IP-literal hosts skip the resolver inside aiohttp.
    if not is_public_address(sockaddr[0]):
        raise BlockedAddressError(f"address {sockaddr[0]} is not public")
    return socket.socket(family=family, type=type_, proto=proto)


class GuardedConnector(aiohttp.TCPConnector):
    """TCPConnector whose resolver and sockets enforce the SSRF guard."""

    def __init__(
        self,
        *,
        allow_private: bool,
        host_map: Mapping[str, str] | None = None,
        limit_per_host: int = 8,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(
            resolver=GuardedResolver(allow_private=allow_private, host_map=host_map),
            limit_per_host=limit_per_host,
            ssl=ssl_context if ssl_context is not None else True,
            socket_factory=None if allow_private else _guarded_socket,
        )
        self.allow_private = allow_private


def make_connector(
    *,
    allow_private: bool,
    host_map: Mapping[str, str] | None = None,
    limit_per_host: int = 8,
    ssl_context: ssl.SSLContext | None = None,
) -> aiohttp.TCPConnector:
    """Build a connector that refuses non-public addresses unless allow_private;
    `ssl_context` replaces the system's trusted certificates (benchmarks with a throwaway one)."""
    return GuardedConnector(
        allow_private=allow_private,
        host_map=host_map,
        limit_per_host=limit_per_host,
        ssl_context=ssl_context,
    )
