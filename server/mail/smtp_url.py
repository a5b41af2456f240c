"""COPNET_SMTP_URL: where mail goes and how the connection is protected.

- `smtps://user:pass@host:465`: TLS from the first byte (implicit TLS, RFC 8314);
- `smtp://user:pass@host:587`: STARTTLS, required: a server that does not offer it is refused,
  so a password never crosses the network in the clear;
- `smtp://host:25?starttls=off`: no TLS at all, only for a relay on the same machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpTarget:
    """The parts of COPNET_SMTP_URL."""

    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    """The parsed URL, or ValueError saying what is wrong with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"{_shown(url)!r} must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError(f"{_shown(url)!r} names no host")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError(f"{_shown(url)!r} has a port that is not a number") from None
    query = parse_qs(parts.query)
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ValueError(f"unknown option {sorted(unknown)[0]!r} (only starttls=off is known)")
    starttls_word = query.get("starttls", ["on"])[-1].lower()
    if starttls_word not in ("on", "off"):
        raise ValueError("starttls must be on or off")
    implicit = parts.scheme == "smtps"
    if implicit and starttls_word == "off":
        raise ValueError("smtps:// is TLS from the start; starttls=off means nothing there")
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
        starttls=not implicit and starttls_word == "on",
    )


def _shown(url: str) -> str:
    """The URL without its password, for error messages and logs."""
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url.strip()
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
