"""Moderators' activities from other servers: Lemmy's Delete (a removal), Lock, Add/Remove
(featured or moderators), Block (a ban) and the Undo of each.

They come two ways: sent straight to one of our CoPs by a remote moderator a local moderator
appointed, or Announced by a remote CoP copnet follows (FEP-1b12). Either way the signer's word
is not enough: the actor must be a moderator of that CoP (ours: our list; theirs: its moderators
collection, fetched) and the object must belong to that CoP. Lemmy checks the same
(crates/apub/src/activities/mod.rs, verify_mod_action; .../community/lock_page.rs,
collection_add.rs, .../block/block_user.rs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from federation.fetch import FetchError
from federation.objects import as_list, object_id, parse_datetime
from federation.origin import same_origin
from models.actors import Actor
from models.communities import Community, CommunityModerator
from models.follows import remove_follow
from models.moderation import lift_ban, log_action, logged_activity, set_ban
from models.posts import Post
from models.search_index import index_post
from server.activities.base import Context, Ignore, Reject, reject_or_retry, remote_actor
from server.activities.lookup import archived_post
from server.services.distribution import distribute
from server.services.moderation import hide_post

# (type of the activity, type of what an Undo undoes) -> the logged action
POST_KINDS = {("Delete", None): "remove", ("Undo", "Delete"): "restore"}
THREAD_KINDS = {("Lock", None): "lock", ("Undo", "Lock"): "unlock"}
BAN_KINDS = {("Block", None): "ban", ("Undo", "Block"): "unban"}
MODERATION_TYPES = frozenset({"Lock", "Add", "Remove", "Block"})
MODERATION_UNDOS = frozenset({"Lock", "Block", "Delete"})
# How many moderators of a remote CoP we read (Lemmy inlines them all).
MODERATORS_READ = 200


@dataclass
class ModAction:
    """A verified moderator's action, ready to apply."""

    action: str
    activity_id: str
    moderator: Actor
    group: Actor
    community: Community | None  # ours, or None for a remote CoP
    post: Post | None = None
    person: Actor | None = None
    reason: str = ""
    expires_at: datetime | None = None
    remove_data: bool = False


def is_moderation(activity: dict) -> bool:
    """True for the activity types this module handles (a Delete only when a removal)."""
    kind = activity.get("type")
    if kind in MODERATION_TYPES:
        return True
    inner = activity.get("object")
    return kind == "Undo" and isinstance(inner, dict) and inner.get("type") in MODERATION_UNDOS


async def verify(ctx: Context, activity: dict, *, announcer: Actor | None = None) -> ModAction:
    """Check who acts on what; `announcer` is the remote CoP that Announced the activity."""
    kind = activity["type"]
    inner = activity.get("object")
    undone = inner.get("type") if kind == "Undo" and isinstance(inner, dict) else None
    if kind == "Undo" and not isinstance(inner, dict):
        raise Reject("a moderator's Undo must embed what it undoes")
    acted = inner if undone else activity
    if undone and object_id(acted.get("actor")) != activity["actor"]:
        raise Reject("an actor may only undo its own activities")
    if not same_origin(activity["id"], activity["actor"]):
        raise Reject("the activity's id is not on its actor's host")
    moderator = await remote_actor(ctx, activity["actor"])
    target = object_id(acted.get("object"))
    if target is None:
        raise Reject(f"{kind} has no object")
    reason = _text(activity.get("summary")) or _text(acted.get("summary"))
    key = (kind, undone)
    if key in POST_KINDS or key in THREAD_KINDS:
        action = POST_KINDS.get(key) or THREAD_KINDS[key]
        post = await _post(ctx, target)
        if action == "restore" and post.author_id == moderator.id:
            raise Ignore("an author's Undo of their own Delete is not handled")
        if action in ("lock", "unlock") and post.thread_id is not None:
            raise Reject("only a thread's top post can be locked")
        group, community = await _group_of(ctx, post.community_id, announcer)
        found = ModAction(action, activity["id"], moderator, group, community, post=post)
    elif key in BAN_KINDS:
        group, community = await _group_named(ctx, object_id(acted.get("target")), announcer)
        found = ModAction(BAN_KINDS[key], activity["id"], moderator, group, community)
        found.person = await remote_actor(ctx, target)
        if key == ("Block", None):
            found.expires_at = _expiry(acted)
            found.remove_data = acted.get("removeData") is True
    elif kind in ("Add", "Remove"):
        found = await _collection_change(ctx, activity, moderator, target, announcer)
    else:
        raise Ignore(f"{kind} of {undone} is not a moderation copnet knows")
    found.reason = reason[:1000]
    await _require_moderator(ctx, found)
    return found


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _expiry(activity: dict) -> datetime | None:
    raw = activity.get("expires") or activity.get("endTime")
    if raw is None:
        return None
    try:
        when = parse_datetime(raw)
    except OverflowError:
        when = None
    if when is None:
        raise Reject("the ban's end is not a date")
    return when


async def _post(ctx: Context, target: str) -> Post:
    async with ctx.sessions() as session:
        post = await archived_post(ctx, session, target)
    if post is None or post.is_deleted:
        raise Ignore(f"{target} is not a post archived here")
    return post


async def _group_of(
    ctx: Context, group_id: int, announcer: Actor | None
) -> tuple[Actor, Community | None]:
    """The CoP a post belongs to; when announced, it must be the announcing CoP."""
    async with ctx.sessions() as session:
        community = await session.get(Community, group_id)
        group = await session.get(Actor, group_id)
    assert group is not None
    if announcer is not None and announcer.id != group_id:
        raise Reject("the object does not belong to the community that announced this")
    if announcer is None and community is None:
        # Only the remote CoP's own Announce may change our copy of its posts.
        raise Reject("that community is moderated on its own server")
    return group, community


async def _group_named(
    ctx: Context, url: str | None, announcer: Actor | None
) -> tuple[Actor, Community | None]:
    """The CoP a ban or a moderators change names as its `target`."""
    if announcer is not None:
        if url != announcer.ap_id:
            raise Reject("the target is not the community that announced this")
        return announcer, None
    local = ctx.urls.parse_local(url)
    if local is None or local[0] != "c":
        raise Ignore("that community is moderated on its own server")
    async with ctx.sessions() as session:
        community = await session.scalar(
            select(Community).join(Community.actor).where(Actor.local_name == local[1])
        )
    if community is None:
        raise Ignore(f"no community {url} here")
    return community.actor, community


async def _collection_change(
    ctx: Context, activity: dict, moderator: Actor, target: str, announcer: Actor | None
) -> ModAction:
    """`Add`/`Remove` to a CoP's featured (pin) or moderators collection."""
    adding = activity["type"] == "Add"
    collection = object_id(activity.get("target")) or ""
    base, _, part = collection.rpartition("/")
    if part == "featured":
        post = await _post(ctx, target)
        if post.thread_id is not None:
            raise Reject("only a thread's top post can be pinned")
        group, community = await _group_of(ctx, post.community_id, announcer)
        _same_group(group, base, ctx)
        action = "pin" if adding else "unpin"
        return ModAction(action, activity["id"], moderator, group, community, post=post)
    if part == "moderators":
        group_url = announcer.ap_id if announcer is not None else base
        group, community = await _group_named(ctx, group_url, announcer)
        _same_group(group, base, ctx)
        action = "add_moderator" if adding else "remove_moderator"
        found = ModAction(action, activity["id"], moderator, group, community)
        found.person = await remote_actor(ctx, target)
        if community is not None and not adding:
            async with ctx.sessions() as session:
                count = len(
                    list(
                        await session.scalars(
                            select(CommunityModerator.actor_id).where(
                                CommunityModerator.community_id == community.actor_id
                            )
                        )
                    )
                )
            if count <= 1:
                raise Reject("a community keeps at least one moderator")
        return found
    raise Ignore(f"{activity['type']} to {collection or 'no target'} is not a moderation")


def _same_group(group: Actor, base: str, ctx: Context) -> None:
    if base != ctx.urls.actor(group):
        raise Reject("the target collection is not that community's")


async def _require_moderator(ctx: Context, found: ModAction) -> None:
    if found.community is not None:
        async with ctx.sessions() as session:
            listed = await session.get(
                CommunityModerator, (found.community.actor_id, found.moderator.id)
            )
        ok = listed is not None
    else:
        ok = found.moderator.ap_id in await _remote_moderators(ctx, found.group)
    if not ok:
        raise Reject(f"{found.moderator.ap_id} is not a moderator of {ctx.urls.actor(found.group)}")


async def _remote_moderators(ctx: Context, group: Actor) -> set[str]:
    """The ids in a remote CoP's moderators collection (Lemmy: the Group's `attributedTo`)."""
    try:
        document = await ctx.fetcher.fetch_json(group.ap_id, budget=ctx.budget)
        url = object_id(document.get("attributedTo")) or object_id(document.get("moderators"))
        if url is None or not same_origin(url, group.ap_id):
            return set()
        collection = await ctx.fetcher.fetch_json(url, budget=ctx.budget)
        items = collection.get("orderedItems", collection.get("items"))
        first = collection.get("first")
        if items is None and first is not None:
            page = first if isinstance(first, dict) else None
            if page is None and isinstance(first, str) and same_origin(first, group.ap_id):
                page = await ctx.fetcher.fetch_json(first, budget=ctx.budget)
            items = (page or {}).get("orderedItems", (page or {}).get("items"))
    except FetchError as error:
        raise reject_or_retry(error, "cannot read the community's moderators") from error
    return {found for found in map(object_id, as_list(items)[:MODERATORS_READ]) if found}


async def verify_sent(ctx: Context, activity: dict) -> ModAction:
    """An activity sent straight to us (not Announced): only our CoPs' moderation counts."""
    return await verify(ctx, activity)


async def receive(ctx: Context, session, activity: dict, found: ModAction) -> None:
    """Apply the action to our copy, log it, and (for our CoP) Announce it to its followers."""
    if await logged_activity(session, found.activity_id):
        return
    now = ctx.clock()
    post = await session.get(Post, found.post.id) if found.post is not None else None
    group_id = found.group.id
    if found.action == "remove" and post is not None and not post.is_removed:
        await hide_post(session, post, found.reason, now)
    elif found.action == "restore" and post is not None and post.is_removed:
        post.removed_at = None
        post.removal_reason = None
        await index_post(session, post)
    elif found.action in ("lock", "unlock") and post is not None:
        post.locked_at = now if found.action == "lock" else None
    elif found.action in ("pin", "unpin") and post is not None:
        post.pinned_at = now if found.action == "pin" else None
    elif found.action == "ban" and found.person is not None:
        await _ban(session, found, now)
    elif found.action == "unban" and found.person is not None:
        await lift_ban(session, group_id, found.person.id)
    elif found.action in ("add_moderator", "remove_moderator") and found.community is not None:
        await _change_local_moderators(session, found)
    await log_action(
        session,
        community_id=group_id,
        moderator_id=found.moderator.id,
        action=found.action,
        target_post_id=post.id if post is not None else None,
        target_actor_id=found.person.id if found.person else (post.author_id if post else None),
        reason=found.reason,
        expires_at=found.expires_at,
        activity_ap_id=found.activity_id,
        now=now,
    )
    if found.community is not None:
        await distribute(
            session, ctx.urls, found.community, activity, object_id=activity["id"], now=now
        )


async def _ban(session, found: ModAction, now: datetime) -> None:
    assert found.person is not None
    group_id = found.group.id
    await set_ban(
        session,
        group_id,
        found.person.id,
        reason=found.reason,
        expires_at=found.expires_at,
        now=now,
    )
    if found.community is not None:
        await remove_follow(session, followed_id=group_id, follower_id=found.person.id)
    if found.remove_data:
        posts = await session.scalars(
            select(Post).where(
                Post.community_id == group_id,
                Post.author_id == found.person.id,
                Post.removed_at.is_(None),
            )
        )
        for post in posts:
            await hide_post(session, post, found.reason, now)


async def _change_local_moderators(session, found: ModAction) -> None:
    """A remote moderator of our CoP adds or removes one (verify kept the last)."""
    assert found.community is not None and found.person is not None
    key = (found.community.actor_id, found.person.id)
    row = await session.get(CommunityModerator, key)
    if found.action == "add_moderator" and row is None:
        session.add(CommunityModerator(community_id=key[0], actor_id=key[1]))
    elif found.action == "remove_moderator" and row is not None:
        await session.delete(row)
    await session.flush()
