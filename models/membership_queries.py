"""What an actor follows: the CoPs it belongs to, and the inboxes its posts go to."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community
from models.follows import Follow


async def memberships(session: AsyncSession, actor_id: int) -> list[Actor]:
    """The CoPs (local or remote Groups) this actor belongs to: accepted follows, by name.

    A local CoP still waiting for approval is not listed.
    """
    query = (
        select(Actor)
        .join(Follow, Follow.followed_id == Actor.id)
        .outerjoin(Community, Community.actor_id == Actor.id)
        .where(
            Follow.follower_id == actor_id,
            Follow.state == "accepted",
            Actor.type == "Group",
            or_(Community.status.is_(None), Community.status == "active"),
        )
        .order_by(func.lower(Actor.display_name), Actor.id)
    )
    return list(await session.scalars(query))


async def count_following(session: AsyncSession, actor_id: int) -> int:
    """How many actors this one follows (accepted)."""
    query = select(func.count()).where(Follow.follower_id == actor_id, Follow.state == "accepted")
    return int(await session.scalar(query) or 0)


async def following_inboxes(session: AsyncSession, actor_id: int) -> list[str]:
    """Inboxes of the remote actors this one follows (shared inbox preferred)."""
    query = (
        select(func.coalesce(Actor.shared_inbox_url, Actor.inbox_url))
        .join(Follow, Follow.followed_id == Actor.id)
        .where(
            Follow.follower_id == actor_id,
            Follow.state == "accepted",
            Actor.gone.is_(False),
            Actor.inbox_url.is_not(None),
        )
        .distinct()
    )
    return [row for row in await session.scalars(query) if row]
