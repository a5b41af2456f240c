"""Where rate-limit events are kept: in this process, or in the database for every process."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from models.rate_limits import add_hit, clear_hits, drop_latest_hit, recent_hits, remove_hit


class HitStore(Protocol):
    """Events per (bucket, key), each a time in seconds."""

    async def recent(
        self, bucket: str, key: str, *, since: float, limit: int, before: int | None = None
    ) -> list[float]:
        """The newest `limit` event times after `since` (recorded before event number
        `before`, if given), oldest first."""
        ...

    async def add(self, bucket: str, key: str, *, at: float, expired: float) -> int:
        """Record an event and return its number (numbers grow in recording order); events at
        or before `expired` may be dropped."""
        ...

    async def remove(self, bucket: str, key: str, number: int) -> None:
        """Forget one event by its number."""
        ...

    async def clear(self, bucket: str, key: str) -> None:
        """Forget every event of a key."""
        ...

    async def drop_latest(self, bucket: str, key: str) -> None:
        """Forget a key's most recent event."""
        ...


class MemoryHits:
    """Events in this process only; at most `max_keys` keys (the idlest go first)."""

    def __init__(self, *, max_keys: int = 50_000):
        self.max_keys = max_keys
        self._events: dict[tuple[str, str], deque[tuple[float, int]]] = {}
        self._numbers = itertools.count(1)

    async def recent(
        self, bucket: str, key: str, *, since: float, limit: int, before: int | None = None
    ) -> list[float]:
        events = self._events.get((bucket, key), ())
        times = [at for at, n in events if at > since and (before is None or n < before)]
        return times[-limit:] if limit else []

    async def add(self, bucket: str, key: str, *, at: float, expired: float) -> int:
        events = self._events.get((bucket, key))
        if events is None:
            if len(self._events) >= self.max_keys:
                self._shrink(expired)
            events = self._events[(bucket, key)] = deque()
        while events and events[0][0] <= expired:
            events.popleft()
        number = next(self._numbers)
        events.append((at, number))
        return number

    async def remove(self, bucket: str, key: str, number: int) -> None:
        events = self._events.get((bucket, key))
        if events:
            kept = deque(event for event in events if event[1] != number)
            if kept:
                self._events[(bucket, key)] = kept
            else:
                del self._events[(bucket, key)]

    async def clear(self, bucket: str, key: str) -> None:
        self._events.pop((bucket, key), None)

    async def drop_latest(self, bucket: str, key: str) -> None:
        events = self._events.get((bucket, key))
        if events:
            events.pop()
            if not events:
                del self._events[(bucket, key)]

    def _shrink(self, expired: float) -> None:
        for name, events in list(self._events.items()):
            while events and events[0][0] <= expired:
                events.popleft()
            if not events:
                del self._events[name]
        # Still full (a flood of distinct keys): drop the keys seen least recently.
        excess = len(self._events) - self.max_keys + 1
        if excess > 0:
            oldest = sorted(self._events, key=lambda name: self._events[name][-1][0])[:excess]
            for name in oldest:
                del self._events[name]


class DatabaseHits:
    """Events in the database, shared by every web process. `engine` is asked at use time
    (the application opens its database after the limiters are installed)."""

    def __init__(self, engine: Callable[[], AsyncEngine]):
        self._engine = engine

    async def recent(
        self, bucket: str, key: str, *, since: float, limit: int, before: int | None = None
    ) -> list[float]:
        engine = self._engine()
        return await recent_hits(engine, bucket, key, since=since, limit=limit, before=before)

    async def add(self, bucket: str, key: str, *, at: float, expired: float) -> int:
        return await add_hit(self._engine(), bucket, key, at=at, expired=expired)

    async def remove(self, bucket: str, key: str, number: int) -> None:
        await remove_hit(self._engine(), number)

    async def clear(self, bucket: str, key: str) -> None:
        await clear_hits(self._engine(), bucket, key)

    async def drop_latest(self, bucket: str, key: str) -> None:
        await drop_latest_hit(self._engine(), bucket, key)
