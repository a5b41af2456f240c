"""CoPs started on the web that wait for an admin's approval (when CoP creation needs it)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community


async def pending_communities(session: AsyncSession) -> list[Community]:
    """CoPs started on the web that wait for an admin's approval, oldest first."""
    query = (
        select(Community)
        .where(Community.status == "pending")
        .order_by(Community.created_at, Community.actor_id)
    )
    return list(await session.scalars(query))


async def approve_community(session: AsyncSession, name: str) -> bool:
    """Make a pending CoP active; False if there is no pending CoP of that name."""
    actor_id = await session.scalar(select(Actor.id).where(Actor.local_name == name))
    if actor_id is None:
        return False
    result = await session.execute(
        update(Community)
        .where(Community.actor_id == actor_id, Community.status == "pending")
        .values(status="active")
    )
    return result.rowcount == 1
