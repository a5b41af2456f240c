"""Delete of a post by its author or a moderator (kept as a Tombstone), or of an actor."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation.objects import object_id
from models.actors import mark_gone
from models.harvest_sources import source_withdrawn
from models.post_revisions import delete_revisions
from models.posts import Post, tombstone
from models.search import index_post
from server.activities import moderation
from server.activities.base import Context, Ignore, Reject
from server.activities.lookup import archived_post, author_of, community_of
from server.services.distribution import distribute


@dataclass
class Prepared:
    post: Post | None
    actor_deleted: bool


async def verify(ctx: Context, activity: dict) -> Prepared | moderation.ModAction:
    """The author, or a moderator of the post's CoP, may delete it."""
    target = object_id(activity.get("object"))
    if target is None:
        raise Reject("Delete has no object")
    if target == activity["actor"]:
        return Prepared(post=None, actor_deleted=True)
    async with ctx.sessions() as session:
        post = await archived_post(ctx, session, target)
        if post is None:
            raise Ignore(f"{target} is not archived here")
        if post.is_deleted:
            raise Ignore(f"{target} is already deleted")
        author = await author_of(session, post)
    if author.ap_id != activity["actor"]:
        # Not the author: a moderator's removal (kept, with its reason, and restorable).
        try:
            return await moderation.verify(ctx, activity)
        except Ignore:
            raise
        except Reject as refused:
            raise Reject(f"only the author or a moderator may delete a post: {refused}") from None
    return Prepared(post=post, actor_deleted=False)


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Tombstone the post and announce the Delete; a deleted actor is marked gone."""
    if isinstance(prepared, moderation.ModAction):
        await moderation.receive(ctx, session, activity, prepared)
        return
    if prepared.actor_deleted:
        await mark_gone(session, activity["actor"], now=ctx.clock())
        return
    assert prepared.post is not None
    post = await session.get(Post, prepared.post.id)
    if post is None or post.is_deleted:
        return
    tombstone(post, ctx.clock())
    await index_post(session, post)
    await source_withdrawn(session, post.id)
    await delete_revisions(session, post.id)
    community = await community_of(session, post)
    await distribute(
        session,
        ctx.urls,
        community,
        activity,
        object_id=ctx.urls.post_id_of(post),
        now=ctx.clock(),
    )
