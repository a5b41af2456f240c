"""Follows of local actors (CoP membership for remote people)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.actors import Actor
from models.base import Base, BigId, UTCDateTime, utcnow


class Follow(Base):
    """`follower` follows `followed`; `state` is pending until accepted."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("followed_id", "follower_id"),
        Index("ix_follows_followed_state", "followed_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    followed_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    follower_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default="accepted")
    activity_ap_id: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def upsert_follow(
    session: AsyncSession,
    *,
    followed_id: int,
    follower_id: int,
    state: str,
    activity_ap_id: str | None,
) -> Follow:
    """Record a follow (or refresh a repeated one with the newest Follow activity id)."""
    follow = await session.scalar(
        select(Follow).where(Follow.followed_id == followed_id, Follow.follower_id == follower_id)
    )
    if follow is None:
        follow = Follow(
            followed_id=followed_id,
            follower_id=follower_id,
            state=state,
            activity_ap_id=activity_ap_id,
        )
        session.add(follow)
    else:
        follow.activity_ap_id = activity_ap_id or follow.activity_ap_id
        if follow.state != "accepted":
            follow.state = state
    await session.flush()
    return follow


async def remove_follow(session: AsyncSession, *, followed_id: int, follower_id: int) -> bool:
    """Delete a follow; True if there was one."""
    result = await session.execute(
        delete(Follow).where(Follow.followed_id == followed_id, Follow.follower_id == follower_id)
    )
    return bool(result.rowcount)


async def find_by_activity(session: AsyncSession, activity_ap_id: str) -> Follow | None:
    """The follow created by a given Follow activity id."""
    return await session.scalar(select(Follow).where(Follow.activity_ap_id == activity_ap_id))


async def count_followers(session: AsyncSession, followed_id: int) -> int:
    """How many accepted followers a local actor has."""
    query = select(func.count()).where(
        Follow.followed_id == followed_id, Follow.state == "accepted"
    )
    return int(await session.scalar(query) or 0)


async def follower_inboxes(session: AsyncSession, followed_id: int) -> list[tuple[str, str | None]]:
    """(inbox to use, domain) of every accepted follower; shared inboxes preferred."""
    query = (
        select(func.coalesce(Actor.shared_inbox_url, Actor.inbox_url), Actor.domain)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(
            Follow.followed_id == followed_id,
            Follow.state == "accepted",
            Actor.gone.is_(False),
            Actor.inbox_url.is_not(None),
        )
        .distinct()
    )
    return [(row[0], row[1]) for row in await session.execute(query)]


async def personal_follower_inboxes(session: AsyncSession, followed_id: int) -> set[str]:
    """The inboxes of accepted followers with no shared inbox: each reaches that one follower."""
    query = (
        select(Actor.inbox_url)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(
            Follow.followed_id == followed_id,
            Follow.state == "accepted",
            Actor.gone.is_(False),
            Actor.shared_inbox_url.is_(None),
            Actor.inbox_url.is_not(None),
        )
    )
    return {inbox for inbox in await session.scalars(query) if inbox}


async def follow_activity_id(
    session: AsyncSession, *, followed_id: int, follower_id: int
) -> str | None:
    """The id of the Follow activity behind a follow, when it had one."""
    return await session.scalar(
        select(Follow.activity_ap_id).where(
            Follow.followed_id == followed_id, Follow.follower_id == follower_id
        )
    )
