"""Moderators' tools on the website: controls on thread pages and a CoP's moderation page.

Every form is checked again here (a forged POST from someone who is not a moderator gets 403
and changes nothing); the work itself is server.services.moderation's.
"""

from __future__ import annotations

from datetime import timedelta

import aiohttp_jinja2
from aiohttp import web

from models.actors import Actor
from models.base import utcnow
from models.communities import Community, moderators
from models.moderation import bans_of, moderation_log
from models.posts import Post
from server.appkeys import DELIVERY, REMOTE, SESSIONS, URLS, WRITE_SESSIONS
from server.services import moderation, private_cops
from server.services.moderation_people import PersonNotFound, fetch_if_url, find_person
from server.web.auth import require_member
from server.web.community_access import visible_community

REASON_LIMIT = 1000
MAX_BAN_DAYS = 3650
POST_ACTIONS = ("remove", "restore", "lock", "unlock", "pin", "unpin")


def _reason(form) -> str:
    return str(form.get("reason", "")).strip()[:REASON_LIMIT]


async def moderate_post(request: web.Request) -> web.Response:
    """Remove/restore a post, lock/unlock or pin/unpin a thread (the form on a thread page)."""
    member = await require_member(request)
    form = await request.post()
    action = str(form.get("action", ""))
    raw_post = str(form.get("post", ""))
    if action not in POST_ACTIONS or not raw_post.isdigit() or len(raw_post) > 18:
        raise web.HTTPBadRequest(text=f"Unknown moderation action {action!r} or post.")
    reason = _reason(form)
    thread_id = int(request.match_info["id"])
    now = utcnow()
    urls = request.app[URLS]
    async with request.app[WRITE_SESSIONS].begin() as session:
        post = await session.get(Post, int(raw_post))
        if post is None or (post.thread_id or post.id) != thread_id:
            raise web.HTTPNotFound(text="That post is not in this thread.")
        community = await session.get(Community, post.community_id)
        if community is None:
            raise web.HTTPForbidden(text="That thread is moderated on its community's server.")
        try:
            if action in ("remove", "restore"):
                do = moderation.remove_post if action == "remove" else moderation.restore_post
                await do(session, urls, community, member.actor_id, post, reason, now)
            elif action in ("lock", "unlock"):
                await moderation.set_locked(
                    session, urls, community, member.actor_id, post, action == "lock", reason, now
                )
            else:
                await moderation.set_pinned(
                    session, urls, community, member.actor_id, post, action == "pin", now
                )
        except moderation.NotAllowed as error:
            raise web.HTTPForbidden(text=str(error)) from None
        except moderation.CannotModerate as error:
            raise web.HTTPBadRequest(text=str(error)) from None
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther(f"/t/{thread_id}#post-{post.id}")


async def _community_for_moderator(request: web.Request, session, member) -> Community:
    community = await visible_community(request, session, request.match_info["name"])
    if not await moderation.may_moderate(session, community, member.actor_id):
        raise web.HTTPForbidden(text="Only this community's moderators may do that.")
    return community


async def moderation_page(request: web.Request) -> web.Response:
    """A CoP's moderation page: its moderators, bans and recent log, with the forms."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        community = await _community_for_moderator(request, session, member)
        mods = (await moderators(session, community, limit=100)).actors
        bans = await bans_of(session, community.actor_id, utcnow())
        banned = {ban.actor_id: await session.get(Actor, ban.actor_id) for ban in bans}
        log = await moderation_log(session, community_id=community.actor_id, limit=20)
        requests = await private_cops.join_requests(session, community)
    context = {
        "requests": requests,
        "community": community,
        "actor": community.actor,
        "moderators": mods,
        "bans": [(ban, banned[ban.actor_id]) for ban in bans],
        "log": log,
    }
    return aiohttp_jinja2.render_template("community_moderation.html", request, context)


async def _person(request: web.Request, session, form) -> Actor:
    """The person the form names; `_fetch_person` ran before the transaction began."""
    try:
        return await find_person(session, None, str(form.get("person", "")))
    except PersonNotFound as error:
        raise web.HTTPBadRequest(text=str(error)) from None


async def _fetch_person(request: web.Request, form) -> None:
    try:
        await fetch_if_url(request.app[REMOTE], str(form.get("person", "")))
    except PersonNotFound as error:
        raise web.HTTPBadRequest(text=str(error)) from None


async def ban_form(request: web.Request) -> web.Response:
    """Ban (days, or empty for good; optionally removing their posts) or unban a person."""
    member = await require_member(request)
    form = await request.post()
    unbanning = str(form.get("action", "ban")) == "unban"
    days = str(form.get("days", "")).strip()
    if days and (not days.isdigit() or not 0 < int(days) <= MAX_BAN_DAYS):
        raise web.HTTPBadRequest(text=f"A ban lasts 1 to {MAX_BAN_DAYS} days, or for good.")
    now = utcnow()
    await _fetch_person(request, form)
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await _community_for_moderator(request, session, member)
        person = await _person(request, session, form)
        try:
            if unbanning:
                await moderation.unban(
                    session,
                    request.app[URLS],
                    community,
                    member.actor_id,
                    person,
                    reason=_reason(form),
                    now=now,
                )
            else:
                await moderation.ban(
                    session,
                    request.app[URLS],
                    community,
                    member.actor_id,
                    person,
                    reason=_reason(form),
                    expires_at=now + timedelta(days=int(days)) if days else None,
                    remove_content=form.get("remove_content") == "on",
                    now=now,
                )
        except moderation.CannotModerate as error:
            raise web.HTTPBadRequest(text=str(error)) from None
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther(f"/c/{request.match_info['name']}/moderation")


async def moderators_form(request: web.Request) -> web.Response:
    """Add or remove a moderator."""
    member = await require_member(request)
    form = await request.post()
    appointing = str(form.get("action", "add")) != "remove"
    await _fetch_person(request, form)
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await _community_for_moderator(request, session, member)
        person = await _person(request, session, form)
        try:
            await moderation.set_moderator(
                session, request.app[URLS], community, member.actor_id, person, appointing, utcnow()
            )
        except moderation.CannotModerate as error:
            raise web.HTTPBadRequest(text=str(error)) from None
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther(f"/c/{request.match_info['name']}/moderation")


async def privacy_form(request: web.Request) -> web.Response:
    """Make the CoP private (approval-only, members-only) or open."""
    member = await require_member(request)
    form = await request.post()
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await _community_for_moderator(request, session, member)
        await private_cops.set_private(
            session, community, member.actor_id, form.get("private") == "on"
        )
    raise web.HTTPSeeOther(f"/c/{request.match_info['name']}/moderation")


async def join_request_form(request: web.Request) -> web.Response:
    """Approve or decline one request to join."""
    member = await require_member(request)
    form = await request.post()
    await _fetch_person(request, form)
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await _community_for_moderator(request, session, member)
        person = await _person(request, session, form)
        try:
            await private_cops.decide(
                session,
                request.app[URLS],
                community,
                member.actor_id,
                person,
                str(form.get("decision", "")) == "approve",
            )
        except moderation.CannotModerate as error:
            raise web.HTTPBadRequest(text=str(error)) from None
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther(f"/c/{request.match_info['name']}/moderation")
