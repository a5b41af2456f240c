"""Undo of a Follow (leave a CoP) or of a Like."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation.objects import object_id
from models.actors import Actor
from models.follows import find_by_activity, remove_follow
from models.posts import Post, remove_like
from server.activities import moderation
from server.activities.base import Context, Ignore, Reject, remote_actor
from server.activities.lookup import addressed_community, archived_post, community_of
from server.services.distribution import distribute

UNDOABLE = frozenset({"Follow", "Like"})
# Kept nowhere, so an Undo of them has nothing to take back (like.verify_dislike).
NOT_KEPT = {
    "Dislike": "copnet does not count dislikes, so there is none to undo",
    "Announce": "copnet does not count boosts of its posts, so there is none to undo",
}


@dataclass
class Prepared:
    kind: str
    actor: Actor
    inner_id: str | None
    followed_id: int | None = None
    post: Post | None = None


async def verify(ctx: Context, activity: dict) -> Prepared | moderation.ModAction:
    """Only the actor who did something may undo it; a moderator's undo is moderation's."""
    if moderation.is_moderation(activity):
        return await moderation.verify(ctx, activity)
    inner = activity.get("object")
    inner_id = object_id(inner)
    kind = inner.get("type") if isinstance(inner, dict) else None
    if isinstance(inner, dict) and object_id(inner.get("actor")) != activity["actor"]:
        raise Reject("an actor may only undo its own activities")
    actor = await remote_actor(ctx, activity["actor"])
    async with ctx.sessions() as session:
        follow = await find_by_activity(session, inner_id) if inner_id else None
        if kind is None and follow is not None:
            kind = "Follow"
        if kind in NOT_KEPT:
            raise Ignore(NOT_KEPT[kind])
        if kind not in UNDOABLE and kind is not None:
            raise Ignore(f"Undo of {kind} is not handled")
        if kind == "Follow" or kind is None:
            followed_id = follow.followed_id if follow is not None else None
            if followed_id is None and isinstance(inner, dict):
                target = object_id(inner.get("object"))
                community = await addressed_community(ctx, session, [target] if target else [])
                followed_id = community.actor_id if community is not None else None
            if followed_id is not None:
                return Prepared("Follow", actor, inner_id, followed_id=followed_id)
            if kind == "Follow":
                raise Ignore("no such follow here")
        target = object_id(inner.get("object")) if isinstance(inner, dict) else None
        post = await archived_post(ctx, session, target)
    # The embedded Like may carry a fresh id (Lemmy, PieFed): the post and actor find it.
    return Prepared("Like", actor, inner_id, post=post)


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Remove the follow or the like (and announce an un-like to threadiverse followers)."""
    if isinstance(prepared, moderation.ModAction):
        await moderation.receive(ctx, session, activity, prepared)
        return
    if prepared.kind == "Follow":
        assert prepared.followed_id is not None
        await remove_follow(
            session, followed_id=prepared.followed_id, follower_id=prepared.actor.id
        )
        return
    post = await remove_like(
        session, actor_id=prepared.actor.id, activity_ap_id=prepared.inner_id, post=prepared.post
    )
    if post is not None:
        community = await community_of(session, post)
        await distribute(
            session,
            ctx.urls,
            community,
            activity,
            object_id=ctx.urls.post_id_of(post),
            now=ctx.clock(),
        )
