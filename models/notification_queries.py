"""Reading and writing the notifications table: adding one once, the bell's count, the page,
and marking read (only ever one's own)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.notifications import (
    LIKE,
    MENTION,
    NEW_THREAD,
    REPLY,
    REPORT,
    WATCHED_REPLY,
    Notification,
)

# About one post, each of these is said once, ever (a like, unlike and like again is one like).
# The others (a Basecamp moving twice, a second request to join after a refusal) are news
# again once the first was read.
_ONCE_EVER = frozenset({REPLY, MENTION, LIKE, NEW_THREAD, WATCHED_REPLY, REPORT})


async def add_notification(
    session: AsyncSession,
    *,
    account_id: int,
    kind: str,
    now: datetime,
    actor_id: int | None = None,
    post_id: int | None = None,
    community_id: int | None = None,
    event_id: int | None = None,
    detail: str = "",
) -> bool:
    """Add a notification unless the same one (who, what, about what) was said; no commit."""
    same = select(Notification.id).where(
        Notification.account_id == account_id,
        Notification.kind == kind,
        _same(Notification.actor_id, actor_id),
        _same(Notification.post_id, post_id),
        _same(Notification.community_id, community_id),
        _same(Notification.event_id, event_id),
    )
    if kind not in _ONCE_EVER:
        same = same.where(Notification.read_at.is_(None), Notification.detail == detail[:500])
    if await session.scalar(same.limit(1)) is not None:
        return False
    session.add(
        Notification(
            account_id=account_id,
            kind=kind,
            actor_id=actor_id,
            post_id=post_id,
            community_id=community_id,
            event_id=event_id,
            detail=detail[:500],
            created_at=now,
        )
    )
    await session.flush()
    return True


async def told_about(session: AsyncSession, account_id: int, post_id: int) -> bool:
    """True when the member has any notification about this post."""
    query = select(Notification.id).where(
        Notification.account_id == account_id, Notification.post_id == post_id
    )
    return await session.scalar(query.limit(1)) is not None


def _same(column, value):
    return column.is_(None) if value is None else column == value


async def unread_count(session: AsyncSession, account_id: int) -> int:
    """How many notifications the member has not read (the bell)."""
    query = select(func.count()).where(
        Notification.account_id == account_id, Notification.read_at.is_(None)
    )
    return int(await session.scalar(query) or 0)


async def notifications_page(
    session: AsyncSession, account_id: int, *, limit: int, offset: int = 0
) -> tuple[int, list[Notification]]:
    """(total, page) of a member's notifications, newest first."""
    where = Notification.account_id == account_id
    total = await session.scalar(select(func.count()).where(where))
    query = (
        select(Notification)
        .where(where)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), list(await session.scalars(query))


async def mark_read(
    session: AsyncSession, account_id: int, notification_id: int, now: datetime
) -> bool:
    """Mark one of the member's own notifications read; False if there is no such one."""
    found = await session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.account_id == account_id
        )
    )
    if found is None:
        return False
    if found.read_at is None:
        found.read_at = now
    return True


async def mark_all_read(session: AsyncSession, account_id: int, now: datetime) -> int:
    """Mark every unread notification of the member read; returns how many."""
    result = await session.execute(
        update(Notification)
        .where(Notification.account_id == account_id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
