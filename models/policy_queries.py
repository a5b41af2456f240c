"""Reading and changing the federation policy: the mode and the per-domain entries."""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from federation.origin import domain_of
from models.policy import DomainPolicy, SiteSetting

log = logging.getLogger(__name__)

MODE_KEY = "federation.mode"
MODES = ("open", "blocklist", "allowlist")
DEFAULT_MODE = "open"
ACTIONS = ("allow", "block")
# After IDNA encoding every label is ASCII; `_` is not valid DNS but real hosts use it.
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")


class InvalidDomain(ValueError):
    """A domain argument that is not a bare hostname."""


@dataclass(frozen=True)
class DomainEntry:
    """One admin decision about a domain, as listed to the admin."""

    domain: str
    action: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class PolicySnapshot:
    """The whole policy at one moment: plain values, safe to share between requests."""

    mode: str = DEFAULT_MODE
    allowed: frozenset[str] = frozenset()
    blocked: Mapping[str, str] = field(default_factory=dict)  # domain -> reason


def normalize_domain(value: str) -> str:
    """The canonical form of a hostname: lowercase, IDNA (punycode), no port, no trailing dot."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidDomain("the domain must not be empty")
    if "://" in text:
        host = _host_of_url(text)
        hint = f"; did you mean {host}?" if host else ""
        raise InvalidDomain(f"{text!r} is a URL: give the bare domain{hint}")
    if any(c in text for c in "/?#@\\") or any(c.isspace() for c in text):
        raise InvalidDomain(f"{text!r} is not a domain (no paths, users or spaces)")
    try:
        host = URL.build(scheme="http", authority=text).raw_host or ""
    except (TypeError, ValueError, UnicodeError):
        raise InvalidDomain(f"{text!r} is not a valid domain") from None
    host = host.lower().rstrip(".")
    if _is_ip(host):
        return host
    labels = host.split(".")
    if not host or len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidDomain(f"{text!r} is not a valid domain")
    return host


def host_of(url: str) -> str:
    """The normalised host of an absolute URL; InvalidDomain if it has none."""
    host = _host_of_url(url)
    if not host:
        raise InvalidDomain(f"{url!r} has no host")
    return host


def _host_of_url(url: str) -> str:
    host = domain_of(url)
    return _normalised_host(host) if host else ""


@functools.lru_cache(maxsize=4096)
def _normalised_host(host: str) -> str:
    # Cached: every inbox request checks the same few hosts against the policy.
    if _is_ip(host):
        return host
    try:
        return normalize_domain(host)
    except InvalidDomain:
        return ""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def get_mode(session: AsyncSession) -> str:
    """The federation mode; `open` until an admin sets one."""
    value = await session.scalar(select(SiteSetting.value).where(SiteSetting.key == MODE_KEY))
    if value is None:
        return DEFAULT_MODE
    if value not in MODES:
        # Only set_mode writes this key; if something else did, federate with nobody unknown.
        log.warning("unknown federation mode %r in site_settings; using allowlist", value)
        return "allowlist"
    return value


async def set_mode(session: AsyncSession, mode: str) -> None:
    """Change the federation mode (the caller commits)."""
    if mode not in MODES:
        raise ValueError(f"unknown federation mode {mode!r}; use one of {', '.join(MODES)}")
    setting = await session.get(SiteSetting, MODE_KEY)
    if setting is None:
        session.add(SiteSetting(key=MODE_KEY, value=mode))
    else:
        setting.value = mode
    await session.flush()


async def set_domain(
    session: AsyncSession, domain: str, action: str, reason: str = ""
) -> DomainEntry:
    """Allow or block a domain, replacing any earlier entry for it (the caller commits)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; use allow or block")
    name = normalize_domain(domain)
    entry = await session.get(DomainPolicy, name)
    if entry is None:
        entry = DomainPolicy(domain=name, action=action, reason=reason.strip())
        session.add(entry)
    else:
        entry.action = action
        entry.reason = reason.strip()
    await session.flush()
    return _entry(entry)


async def remove_domain(session: AsyncSession, domain: str) -> bool:
    """Delete the entry for a domain; False if there was none (the caller commits)."""
    name = normalize_domain(domain)
    result = await session.execute(delete(DomainPolicy).where(DomainPolicy.domain == name))
    return bool(result.rowcount)


async def list_domains(session: AsyncSession) -> list[DomainEntry]:
    """Every domain entry, alphabetically."""
    rows = await session.scalars(select(DomainPolicy).order_by(DomainPolicy.domain))
    return [_entry(row) for row in rows]


async def load_policy(session: AsyncSession) -> PolicySnapshot:
    """The mode and every entry, as one immutable snapshot."""
    mode = await get_mode(session)
    rows = (
        await session.execute(select(DomainPolicy.domain, DomainPolicy.action, DomainPolicy.reason))
    ).all()
    allowed = frozenset(domain for domain, action, _ in rows if action == "allow")
    blocked = {domain: reason for domain, action, reason in rows if action == "block"}
    return PolicySnapshot(mode=mode, allowed=allowed, blocked=MappingProxyType(blocked))


def _entry(row: DomainPolicy) -> DomainEntry:
    return DomainEntry(
        domain=row.domain, action=row.action, reason=row.reason or "", created_at=row.created_at
    )
