"""Usage figures the Network publishes (NodeInfo): posts written here, people who are members."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.posts import Post


async def count_local_posts(session: AsyncSession) -> int:
    """Posts written on this server (threads and replies) that are not deleted."""
    query = select(func.count()).where(Post.ap_id.is_(None), Post.deleted_at.is_(None))
    return int(await session.scalar(query) or 0)
