"""Who may be told: the local accounts among a CoP's members, moderators or a Basecamp's
attendees, and whether someone is silenced (suspended, or banned from the CoP)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.accounts import Account
from models.communities import CommunityModerator
from models.events import GOING, EventParticipant
from models.follows import Follow
from models.moderation import Suspension, active_ban


async def local_accounts(session: AsyncSession, actor_ids: Iterable[int]) -> set[int]:
    """Which of these actors have an account here (only they can be notified)."""
    ids = set(actor_ids)
    if not ids:
        return set()
    return set(await session.scalars(select(Account.actor_id).where(Account.actor_id.in_(ids))))


async def member_accounts(session: AsyncSession, community_id: int) -> list[int]:
    """The local accounts that joined the CoP (accepted)."""
    query = (
        select(Follow.follower_id)
        .join(Account, Account.actor_id == Follow.follower_id)
        .where(Follow.followed_id == community_id, Follow.state == "accepted")
    )
    return list(await session.scalars(query))


async def moderator_accounts(session: AsyncSession, community_id: int) -> list[int]:
    """The local accounts that moderate the CoP."""
    query = (
        select(CommunityModerator.actor_id)
        .join(Account, Account.actor_id == CommunityModerator.actor_id)
        .where(CommunityModerator.community_id == community_id)
    )
    return list(await session.scalars(query))


async def admin_accounts(session: AsyncSession) -> list[int]:
    """The Network's admins."""
    return list(await session.scalars(select(Account.actor_id).where(Account.is_admin.is_(True))))


async def going_accounts(session: AsyncSession, event_id: int) -> list[int]:
    """The local accounts that said yes to a Basecamp."""
    query = (
        select(EventParticipant.actor_id)
        .join(Account, Account.actor_id == EventParticipant.actor_id)
        .where(EventParticipant.event_id == event_id, EventParticipant.role == GOING)
    )
    return list(await session.scalars(query))


async def is_silenced(
    session: AsyncSession, actor_id: int, community_id: int | None, now: datetime
) -> bool:
    """True when the actor is suspended, or banned from the CoP: what they do notifies nobody,
    and (banned) they are told nothing of it."""
    if await session.get(Suspension, actor_id) is not None:
        return True
    if community_id is None:
        return False
    return await active_ban(session, community_id, actor_id, now) is not None
