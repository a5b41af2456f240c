"""Which remote domains this Network federates with, checked from a cached snapshot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.origin import authority
from models.policy_queries import (
    InvalidDomain,
    PolicySnapshot,
    host_of,
    load_policy,
    normalize_domain,
)


class DomainBlocked(Exception):
    """A remote domain this Network does not federate with."""

    def __init__(self, domain: str, reason: str = "") -> None:
        super().__init__(f"{domain} is blocked by this Network's federation policy")
        self.domain = domain
        self.reason = reason


def _covering(host: str) -> Iterable[str]:
    """The host itself and every parent domain: a.b.c -> a.b.c, b.c, c."""
    labels = host.split(".")
    return (".".join(labels[i:]) for i in range(len(labels)))


def block_reason(snapshot: PolicySnapshot, host: str) -> str | None:
    """The reason of the most specific block entry covering a normalised host, or None."""
    for domain in _covering(host):
        if domain in snapshot.blocked:
            return snapshot.blocked[domain]
    return None


def is_allowed(snapshot: PolicySnapshot, host: str, *, is_local: bool = False) -> bool:
    """Whether a normalised host may federate: this server always, a block beats an allow.

    `is_local` is decided by federation.origin (host AND port): a partner on this host name
    but another port is another server and meets the policy like any other.
    """
    if is_local:
        return True
    if block_reason(snapshot, host) is not None:
        return False
    if snapshot.mode != "allowlist":
        return True
    return any(domain in snapshot.allowed for domain in _covering(host))


class FederationPolicy:
    """Checks domains against the policy, reloading it from the database at most every ttl s."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        local_domain: str,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._local = authority(f"http://{local_domain}/")
        self._ttl = ttl
        self._clock = clock
        self._snapshot: PolicySnapshot | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget the snapshot so the next check reads the database."""
        self._snapshot = None

    async def snapshot(self) -> PolicySnapshot:
        """The current policy, from memory unless older than ttl."""
        snapshot = self._snapshot
        if snapshot is not None and self._clock() - self._loaded_at < self._ttl:
            return snapshot
        async with self._lock:
            # Another coroutine may have reloaded while this one waited for the lock.
            if self._snapshot is not None and self._clock() - self._loaded_at < self._ttl:
                return self._snapshot
            async with self._sessions() as session:
                fresh = await load_policy(session)
            self._snapshot, self._loaded_at = fresh, self._clock()
            return fresh

    async def check_domain(self, domain_or_host: str) -> None:
        """Raise DomainBlocked unless this Network federates with the domain (`host[:port]`)."""
        try:
            host = normalize_domain(domain_or_host)
        except InvalidDomain:
            # Fail closed: a host we cannot read is not one we can vouch for.
            raise DomainBlocked(str(domain_or_host), "not a valid domain") from None
        local = authority(f"http://{domain_or_host}/") == self._local
        self._judge(await self.snapshot(), host, local)

    async def check_urls(self, urls: Iterable[str | None]) -> None:
        """Raise DomainBlocked if the host of any URL is not federated with (None is skipped)."""
        present = [url for url in urls if url is not None]
        if not present:
            return
        snapshot = await self.snapshot()
        for url in present:
            try:
                host = host_of(url)
            except InvalidDomain:
                raise DomainBlocked(str(url), "not a URL with a valid host") from None
            self._judge(snapshot, host, authority(url) == self._local)

    def _judge(self, snapshot: PolicySnapshot, host: str, is_local: bool) -> None:
        if is_allowed(snapshot, host, is_local=is_local):
            return
        reason = block_reason(snapshot, host)
        raise DomainBlocked(host, reason if reason is not None else "not on the allowlist")
