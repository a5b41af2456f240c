"""What a member set up to be kept in touch, for their data export: their notifications, the
threads they watch, the CoPs they follow without joining, and how each kind is mailed to them.

Only the member's own rows: no other member's choices, and no secret (the unsubscribe key and
mail tokens stay behind).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.mail import MailProfile
from models.mail_queries import preferences
from models.notifications import Notification
from models.posts import Post
from models.watching import CommunitySubscription, ThreadWatch


@dataclass(frozen=True)
class WatchedThread:
    """A thread the member watches: its top post, its CoP, and since when."""

    thread: Post
    community: Actor
    since: datetime


@dataclass(frozen=True)
class FollowedCop:
    """A CoP whose new threads the member hears of without being a member."""

    community: Actor
    since: datetime


@dataclass(frozen=True)
class InTouch:
    """Everything that calls the member back, oldest first."""

    notifications: list[Notification]
    watched: list[WatchedThread]
    followed: list[FollowedCop]
    mail: dict[str, str]  # notification kind -> how it is mailed (their choice or the default)
    network_digest: bool


async def kept_in_touch(session: AsyncSession, account_id: int) -> InTouch:
    """The member's notifications, watched threads, followed CoPs and mail preferences."""
    notifications = await session.scalars(
        select(Notification)
        .where(Notification.account_id == account_id)
        .order_by(Notification.created_at, Notification.id)
    )
    watched = await session.execute(
        select(Post, Actor, ThreadWatch.created_at)
        .join(ThreadWatch, ThreadWatch.thread_id == Post.id)
        .join(Actor, Actor.id == Post.community_id)
        .where(ThreadWatch.account_id == account_id, ThreadWatch.watching.is_(True))
        .order_by(ThreadWatch.created_at, Post.id)
    )
    followed = await session.execute(
        select(Actor, CommunitySubscription.created_at)
        .join(CommunitySubscription, CommunitySubscription.community_id == Actor.id)
        .where(CommunitySubscription.account_id == account_id)
        .order_by(CommunitySubscription.created_at, Actor.id)
    )
    profile = await session.get(MailProfile, account_id)  # read only: never made here
    return InTouch(
        notifications=list(notifications),
        watched=[WatchedThread(thread, community, since) for thread, community, since in watched],
        followed=[FollowedCop(community, since) for community, since in followed],
        mail=await preferences(session, account_id),
        network_digest=profile is not None and profile.network_digest,
    )
