"""Usage figures the Network publishes (NodeInfo): posts written here, people who are members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.accounts import Account
from models.actors import Actor
from models.posts import Post


async def count_local_posts(session: AsyncSession) -> int:
    """Posts written on this server (threads and replies) that are not deleted."""
    query = select(func.count()).where(Post.ap_id.is_(None), Post.deleted_at.is_(None))
    return int(await session.scalar(query) or 0)


async def count_members(session: AsyncSession, *, active_since: datetime | None = None) -> int:
    """People with an account here; those who left have none (their `Person` row stays so
    their name stays taken, and "Former member" never had one). `active_since`: only those
    seen, signed in or joined since then."""
    query = (
        select(func.count())
        .select_from(Account)
        .join(Actor, Actor.id == Account.actor_id)
        .where(Actor.type == "Person", Actor.gone.is_(False))
    )
    if active_since is not None:
        last_active = func.coalesce(Account.last_seen_at, Account.last_login_at, Account.created_at)
        query = query.where(last_active >= active_since)
    return int(await session.scalar(query) or 0)
