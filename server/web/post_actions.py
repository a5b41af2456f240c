"""Members edit and delete their own posts on the web, and see an edited post's history."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from models.actors import Actor
from models.base import utcnow
from models.communities import Community, is_moderator
from models.post_revisions import PostDeleted, revisions_of
from models.posts import Post
from server.appkeys import DELIVERY, SESSIONS, URLS, WRITE_SESSIONS
from server.services.post_editing import NotYours, delete_post, edit_own_post
from server.web.auth import Member, require_member
from server.web.community_access import may_see
from server.web.mention_lookup import mentions_in

TITLE_LIMIT = 200
BODY_LIMIT = 20_000


def _post_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPNotFound(text=f"No post {raw}.")
    return int(raw)


async def _own_post(request: web.Request, session, member: Member) -> Post:
    """The member's own, undeleted post; 404 for none, 403 for anyone else's or a deleted one."""
    post = await session.get(Post, _post_id(request))
    if post is None:
        raise web.HTTPNotFound(text="No such post.")
    if post.ap_id is not None or post.author_id != member.actor_id:
        raise web.HTTPForbidden(text="Only its author can change a post.")
    if post.is_deleted:
        raise web.HTTPForbidden(text="This post was deleted; it cannot be edited back.")
    return post


def _place(post: Post) -> str:
    return f"/t/{post.thread_id or post.id}#post-{post.id}"


async def edit_form(request: web.Request) -> web.Response:
    """The edit form: title and body for a thread's first post, the body for a reply."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        post = await _own_post(request, session, member)
    form = {"title": post.title, "body": post.source}
    return aiohttp_jinja2.render_template(
        "post_edit.html", request, {"post": post, "form": form, "error": None}
    )


async def save_edit(request: web.Request) -> web.Response:
    """Apply the edit; the earlier wording is kept in the post's history."""
    member = await require_member(request)
    form = await request.post()
    title = str(form.get("title", "")).strip()
    body = str(form.get("body", "")).strip()
    async with request.app[SESSIONS]() as session:
        post = await _own_post(request, session, member)
    error = None
    if not body:
        error = "A post needs some words."
    elif len(body) > BODY_LIMIT:
        error = f"A post can be at most {BODY_LIMIT} characters long; this one has {len(body)}."
    elif post.thread_id is None and not title:
        error = "A thread needs a title."
    elif len(title) > TITLE_LIMIT:
        error = f"A title can be at most {TITLE_LIMIT} characters long."
    if error:
        context = {"post": post, "form": {"title": title, "body": body}, "error": error}
        return aiohttp_jinja2.render_template("post_edit.html", request, context, status=400)
    mentions = await mentions_in(request, body)
    async with request.app[WRITE_SESSIONS].begin() as session:
        post = await _own_post(request, session, member)
        try:
            await edit_own_post(
                session,
                request.app[URLS],
                post=post,
                editor=await session.get(Actor, member.actor_id),
                title=title,
                body_markdown=body,
                mentions=mentions,
                now=utcnow(),
            )
        except (NotYours, PostDeleted) as error:
            raise web.HTTPForbidden(text=str(error)) from None
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther(_place(post))


async def delete_confirmation(request: web.Request) -> web.Response:
    """Ask before deleting: the post, what deleting does, and a button."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        post = await _own_post(request, session, member)
    return aiohttp_jinja2.render_template("post_delete.html", request, {"post": post})


async def confirm_delete(request: web.Request) -> web.Response:
    """Delete after the confirmation step (the form says `confirm=yes`)."""
    member = await require_member(request)
    form = await request.post()
    async with request.app[WRITE_SESSIONS].begin() as session:
        post = await _own_post(request, session, member)
        if form.get("confirm") != "yes":
            raise web.HTTPSeeOther(f"/p/{post.id}/delete")
        try:
            await delete_post(
                session,
                request.app[URLS],
                post=post,
                now=utcnow(),
                by=await session.get(Actor, member.actor_id),
            )
        except (NotYours, PostDeleted) as error:
            raise web.HTTPForbidden(text=str(error)) from None
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther(_place(post))


async def history(request: web.Request) -> web.Response:
    """Every earlier wording of a post, for its author and the CoP's moderators."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        post = await session.get(Post, _post_id(request))
        if post is None:
            raise web.HTTPNotFound(text="No such post.")
        moderator = await is_moderator(session, post.community_id, member.actor_id)
        if post.author_id != member.actor_id and not moderator:
            raise web.HTTPForbidden(text="Only the author and the moderators see a post's history.")
        community = await session.get(Community, post.community_id)
        if community is not None and not await may_see(request, session, community):
            raise web.HTTPNotFound(text="No such post.")
        revisions = await revisions_of(session, post.id)
    context = {"post": post, "revisions": revisions, "place": _place(post)}
    return aiohttp_jinja2.render_template("post_history.html", request, context)
