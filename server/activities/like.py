"""Like of an archived post: counted once per actor and announced to threadiverse followers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation.objects import object_id
from models.actors import Actor
from models.posts import Post, add_like
from server.activities.base import Context, Ignore, Reject, remote_actor
from server.activities.lookup import archived_post, community_of
from server.services import notify
from server.services.distribution import distribute
from server.services.moderation_rules import banned_reason


@dataclass
class Prepared:
    post: Post
    actor: Actor


async def verify(ctx: Context, activity: dict) -> Prepared:
    """The liked object must be archived here."""
    target = object_id(activity.get("object"))
    async with ctx.sessions() as session:
        post = await archived_post(ctx, session, target)
    if post is None or post.is_deleted or post.is_removed:
        raise Ignore(f"{target} is not a post archived here")
    actor = await remote_actor(ctx, activity["actor"])
    async with ctx.sessions() as session:
        refused = await banned_reason(session, post.community_id, actor.id, ctx.clock())
    if refused is not None:
        raise Reject(refused)
    return Prepared(post=post, actor=actor)


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Count the like and let threadiverse followers know."""
    if await add_like(session, prepared.post, prepared.actor.id, activity["id"]):
        await notify.post_liked(session, prepared.post, prepared.actor.id, now=ctx.clock())
        community = await community_of(session, prepared.post)
        await distribute(
            session,
            ctx.urls,
            community,
            activity,
            object_id=ctx.urls.post_id_of(prepared.post),
            now=ctx.clock(),
        )


async def verify_dislike(ctx: Context, activity: dict) -> None:
    """CoPs count likes only; downvotes have no place in a community of practice."""
    raise Ignore("copnet does not count dislikes")
