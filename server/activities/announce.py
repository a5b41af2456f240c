"""Announce by a remote CoP one of our members follows: its posts are archived here too.

Announced objects are never trusted inline: the post is fetched from its origin.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from federation.fetch import FetchError
from federation.objects import PostObject, object_id
from federation.origin import same_origin
from models.actors import Actor
from models.follows import count_followers
from models.harvest_sources import source_edited, source_withdrawn
from models.posts import Post, add_post, tombstone_post
from models.search import index_post
from server.activities import moderation
from server.activities.base import (
    Context,
    Ignore,
    Reject,
    reject_or_retry,
    remote_actor,
    well_formed,
)
from server.activities.create import _parse, fetch_ancestors, new_post
from server.activities.lookup import archived_post
from server.activities.update import apply_edit
from server.services import notify

FOLLOWED_KINDS = frozenset({"Create", "Update", "Delete"})


@dataclass
class Prepared:
    group: Actor
    post: PostObject | None
    author: Actor | None
    parent: Post | None
    ancestors: list
    deleted: Post | None = None


async def verify(ctx: Context, activity: dict) -> Prepared:
    """The announcer must be a group a local member follows; the object comes from its origin."""
    group = await remote_actor(ctx, activity["actor"])
    async with ctx.sessions() as session:
        followers = await count_followers(session, group.id)
    if not followers:
        raise Ignore("nobody here follows the announcing actor")
    inner = activity.get("object")
    kind = inner.get("type") if isinstance(inner, dict) else None
    if kind is not None and await _by_a_moderator(ctx, inner):
        return await moderation.verify(ctx, await _trusted(ctx, group, inner), announcer=group)
    if kind is not None and kind not in FOLLOWED_KINDS:
        raise Ignore(f"announced {kind} activities are not archived")
    target = object_id(inner.get("object")) if kind else object_id(inner)
    if target is None:
        raise Reject("Announce has no object")
    async with ctx.sessions() as session:
        existing = await archived_post(ctx, session, target)
    if kind == "Delete":
        return await _verify_delete(ctx, group, target, existing)
    if existing is not None and kind != "Update":
        raise Ignore(f"{target} is already archived")
    await ctx.policy.check_urls([target])
    try:
        document = await ctx.fetcher.fetch_json(target, budget=ctx.budget)
    except FetchError as error:
        raise reject_or_retry(error, f"cannot fetch announced object {target}") from error
    post = _parse(document)
    if not same_origin(post.id, post.attributed_to):
        raise Reject("announced object is attributed to another host")
    author = await remote_actor(ctx, post.attributed_to)
    ancestors, parent = ([], None)
    if post.in_reply_to:
        ancestors, parent = await fetch_ancestors(ctx, post.in_reply_to)
    return Prepared(group, post, author, parent, ancestors, deleted=existing if kind else None)


async def _by_a_moderator(ctx: Context, inner: dict) -> bool:
    """A moderation activity, or a Delete by someone other than the post's author."""
    if moderation.is_moderation(inner):
        return True
    if inner.get("type") != "Delete":
        return False
    async with ctx.sessions() as session:
        post = await archived_post(ctx, session, object_id(inner.get("object")))
        author = await session.get(Actor, post.author_id) if post is not None else None
    return author is not None and author.ap_id != object_id(inner.get("actor"))


async def _trusted(ctx: Context, group: Actor, inner: dict) -> dict:
    """The announced activity as its origin has it, unless the CoP's own server made it (Lemmy
    does the same: crates/apub/src/activities/community/announce.rs)."""
    if same_origin(inner.get("id"), group.ap_id):
        return inner
    await ctx.policy.check_urls([inner.get("id")])
    try:
        fetched = well_formed(await ctx.fetcher.fetch_json(inner["id"], budget=ctx.budget))
    except FetchError as error:
        raise reject_or_retry(error, f"cannot fetch announced activity {inner['id']}") from error
    if fetched.get("id") != inner["id"]:
        raise Reject("the announced activity's origin serves another id")
    return fetched


async def _verify_delete(ctx: Context, group: Actor, target: str, existing: Post | None):
    if existing is None:
        raise Ignore(f"{target} is not archived here")
    try:
        await ctx.fetcher.fetch_json(target, budget=ctx.budget)
    except FetchError as error:
        if error.status in (404, 410):
            return Prepared(group, None, None, None, [], deleted=existing)
        raise reject_or_retry(error, f"cannot confirm deletion of {target}") from error
    raise Reject("announced Delete, but the object still exists at its origin")


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Archive (or update, or tombstone) the announced post under the remote CoP."""
    if isinstance(prepared, moderation.ModAction):
        await moderation.receive(ctx, session, activity["object"], prepared)
        return
    if prepared.post is None:
        post = await session.get(Post, prepared.deleted.id) if prepared.deleted else None
        if post is not None and not post.is_deleted:
            await tombstone_post(session, post, ctx.clock())
            await source_withdrawn(session, post.id)
        return
    if prepared.deleted is not None:  # an Update of an archived post
        post = await session.get(Post, prepared.deleted.id)
        if post is not None and not post.is_deleted:
            apply_edit(post, prepared.post, ctx.clock())
            await index_post(session, post)
            await source_edited(session, post.id)
        return
    parent = await session.get(Post, prepared.parent.id) if prepared.parent else None
    group_id = parent.community_id if parent is not None else prepared.group.id
    for ancestor in prepared.ancestors:
        parent = await add_post(
            session, new_post(ancestor.post, ancestor.author, group_id, top=False), parent
        )
    row = await add_post(
        session, new_post(prepared.post, prepared.author, group_id, top=parent is None), parent
    )
    mentioned = [mention.href for mention in prepared.post.mentions]
    await notify.post_published(
        session, row, mentioned=mentioned, now=ctx.clock(), local_author=prepared.author.is_local
    )
