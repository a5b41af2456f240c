"""Moderation of CoPs: bans, and the public log of every moderator's action."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.actors import Actor
from models.base import Base, BigId, UTCDateTime, utcnow
from models.communities import Community

# What the log records; each is also the `action` column's value.
ACTIONS = (
    "remove",
    "restore",
    "lock",
    "unlock",
    "pin",
    "unpin",
    "ban",
    "unban",
    "add_moderator",
    "remove_moderator",
)


class CommunityBan(Base):
    """An actor (local or remote) banned from a CoP, until `expires_at` or for good (null)."""

    __tablename__ = "community_bans"

    community_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Suspension(Base):
    """A remote account the Network's admins suspended: nothing it sends is taken."""

    __tablename__ = "suspensions"

    actor_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModerationAction(Base):
    """One entry of the public moderation log: who did what to what in which CoP, and why."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        Index("ix_moderation_actions_community_created", "community_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    moderator_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(32))
    target_actor_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="SET NULL")
    )
    target_post_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The activity that carried it, ours or a remote moderator's (for the AS2 log and dedup).
    activity_ap_id: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def active_ban(
    session: AsyncSession, community_id: int, actor_id: int, now: datetime
) -> CommunityBan | None:
    """The actor's ban from the CoP, if one holds at `now`."""
    query = select(CommunityBan).where(
        CommunityBan.community_id == community_id,
        CommunityBan.actor_id == actor_id,
        or_(CommunityBan.expires_at.is_(None), CommunityBan.expires_at > now),
    )
    return await session.scalar(query)


async def set_ban(
    session: AsyncSession,
    community_id: int,
    actor_id: int,
    *,
    reason: str,
    expires_at: datetime | None,
    now: datetime,
) -> CommunityBan:
    """Ban (or re-ban with new terms) an actor from a CoP."""
    ban = await session.get(CommunityBan, (community_id, actor_id))
    if ban is None:
        ban = CommunityBan(community_id=community_id, actor_id=actor_id)
        session.add(ban)
    ban.reason = reason
    ban.expires_at = expires_at
    ban.created_at = now
    await session.flush()
    return ban


async def lift_ban(session: AsyncSession, community_id: int, actor_id: int) -> bool:
    """Unban; False when there was no ban."""
    result = await session.execute(
        delete(CommunityBan).where(
            CommunityBan.community_id == community_id, CommunityBan.actor_id == actor_id
        )
    )
    return bool(result.rowcount)


async def bans_of(session: AsyncSession, community_id: int, now: datetime) -> list[CommunityBan]:
    """The bans holding in a CoP now, newest first."""
    query = (
        select(CommunityBan)
        .where(
            CommunityBan.community_id == community_id,
            or_(CommunityBan.expires_at.is_(None), CommunityBan.expires_at > now),
        )
        .order_by(CommunityBan.created_at.desc())
    )
    return list(await session.scalars(query))


async def log_action(
    session: AsyncSession,
    *,
    community_id: int,
    moderator_id: int | None,
    action: str,
    now: datetime,
    target_actor_id: int | None = None,
    target_post_id: int | None = None,
    reason: str = "",
    expires_at: datetime | None = None,
    activity_ap_id: str | None = None,
) -> ModerationAction:
    """Record one moderation action in the public log."""
    assert action in ACTIONS, action
    entry = ModerationAction(
        community_id=community_id,
        moderator_id=moderator_id,
        action=action,
        target_actor_id=target_actor_id,
        target_post_id=target_post_id,
        reason=reason,
        expires_at=expires_at,
        activity_ap_id=activity_ap_id,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def logged_activity(session: AsyncSession, activity_ap_id: str) -> bool:
    """True when an activity's action is already in the log (a redelivery)."""
    query = select(ModerationAction.id).where(ModerationAction.activity_ap_id == activity_ap_id)
    return (await session.scalar(query.limit(1))) is not None


async def moderation_log(
    session: AsyncSession, *, community_id: int | None, limit: int, offset: int = 0
) -> list[ModerationAction]:
    """The log newest first, of one CoP or (None) of the Network's active CoPs."""
    query = select(ModerationAction)
    if community_id is not None:
        query = query.where(ModerationAction.community_id == community_id)
    else:
        active = select(Community.actor_id).where(Community.status == "active")
        query = query.where(ModerationAction.community_id.in_(active))
    query = query.order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
    return list(await session.scalars(query.limit(limit).offset(offset)))


async def suspended_actor(session: AsyncSession, ap_id: str) -> Suspension | None:
    """The suspension of the remote actor with this id, if any."""
    query = (
        select(Suspension).join(Actor, Actor.id == Suspension.actor_id).where(Actor.ap_id == ap_id)
    )
    return await session.scalar(query)
