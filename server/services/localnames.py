"""Which local actor names exist, remembered so the inbox hot path skips a query."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.actors import local_actor_type


class LocalNames:
    """Positive-only cache: a name seen to exist is remembered; unknown names are re-checked.

    Actors are never deleted (only their content), so a remembered name cannot go stale.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions
        self._known: dict[str, str] = {}

    async def exists(self, name: str, type_: str) -> bool:
        """True if a local actor of this AS2 type has this name."""
        found = self._known.get(name)
        if found is None:
            async with self._sessions() as session:
                found = await local_actor_type(session, name)
            if found is None:
                return False
            self._known[name] = found
        return found == type_
