"""Sign-in and sign-up rate limiting: sliding windows of attempts per account name and address.

Enough to make password guessing slow. The per-address limit is higher than the per-name one
because a whole hospital or council often reaches the web through one address. The events are
kept by a store: `DatabaseHits` (what copnet serves with) shares them between every web process
through the database, so `copnet serve --processes N` allows what one process would;
`MemoryHits` keeps them in this process (unit tests, tools).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Iterable

from aiohttp import web

from server.http.ratelimit_store import HitStore, MemoryHits
from server.settings_validation import IPNetwork

Clock = Callable[[], float]


class SlidingWindow:
    """At most `limit` events per key within any `window` seconds."""

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Clock = time.time,
        *,
        store: HitStore | None = None,
        bucket: str = "events",
    ):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.store = store if store is not None else MemoryHits()
        self.bucket = bucket

    async def _recent(
        self, key: str, now: float, count: int, before: int | None = None
    ) -> list[float]:
        since = now - self.window
        return await self.store.recent(self.bucket, key, since=since, limit=count, before=before)

    async def retry_after(self, key: str) -> float | None:
        """Seconds until one more event is allowed, or None if it is allowed now."""
        now = self.clock()
        events = await self._recent(key, now, self.limit)
        if len(events) < self.limit:
            return None
        return max(events[0] + self.window - now, 0.001)

    async def over(self, key: str, number: int) -> float | None:
        """For a counted event (`number`, from `hit`): seconds to wait if `limit` events came
        before it within the window, else None. Events recorded after it do not count, so of
        many sent at once exactly the first `limit` go ahead, in one process or several."""
        now = self.clock()
        events = await self._recent(key, now, self.limit, before=number)
        if len(events) < self.limit:
            return None
        return max(events[0] + self.window - now, 0.001)

    async def hit(self, key: str) -> int:
        """Record one event; its number."""
        now = self.clock()
        return await self.store.add(self.bucket, key, at=now, expired=now - self.window)

    async def discard(self, key: str, number: int) -> None:
        """Take back one counted event (a refused attempt)."""
        await self.store.remove(self.bucket, key, number)

    async def reset(self, key: str) -> None:
        """Forget every event of a key."""
        await self.store.clear(self.bucket, key)

    async def undo(self, key: str) -> None:
        """Forget the most recent event of a key (an attempt that turned out fine)."""
        await self.store.drop_latest(self.bucket, key)


class LoginRateLimiter:
    """Failed sign-ins: `per_name` per account name and `per_address` per client address."""

    def __init__(
        self,
        *,
        per_name: int = 5,
        per_address: int = 20,
        window: float = 15 * 60,
        clock: Clock = time.time,
        store: HitStore | None = None,
    ):
        store = store if store is not None else MemoryHits()
        self.by_name = SlidingWindow(per_name, window, clock, store=store, bucket="login-name")
        self.by_address = SlidingWindow(
            per_address, window, clock, store=store, bucket="login-address"
        )

    @property
    def clock(self) -> Clock:
        """The time source (seconds; wall-clock, so that processes agree)."""
        return self.by_name.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.by_name.clock = clock
        self.by_address.clock = clock

    async def retry_after(self, address: str, *names: str) -> int | None:
        """Whole seconds to wait before trying again, or None if an attempt is allowed now.

        `names` are every name the attempt is known by (what was typed, the account's handle),
        so switching between handle and email address does not earn extra guesses.
        """
        waits = [await self.by_address.retry_after(address)]
        waits += [await self.by_name.retry_after(key) for key in _name_keys(names)]
        found = [wait for wait in waits if wait is not None]
        return math.ceil(max(found)) if found else None

    async def failed(self, address: str, *names: str) -> list[tuple[SlidingWindow, str, int]]:
        """Count one failed attempt against the address and each name; what was counted."""
        counted = [(self.by_address, address, await self.by_address.hit(address))]
        for key in _name_keys(names):
            counted.append((self.by_name, key, await self.by_name.hit(key)))
        return counted

    async def attempt(self, address: str, *names: str) -> int | None:
        """Count an attempt, then check it: seconds to wait, or None to go ahead.

        Counted first and checked after, so requests sent in parallel (to one process or
        several) cannot exceed the limit: each sees the others' events. The attempt counts as a
        failure until `succeeded` says otherwise; a refused attempt is taken back.
        """
        counted = await self.failed(address, *names)
        waits = [await window.over(key, number) for window, key, number in counted]
        found = [wait for wait in waits if wait is not None]
        if not found:
            return None
        for window, key, number in counted:
            await window.discard(key, number)
        return math.ceil(max(found))

    async def succeeded(self, address: str, *names: str) -> None:
        """The password was right: take back the attempt, and clear the names' failures.

        The address's earlier failures stay: an attacker with an account of their own could
        otherwise reset their count between guesses.
        """
        await self.by_address.undo(address)
        for key in _name_keys(names):
            await self.by_name.reset(key)


def _name_keys(names: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(key for key in map(_name_key, names) if key))


def _name_key(name: str) -> str:
    return name.strip().lstrip("@").casefold()


def client_address(request: web.Request, trusted_proxies: Iterable[IPNetwork] = ()) -> str:
    """The client's IP address for rate limiting.

    X-Forwarded-For is believed only from the configured proxies (COPNET_TRUSTED_PROXIES):
    reading it from right to left, each hop added by a trusted proxy is skipped and the first
    address a trusted proxy saw from outside is the client. Anyone else's header is ignored,
    or a client could name a new address on every request and never be limited.
    """
    peer = request.remote or "unknown"
    proxies = tuple(trusted_proxies)
    if not _within(peer, proxies):
        return peer
    client = peer
    for hop in reversed(request.headers.get("X-Forwarded-For", "").split(",")):
        hop = hop.strip()
        if not _is_ip(hop):
            break
        client = hop
        if not _within(hop, proxies):
            break
    return client


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _within(value: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(address in network for network in networks)
