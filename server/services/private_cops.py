"""Private CoPs: joining is a request a moderator approves or declines, and what is posted there
is for its members only.

A private CoP's Group says `manuallyApprovesFollowers: true`; a Follow waits as pending until a
moderator decides, and the follower then gets an `Accept` or a `Reject` embedding its Follow
(Mastodon reads both: app/lib/activitypub/activity/accept.rb and reject.rb). Its posts and
Announces are addressed to its followers collection, never Public, so Mastodon shows them as
followers-only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import AS_CONTEXT
from models.actors import Actor
from models.communities import Community
from models.deliveries import enqueue
from models.follows import Follow, remove_follow, upsert_follow
from server.as2.activities import new_activity_id
from server.services import moderation, notify
from server.services.distribution import send_accept
from server.urls import Urls


async def set_private(
    session: AsyncSession, community: Community, actor_id: int, private: bool
) -> None:
    """Make a CoP approval-only and members-only, or open again (moderators only)."""
    if not await moderation.may_moderate(session, community, actor_id):
        raise moderation.NotAllowed(f"only moderators of {community.actor.local_name} may do that")
    community.manually_approves_followers = private


async def join_requests(session: AsyncSession, community: Community) -> list[tuple[Follow, Actor]]:
    """Pending requests to join, oldest first."""
    query = (
        select(Follow, Actor)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.followed_id == community.actor_id, Follow.state == "pending")
        .order_by(Follow.created_at, Follow.id)
    )
    return [(follow, actor) for follow, actor in await session.execute(query)]


def _follow_document(urls: Urls, follow: Follow, follower: Actor, community: Community) -> dict:
    """The Follow being answered, as the follower sent it (its id is what servers match)."""
    return {
        "id": follow.activity_ap_id,
        "type": "Follow",
        "actor": urls.actor(follower),
        "object": urls.actor(community.actor),
    }


async def decide(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    actor_id: int,
    follower: Actor,
    approve: bool,
) -> None:
    """Approve (Accept) or decline (Reject) one pending request to join."""
    if not await moderation.may_moderate(session, community, actor_id):
        raise moderation.NotAllowed(f"only moderators of {community.actor.local_name} may do that")
    follow = await session.scalar(
        select(Follow).where(
            Follow.followed_id == community.actor_id,
            Follow.follower_id == follower.id,
            Follow.state == "pending",
        )
    )
    if follow is None:
        raise moderation.CannotModerate("there is no pending request from that person")
    remote = not follower.is_local and follow.activity_ap_id
    if approve:
        follow.state = "accepted"
        if remote:
            document = _follow_document(urls, follow, follower, community)
            await send_accept(session, urls, community.actor, follower, document)
        return
    if remote:
        reject = {
            "@context": AS_CONTEXT,
            "id": new_activity_id(urls),
            "type": "Reject",
            "actor": urls.actor(community.actor),
            "to": [urls.actor(follower)],
            "object": _follow_document(urls, follow, follower, community),
        }
        await enqueue(
            session,
            actor_id=community.actor_id,
            ap_id=reject["id"],
            type_="Reject",
            document=reject,
            inboxes=[follower.inbox_url] if follower.inbox_url else [],
            object_ap_id=follow.activity_ap_id,
        )
    await remove_follow(session, followed_id=community.actor_id, follower_id=follower.id)


async def ask_to_join(
    session: AsyncSession, community: Community, member: Actor, *, now: datetime
) -> None:
    """A member's request to join a private CoP, pending a moderator's decision."""
    if await is_member(session, community, member.id):
        return
    await upsert_follow(
        session,
        followed_id=community.actor_id,
        follower_id=member.id,
        state="pending",
        activity_ap_id=None,
    )
    await notify.join_requested(session, community.actor_id, member.id, now=now)


async def is_member(session: AsyncSession, community: Community, actor_id: int) -> bool:
    """An accepted member (or follower) of the CoP."""
    found = await session.scalar(
        select(Follow.id).where(
            Follow.followed_id == community.actor_id,
            Follow.follower_id == actor_id,
            Follow.state == "accepted",
        )
    )
    return found is not None


async def has_follower_on(session: AsyncSession, community: Community, domain: str) -> bool:
    """True when an accepted follower of the CoP lives on this server (host[:port])."""
    found = await session.scalar(
        select(Follow.id)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(
            Follow.followed_id == community.actor_id,
            Follow.state == "accepted",
            Actor.domain == domain,
        )
        .limit(1)
    )
    return found is not None
