"""Which server a URL belongs to: the one rule copnet uses to decide "the same server".

A server is its authority: the host, lowercased, in its ASCII (punycode) form without a
trailing dot, plus the port when it is not the scheme's default. `https://Example.org./a` and
`https://example.org:443/b` are one server; `https://example.org:8443/` is another, and so is
`http://127.0.0.1:8081/` beside `http://127.0.0.1:8080/`. The scheme is not part of it:
Mastodon and the others compare hosts, and a server's http and https URLs are one server.
"""

from __future__ import annotations

import re

from yarl import URL

__all__ = ["authority", "domain_of", "same_origin"]

# What a DNS name or IPv4 address may hold once lowercased and in punycode; IPv6 literals aside.
_HOST = re.compile(r"[a-z0-9_.-]+|[0-9a-f:.]+:[0-9a-f:.]*")


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
    parsed = _parse(url)
    if parsed is None or parsed.raw_host is None:
        return None
    host = parsed.raw_host.lower().rstrip(".")
    return host if _HOST.fullmatch(host) else None


def authority(url: object) -> str | None:
    """`host` or `host:port` (port only when not the default) of an http(s) URL, else None."""
    parsed = _parse(url)
    host = domain_of(url)
    if parsed is None or host is None:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if parsed.explicit_port is None or parsed.is_default_port():
        return host
    return f"{host}:{parsed.port}"


def same_origin(a: object, b: object) -> bool:
    """True when both are http(s) URLs of the same server."""
    first = authority(a)
    return first is not None and first == authority(b)
