"""Which server a URL belongs to: the one rule copnet uses to decide "the same server".

A server is its authority: the host, lowercased, in its ASCII (punycode) form without a
trailing dot, plus the port when it is not the scheme's default. `https://Example.org./a` and
`https://example.org:443/b` are one server; `https://example.org:8443/` is another, and so is
`http://127.0.0.1:8081/` beside `http://127.0.0.1:8080/`. The scheme is not part of it:
Mastodon and the others compare hosts, and a server's http and https URLs are one server.
"""

from __future__ import annotations

import functools
import re

from yarl import URL

__all__ = ["authority", "domain_of", "same_origin"]

# What a DNS name or IPv4 address may hold once lowercased and in punycode; IPv6 literals aside.
_HOST = re.compile(r"[a-z0-9_.-]+|[0-9a-f:.]+:[0-9a-f:.]*")

# Most URLs that reach us (each new activity's and object's id) have this form, which needs no
# URL parser: plain ASCII, a DNS name or IPv4 address, a port without leading zeros, then
# printable ASCII. Anything else (userinfo, escapes, IDN, IPv6, odd schemes) goes through yarl;
# tests/federation/test_origin.py checks that both give the same answer.
_PLAIN = re.compile(
    r"(https?)://([a-zA-Z0-9][a-zA-Z0-9.-]*)(?::([1-9][0-9]{0,4}))?(?:[/?#][!-~]*)?"
    r"\Z"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _parse(url: object) -> URL | None:
    if not isinstance(url, str) or not url:
        return None
    try:
        parsed = URL(url)
    except (TypeError, ValueError, UnicodeError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        return None
    return parsed


def domain_of(url: object) -> str | None:
    """The host of an absolute http(s) URL (lowercase, punycode, no trailing dot), else None."""
    return _looked_up(url)[0] if isinstance(url, str) else None


def authority(url: object) -> str | None:
    """`host` or `host:port` (port only when not the default) of an http(s) URL, else None."""
    return _looked_up(url)[1] if isinstance(url, str) else None


# URLs longer than this are answered without the cache: a sender's megabyte-long "URLs" must
# not stay in memory (the cache holds 8,192 of them). Stored URLs are at most 2,048 long.
_CACHED_LENGTH = 4096


def _looked_up(url: str) -> tuple[str | None, str | None]:
    if len(url) > _CACHED_LENGTH:
        return _server_of.__wrapped__(url)
    return _server_of(url)


# Cached: an inbox request asks about the same actor, key and object URLs several times over.
@functools.lru_cache(maxsize=8192)
def _server_of(url: str) -> tuple[str | None, str | None]:
    plain = _PLAIN.match(url)
    if plain is None:
        return _parsed_server_of(url)
    scheme, host, port = plain.groups()
    host = host.lower().rstrip(".")
    number = _DEFAULT_PORTS[scheme] if port is None else int(port)
    if number > 65535:
        return None, None
    if number == _DEFAULT_PORTS[scheme]:
        return host, host
    return host, f"{host}:{port}"


def _parsed_server_of(url: str) -> tuple[str | None, str | None]:
    parsed = _parse(url)
    if parsed is None or parsed.raw_host is None:
        return None, None
    host = parsed.raw_host.lower().rstrip(".")
    if not _HOST.fullmatch(host):
        return None, None
    bracketed = f"[{host}]" if ":" in host else host  # IPv6 literal
    if parsed.explicit_port is None or parsed.is_default_port():
        return host, bracketed
    return host, f"{bracketed}:{parsed.port}"


def same_origin(a: object, b: object) -> bool:
    """True when both are http(s) URLs of the same server."""
    first = authority(a)
    return first is not None and first == authority(b)
