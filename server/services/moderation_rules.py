"""The rules moderation imposes on everyone else: banned people and locked threads.

One place for the reasons, used by the activity handlers (which reject with them) and by the
website (which answers 403 with them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.moderation import active_ban
from models.posts import Post


async def banned_reason(
    session: AsyncSession, community_id: int, actor_id: int, now: datetime
) -> str | None:
    """Why the actor may not take part in the CoP now, or None."""
    ban = await active_ban(session, community_id, actor_id, now)
    if ban is None:
        return None
    until = f" until {ban.expires_at:%Y-%m-%d %H:%M} UTC" if ban.expires_at else ""
    return f"banned from this community{until}" + (f": {ban.reason}" if ban.reason else "")


async def banned_from_any(
    session: AsyncSession, community_ids: list[int], actor_id: int, now: datetime
) -> str | None:
    """Why the actor may not take part in any of these CoPs (e.g. a Basecamp's hosts), or None."""
    for community_id in community_ids:
        reason = await banned_reason(session, community_id, actor_id, now)
        if reason is not None:
            return reason
    return None


async def closed_thread_reason(session: AsyncSession, parent: Post) -> str | None:
    """Why the thread `parent` is in takes no replies (locked, or removed), or None."""
    root = parent if parent.thread_id is None else await session.get(Post, parent.thread_id)
    if root is None:
        return None
    if root.locked_at is not None:
        return "the thread is locked by its moderators"
    if root.is_removed or parent.is_removed:
        return "the post was removed by a moderator"
    return None
