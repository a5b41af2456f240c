"""Signature keys cached in memory, backed by the keys stored on cached remote actors."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.keyresolver import MemoryKeyCache, ResolvedKey
from models.actors import key_owner


class DatabaseKeyCache:
    """Memory first, then the actors table, so a restart does not refetch every key."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions
        # Short-lived, so a key change another process stored is read from the table soon.
        self._memory = MemoryKeyCache(ttl=300.0)

    async def get(self, key_id: str) -> ResolvedKey | None:
        """The key from memory or from a cached remote actor."""
        key = await self._memory.get(key_id)
        if key is not None:
            return key
        async with self._sessions() as session:
            row = await key_owner(session, key_id)
        if row is None:
            return None
        key = ResolvedKey(key_id=key_id, owner=row[0], public_key_pem=row[1])
        await self._memory.put(key)
        return key

    async def put(self, key: ResolvedKey) -> None:
        """Remember a freshly fetched key (actor rows are refreshed by RemoteActors)."""
        await self._memory.put(key)

    def forget(self, key_id: str) -> None:
        """Drop a key whose owner changed it (a verified Update), so it stops verifying now."""
        self._memory.forget(key_id)
