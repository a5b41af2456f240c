"""Sign-in rate limiting: sliding windows of failed attempts per account name and per address.

In memory, per process: enough to make password guessing slow. The per-address limit is
higher than the per-name one because a whole hospital or council often reaches the web
through one address. With several web processes each keeps its own count, so the effective
limit is the per-process limit times the number of processes.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable, Iterable

from aiohttp import web

from server.settings import IPNetwork

Clock = Callable[[], float]


class SlidingWindow:
    """At most `limit` events per key within any `window` seconds."""

    def __init__(self, limit: int, window: float, clock: Clock, *, max_keys: int = 50_000):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}

    def _live(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, key: str) -> float | None:
        """Seconds until one more event is allowed, or None if it is allowed now."""
        now = self.clock()
        events = self._live(key, now)
        if events is None or len(events) < self.limit:
            return None
        return max(events[-self.limit] + self.window - now, 0.001)

    def hit(self, key: str) -> None:
        """Record one event."""
        now = self.clock()
        events = self._live(key, now)
        if events is None:
            if len(self._events) >= self.max_keys:
                self._shrink(now)
            events = self._events[key] = deque()
        events.append(now)
        while len(events) > self.limit:
            events.popleft()  # older events cannot change the answer any more

    def reset(self, key: str) -> None:
        """Forget every event of a key."""
        self._events.pop(key, None)

    def undo(self, key: str) -> None:
        """Forget the most recent event of a key (an attempt that turned out fine)."""
        events = self._events.get(key)
        if events:
            events.pop()
            if not events:
                del self._events[key]

    def _shrink(self, now: float) -> None:
        for key in list(self._events):
            self._live(key, now)
        # Still full (a flood of distinct keys): drop the keys seen least recently.
        excess = len(self._events) - self.max_keys + 1
        if excess > 0:
            oldest = sorted(self._events, key=lambda k: self._events[k][-1])[:excess]
            for key in oldest:
                del self._events[key]


class LoginRateLimiter:
    """Failed sign-ins: `per_name` per account name and `per_address` per client address."""

    def __init__(
        self,
        *,
        per_name: int = 5,
        per_address: int = 20,
        window: float = 15 * 60,
        clock: Clock = time.monotonic,
    ):
        self.by_name = SlidingWindow(per_name, window, clock)
        self.by_address = SlidingWindow(per_address, window, clock)

    @property
    def clock(self) -> Clock:
        """The time source (seconds, monotonic)."""
        return self.by_name.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.by_name.clock = clock
        self.by_address.clock = clock

    def retry_after(self, address: str, *names: str) -> int | None:
        """Whole seconds to wait before trying again, or None if an attempt is allowed now.

        `names` are every name the attempt is known by (what was typed, the account's handle),
        so switching between handle and email address does not earn extra guesses.
        """
        waits = [self.by_address.retry_after(address)]
        waits += [self.by_name.retry_after(key) for key in _name_keys(names)]
        found = [wait for wait in waits if wait is not None]
        return math.ceil(max(found)) if found else None

    def failed(self, address: str, *names: str) -> None:
        """Count one failed attempt against the address and each name."""
        self.by_address.hit(address)
        for key in _name_keys(names):
            self.by_name.hit(key)

    def attempt(self, address: str, *names: str) -> int | None:
        """Check and count an attempt in one step: seconds to wait, or None to go ahead.

        The attempt counts as a failure until `succeeded` says otherwise, so requests sent
        in parallel (all checked before any password is verified) cannot exceed the limit.
        """
        wait = self.retry_after(address, *names)
        if wait is None:
            self.failed(address, *names)
        return wait

    def succeeded(self, address: str, *names: str) -> None:
        """The password was right: take back the attempt, and clear the names' failures.

        The address's earlier failures stay: an attacker with an account of their own could
        otherwise reset their count between guesses.
        """
        self.by_address.undo(address)
        for key in _name_keys(names):
            self.by_name.reset(key)


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
