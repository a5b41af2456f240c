"""Update of an archived post by its author, or of a remote actor's profile."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import InvalidActor
from federation.fetch import FetchError
from federation.objects import PostObject, object_id
from models.harvest_sources import source_edited
from models.post_revisions import remember_wording
from models.posts import Post
from models.search import index_post
from server.activities.base import Context, Ignore, Reject, reject_or_retry, remote_actor
from server.activities.create import _parse, authors_addressing, check_authorship, storable_url
from server.activities.lookup import archived_post, author_of, community_of
from server.services import notify
from server.services.content import sanitize_remote_html, title_from
from server.services.distribution import distribute

ACTOR_TYPES = frozenset({"Person", "Group", "Service", "Application", "Organization"})


@dataclass
class Prepared:
    post: PostObject | None
    existing: Post | None


async def verify(ctx: Context, activity: dict) -> Prepared:
    """Only the author may edit a post; an actor may only update itself."""
    document = activity.get("object")
    if isinstance(document, dict) and document.get("type") in ACTOR_TYPES:
        if object_id(document) != activity["actor"]:
            raise Reject("an actor may only update itself")
        try:
            # Refetched, not read from the activity: the origin says what the actor is now.
            await ctx.remote.get(activity["actor"], budget=ctx.budget, refresh=True)
        except FetchError as error:
            raise reject_or_retry(error, f"cannot refresh actor {activity['actor']}") from error
        except InvalidActor as error:
            raise Reject(f"actor {activity['actor']} is not usable: {error}") from error
        return Prepared(post=None, existing=None)
    post = _parse(document)
    check_authorship(ctx, activity, post)
    async with ctx.sessions() as session:
        existing = await archived_post(ctx, session, post.id)
        if existing is None:
            raise Ignore(f"{post.id} is not archived here")
        author = await author_of(session, existing)
    if author.ap_id != activity["actor"]:
        raise Reject("only the author may update a post")
    await remote_actor(ctx, activity["actor"])
    return Prepared(post=post, existing=existing)


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Apply the edit and let threadiverse followers know."""
    if prepared.post is None or prepared.existing is None:
        return
    post = await session.get(Post, prepared.existing.id)
    if post is None or post.is_deleted:
        return
    remember_wording(session, post, ctx.clock())
    apply_edit(post, prepared.post, ctx.clock())
    await index_post(session, post)
    mentioned = [mention.href for mention in prepared.post.mentions]
    await notify.post_edited(session, post, mentioned=mentioned, now=ctx.clock())
    await source_edited(session, post.id)
    community = await community_of(session, post)
    announced = authors_addressing(activity) if ctx.forwarded else activity
    await distribute(
        session, ctx.urls, community, announced, object_id=prepared.post.id, now=ctx.clock()
    )


def apply_edit(post: Post, edit: PostObject, now) -> None:
    """Copy an edited object's content onto the archived post, sanitised."""
    post.content_html = sanitize_remote_html(edit.content_html)
    if post.thread_id is None:
        post.title = title_from(edit.name, post.content_html)
    post.summary = edit.summary[:2000]
    post.sensitive = edit.sensitive
    post.source = edit.source
    post.url = storable_url(edit.url)
    post.updated = edit.updated or now
    post.attachments = json.dumps(
        [
            {"type": a.type, "url": a.url, "mediaType": a.media_type, "name": a.name}
            for a in edit.attachments
        ]
    )
