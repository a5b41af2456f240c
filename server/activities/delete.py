"""Delete of a post by its author or a moderator (kept as a Tombstone), of an archived remote
Event by its organiser's server (removed from the archive), or of an actor."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation.objects import object_id
from federation.origin import same_origin
from models.actors import Actor, mark_gone
from models.event_queries import get_event_by_ap_id, hosts_of
from models.events import Event
from models.harvest_sources import source_withdrawn
from models.post_revisions import delete_revisions
from models.posts import Post, tombstone_post
from server.activities import moderation
from server.activities.base import Context, Ignore, Reject
from server.activities.lookup import archived_post, author_of, community_of
from server.services.distribution import distribute


@dataclass
class Prepared:
    post: Post | None
    actor_deleted: bool
    event_id: int | None = None


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
            return await _verify_event_delete(session, target, activity["actor"])
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


async def _verify_event_delete(session: AsyncSession, target: str, sender: str) -> Prepared:
    """Only the organiser's server may delete an archived remote Event (as for its Update)."""
    event = await get_event_by_ap_id(session, target)
    if event is None or event.is_basecamp:
        raise Ignore(f"{target} is not archived here")
    organizer = await session.get(Actor, event.organizer_id)
    if organizer is None or not same_origin(organizer.ap_id, sender):
        raise Reject("only the organiser's server may delete an event")
    return Prepared(post=None, actor_deleted=False, event_id=event.id)


async def _receive_event_delete(
    ctx: Context, session: AsyncSession, activity: dict, event_id: int
) -> None:
    """Drop the archived Event (its RSVPs and hosts go with it) and pass the Delete on."""
    event = await session.get(Event, event_id)
    if event is None:
        return
    hosts = (await hosts_of(session, [event.id]))[event.id]
    ap_id = event.ap_id
    await session.delete(event)
    await session.flush()
    for community in hosts:
        await distribute(
            session, ctx.urls, community, activity, object_id=ap_id or "", now=ctx.clock()
        )


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Tombstone the post and announce the Delete; a deleted actor is marked gone."""
    if isinstance(prepared, moderation.ModAction):
        await moderation.receive(ctx, session, activity, prepared)
        return
    if prepared.actor_deleted:
        await mark_gone(session, activity["actor"], now=ctx.clock())
        return
    if prepared.event_id is not None:
        await _receive_event_delete(ctx, session, activity, prepared.event_id)
        return
    assert prepared.post is not None
    post = await session.get(Post, prepared.post.id)
    if post is None or post.is_deleted:
        return
    await tombstone_post(session, post, ctx.clock())
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
