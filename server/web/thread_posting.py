"""Members writing in a CoP: starting a thread, replying, and sharing a thread into another CoP."""

from __future__ import annotations

from aiohttp import web

from models.actors import Actor
from models.base import utcnow
from models.communities import Community
from models.directory import membership_state
from models.posts import Post
from server.appkeys import URLS, WRITE_SESSIONS
from server.services.moderation_rules import banned_reason, closed_thread_reason
from server.services.posts import publish_post
from server.web.auth import require_member
from server.web.community_access import visible_community
from server.web.form_limits import limited_field
from server.web.mention_lookup import mentions_in, reply_mentions
from server.web.requests import wake_workers

TITLE_LIMIT = 200
BODY_LIMIT = 20_000


async def start_thread(request: web.Request) -> web.Response:
    """A member starts a thread in a CoP they belong to."""
    member = await require_member(request)
    name = request.match_info["name"]
    form = await request.post()
    title = limited_field(form, "title", TITLE_LIMIT, "title")
    body = limited_field(form, "body", BODY_LIMIT, "post")
    if not title or not body:
        raise web.HTTPBadRequest(text="A thread needs a title and some words.")
    mentions = await mentions_in(request, body)
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await visible_community(request, session, name)
        await _require_membership(session, member.actor_id, community)
        post = await publish_post(
            session,
            request.app[URLS],
            author=await session.get(Actor, member.actor_id),
            group=community.actor,
            community=community,
            title=title,
            body_markdown=body,
            parent=None,
            now=utcnow(),
            mentions=mentions,
        )
    wake_workers(request.app)
    raise web.HTTPSeeOther(f"/t/{post.id}")


async def reply(request: web.Request) -> web.Response:
    """A member replies to any post of a thread."""
    member = await require_member(request)
    form = await request.post()
    body = limited_field(form, "body", BODY_LIMIT, "reply")
    parent_id = str(form.get("parent", ""))
    if not body or not parent_id.isdigit():
        raise web.HTTPBadRequest(text="A reply needs some words.")
    mentions = await reply_mentions(request, int(parent_id), body)
    async with request.app[WRITE_SESSIONS].begin() as session:
        parent = await session.get(Post, int(parent_id))
        if parent is None or (parent.thread_id or parent.id) != int(request.match_info["id"]):
            raise web.HTTPNotFound(text="That post is not in this thread.")
        community = await session.get(Community, parent.community_id)
        group = await session.get(Actor, parent.community_id)
        if community is not None:
            await _require_membership(session, member.actor_id, community)
        closed = await closed_thread_reason(session, parent)
        if closed is not None:
            raise web.HTTPForbidden(text=f"No replies: {closed}.")
        post = await publish_post(
            session,
            request.app[URLS],
            author=await session.get(Actor, member.actor_id),
            group=group,
            community=community,
            title="",
            body_markdown=body,
            parent=parent,
            now=utcnow(),
            mentions=mentions,
        )
    wake_workers(request.app)
    raise web.HTTPSeeOther(f"/t/{post.thread_id}#post-{post.id}")


async def share_thread(request: web.Request) -> web.Response:
    """Share a thread into another CoP: a new thread there that links back."""
    member = await require_member(request)
    form = await request.post()
    target_name = str(form.get("community", ""))
    note = limited_field(form, "note", BODY_LIMIT, "note")
    urls = request.app[URLS]
    async with request.app[WRITE_SESSIONS].begin() as session:
        original = await session.get(Post, int(request.match_info["id"]))
        if original is None or original.thread_id is not None:
            raise web.HTTPNotFound(text="No such thread.")
        target = await visible_community(request, session, target_name)
        await _require_membership(session, member.actor_id, target)
        source_group = await session.get(Actor, original.community_id)
        link = urls.thread(original.id)
        source_name = source_group.display_name or source_group.username
        body = (
            f"{note}\n\n" if note else ""
        ) + f"Shared from {source_name}: [{original.title}]({link})"
        post = await publish_post(
            session,
            urls,
            author=await session.get(Actor, member.actor_id),
            group=target.actor,
            community=target,
            title=original.title,
            body_markdown=body,
            parent=None,
            now=utcnow(),
        )
        post.shared_from_id = original.id
    wake_workers(request.app)
    raise web.HTTPSeeOther(f"/t/{post.id}")


async def _require_membership(session, member_id: int, community: Community) -> None:
    refused = await banned_reason(session, community.actor_id, member_id, utcnow())
    if refused is not None:
        raise web.HTTPForbidden(text=f"You are {refused}.")
    if await membership_state(session, member_id, community.actor_id) != "accepted":
        raise web.HTTPForbidden(text="Join this community first.")
