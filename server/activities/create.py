"""Create of a post addressed to a CoP: a new thread, or a reply at any depth."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from federation.fetch import FetchError
from federation.objects import InvalidActivity, PostObject, parse_post
from federation.origin import same_origin
from federation.shapes import MAX_URL_LENGTH
from models.actors import Actor
from models.communities import Community, is_moderator
from models.events import Event
from models.posts import Post, add_post
from server.activities.base import (
    Context,
    Ignore,
    Reject,
    reject_or_retry,
    remote_actor,
    well_formed,
)
from server.activities.lookup import (
    addressed_community,
    archived_post,
    community_of,
    require_active,
)
from server.services import notify
from server.services.basecamp_discussion import discussion_root, replied_basecamp_id
from server.services.content import sanitize_remote_html, title_from
from server.services.distribution import distribute
from server.services.moderation_rules import banned_reason, closed_thread_reason


@dataclass
class Ancestor:
    """A parent post we had to fetch to join a reply to its thread."""

    post: PostObject
    author: Actor


@dataclass
class Prepared:
    post: PostObject
    author: Actor
    community: Community
    parent: Post | None
    ancestors: list[Ancestor] = field(default_factory=list)
    basecamp_id: int | None = None  # a reply to a Basecamp's Event or poll


async def verify(ctx: Context, activity: dict) -> Prepared:
    """Check the post, find its CoP and its place in a thread (fetching missing parents)."""
    post = _parse(activity.get("object"))
    check_authorship(ctx, activity, post)
    if not post.is_public:
        # Direct and followers-only posts must never end up in a public archive.
        raise Ignore("only public posts are archived in a community")
    await ctx.policy.check_urls([post.id, post.attributed_to, post.in_reply_to])
    author = await remote_actor(ctx, post.attributed_to)
    # A forwarder's addressing is its own words: only the author's (refetched) object counts.
    recipients = [*post.recipients, *([] if ctx.forwarded else _addresses(activity))]
    async with ctx.sessions() as session:
        if await archived_post(ctx, session, post.id) is not None:
            raise Ignore(f"{post.id} is already archived")
        community = await addressed_community(ctx, session, recipients)
        parent = await archived_post(ctx, session, post.in_reply_to)
        basecamp = await _replied_basecamp(ctx, session, post.in_reply_to)
    ancestors: list[Ancestor] = []
    if basecamp is not None:
        return await _verify_basecamp_reply(ctx, post, author, basecamp)
    if post.in_reply_to and parent is None:
        ancestors, parent = await fetch_ancestors(ctx, post.in_reply_to)
        if parent is None:
            # The reply's thread is not one of ours: only a post that names a CoP starts one.
            ancestors = []
    if parent is not None:
        async with ctx.sessions() as session:
            community = await community_of(session, parent)
        if community is None:
            raise Ignore("the thread belongs to a community on another server")
        require_active(community)
    if community is None:
        raise Ignore("not addressed to a community on this server")
    async with ctx.sessions() as session:
        refused = await banned_reason(session, community.actor_id, author.id, ctx.clock())
        if refused is None and parent is not None:
            refused = await closed_thread_reason(session, parent)
    if refused is not None:
        raise Reject(refused)
    if community.posting_restricted_to_mods and parent is None:
        async with ctx.sessions() as session:
            if not await is_moderator(session, community.actor_id, author.id):
                raise Reject("only moderators may start threads in this community")
    return Prepared(post, author, community, parent, ancestors)


async def _replied_basecamp(ctx: Context, session: AsyncSession, in_reply_to: str | None):
    event_id = replied_basecamp_id(ctx.urls, in_reply_to)
    event = await session.get(Event, event_id) if event_id is not None else None
    return event if event is not None and event.is_basecamp else None


async def _verify_basecamp_reply(
    ctx: Context, post: PostObject, author: Actor, basecamp: Event
) -> Prepared:
    """A reply to a Basecamp joins its thread in the Network actor's CoP (basecamp_discussion)."""
    async with ctx.sessions() as session:
        community = await session.get(Community, basecamp.organizer_id)
        parent = await session.get(Post, basecamp.thread_id) if basecamp.thread_id else None
        if community is None:
            raise Ignore("the Basecamp's organiser is gone")
        refused = await banned_reason(session, community.actor_id, author.id, ctx.clock())
        if refused is None and parent is not None:
            refused = await closed_thread_reason(session, parent)
    if refused is not None:
        raise Reject(refused)
    return Prepared(post, author, community, parent, basecamp_id=basecamp.id)


def _parse(document) -> PostObject:
    """A post (embedded, or fetched from its origin), shape-checked before it is read."""
    try:
        return parse_post(well_formed(document))
    except InvalidActivity as error:
        raise Reject(str(error)) from error


def _addresses(activity: dict) -> list[str]:
    found = []
    for key in ("to", "cc", "audience"):
        value = activity.get(key)
        found.extend(
            v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)
        )
    return found


def authors_addressing(activity: dict) -> dict:
    """The activity addressed as its (refetched) object is, whoever forwarded it."""
    note = activity["object"]
    addressing = ("to", "cc", "bto", "bcc", "audience")
    readdressed = {k: v for k, v in activity.items() if k not in addressing}
    for key in ("to", "cc", "audience"):
        if key in note:
            readdressed[key] = note[key]
    return readdressed


def check_authorship(ctx: Context, activity: dict, post: PostObject) -> None:
    """The sender must be the author, on the object's host (Mastodon CVE-2024-23832)."""
    if post.attributed_to != activity["actor"]:
        raise Reject("the object is attributed to someone other than the activity's actor")
    if not same_origin(post.id, activity["actor"]):
        raise Reject("the object's id is not on the actor's host")


async def fetch_ancestors(ctx: Context, url: str) -> tuple[list[Ancestor], Post | None]:
    """Walk `inReplyTo` up to an archived post, within the fetch budget; oldest first."""
    fetched: list[Ancestor] = []
    current: str | None = url
    seen: set[str] = set()
    while current and current not in seen:
        seen.add(current)
        async with ctx.sessions() as session:
            known = await archived_post(ctx, session, current)
        if known is not None:
            return list(reversed(fetched)), known
        await ctx.policy.check_urls([current])
        try:
            document = await ctx.fetcher.fetch_json(current, budget=ctx.budget)
        except FetchError as error:
            raise reject_or_retry(error, f"cannot fetch parent {current}") from error
        parent = _parse(document)
        if not same_origin(parent.id, parent.attributed_to):
            raise Reject(f"parent {parent.id} is attributed to another host")
        fetched.append(Ancestor(parent, await remote_actor(ctx, parent.attributed_to)))
        current = parent.in_reply_to
    return list(reversed(fetched)), None


def storable_url(url: str | None) -> str | None:
    """A post's link to its page, or None when it is too long to store (it is only a link)."""
    return url if url is not None and len(url) <= MAX_URL_LENGTH else None


def new_post(post: PostObject, author: Actor, community_id: int, *, top: bool) -> Post:
    """An archive row for a remote post, its HTML sanitised."""
    content = sanitize_remote_html(post.content_html)
    published = post.published
    attachments = [
        {"type": a.type, "url": a.url, "mediaType": a.media_type, "name": a.name}
        for a in post.attachments
    ]
    row = Post(
        ap_id=post.id,
        community_id=community_id,
        author_id=author.id,
        type=post.type,
        title=title_from(post.name, content) if top else post.name[:512],
        content_html=content,
        source=post.source,
        summary=post.summary[:2000],
        sensitive=post.sensitive,
        url=storable_url(post.url),
        attachments=json.dumps(attachments),
    )
    if published is not None:
        row.published = published
        row.last_activity_at = published
    return row


async def receive(ctx: Context, session: AsyncSession, activity: dict, prepared: Prepared) -> None:
    """Archive the post (and any fetched parents) and announce it to the CoP's followers."""
    parent = prepared.parent
    if parent is not None:
        parent = await session.get(Post, parent.id)
    elif prepared.basecamp_id is not None:
        parent = await discussion_root(session, ctx.urls, prepared.basecamp_id)
        if parent is None:
            return  # the Basecamp went away since verify
    for ancestor in prepared.ancestors:
        row = new_post(ancestor.post, ancestor.author, prepared.community.actor_id, top=False)
        parent = await add_post(session, row, parent)
    row = new_post(prepared.post, prepared.author, prepared.community.actor_id, top=parent is None)
    await add_post(session, row, parent)
    mentioned = [mention.href for mention in prepared.post.mentions]
    await notify.post_published(
        session, row, mentioned=mentioned, now=ctx.clock(), local_author=prepared.author.is_local
    )
    await distribute(
        session,
        ctx.urls,
        prepared.community,
        authors_addressing(activity) if ctx.forwarded else activity,
        object_id=prepared.post.id,
        now=ctx.clock(),
        new_post=True,
        top_level=parent is None,
    )
