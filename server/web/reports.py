"""Reports on the website: any member reports a post, thread or document; moderators see their
CoPs' open reports (admins all) and resolve each by removing, banning or dismissing."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from models.actors import Actor
from models.base import utcnow
from models.communities import Community, CommunityModerator
from models.documents import Document
from models.posts import Post
from models.reports import Report, open_reports
from server.appkeys import DELIVERY, SESSIONS, URLS, WRITE_SESSIONS
from server.services import moderation, reports
from server.web.auth import require_member
from server.web.community_access import may_see
from server.web.requests import wake_workers

MAX_BAN_DAYS = 3650


def _number(raw) -> int | None:
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) <= 18 else None


async def report(request: web.Request) -> web.Response:
    """Report a post (`kind=post`) or a document (`kind=document`) with a reason."""
    member = await require_member(request)
    form = await request.post()
    kind = str(form.get("kind", "post"))
    number = _number(form.get("id"))
    reason = str(form.get("reason", "")).strip()[: reports.REASON_LIMIT]
    if kind not in ("post", "document") or number is None:
        raise web.HTTPBadRequest(text="Say what you report: a post or a document, by number.")
    if not reason:
        raise web.HTTPBadRequest(text="Say why you report it; the moderators read it.")
    async with request.app[WRITE_SESSIONS].begin() as session:
        document = await session.get(Document, number) if kind == "document" else None
        post_id = document.post_id if document is not None else number
        post = await session.get(Post, post_id) if post_id else None
        community = await session.get(Community, post.community_id) if post else None
        if (
            post is None
            or post.is_deleted
            or (kind == "document" and (document is None or document.deleted_at is not None))
            or (community is not None and not await may_see(request, session, community))
        ):
            raise web.HTTPNotFound(text=f"No such {kind}.")
        reporter = await session.get(Actor, member.actor_id)
        await reports.report_post(
            session, request.app[URLS], reporter, post, reason, utcnow(), document=document
        )
    wake_workers(request.app)
    back = f"/d/{number}" if kind == "document" else f"/t/{post.thread_id or post.id}"
    raise web.HTTPSeeOther(f"{back}?reported=1")


async def report_queue(request: web.Request) -> web.Response:
    """The open reports this member may resolve."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        mine = await open_reports(session, moderator_id=member.actor_id, admin=member.is_admin)
        moderates = member.is_admin or bool(
            await session.scalar(
                select(CommunityModerator.actor_id)
                .where(CommunityModerator.actor_id == member.actor_id)
                .limit(1)
            )
        )
        if not moderates:
            raise web.HTTPForbidden(text="Only moderators and admins have a report queue.")
        post_ids = {r.post_id for r in mine if r.post_id}
        actor_ids = {i for r in mine for i in (r.community_id, r.target_actor_id) if i}
        posts = {p.id: p for p in await session.scalars(select(Post).where(Post.id.in_(post_ids)))}
        actors = {
            a.id: a for a in await session.scalars(select(Actor).where(Actor.id.in_(actor_ids)))
        }
    context = {"reports": mine, "posts": posts, "actors": actors, "urls": request.app[URLS]}
    return aiohttp_jinja2.render_template("reports.html", request, context)


async def resolve_report(request: web.Request) -> web.Response:
    """Resolve one report: remove, ban (days, or for good) or dismiss."""
    member = await require_member(request)
    form = await request.post()
    days = str(form.get("days", "")).strip()
    if days and (not days.isdigit() or not 0 < int(days) <= MAX_BAN_DAYS):
        raise web.HTTPBadRequest(text=f"A ban lasts 1 to {MAX_BAN_DAYS} days, or for good.")
    async with request.app[WRITE_SESSIONS].begin() as session:
        found = await session.get(Report, int(request.match_info["id"]))
        if found is None:
            raise web.HTTPNotFound(text="No such report.")
        try:
            await reports.resolve(
                session,
                request.app[URLS],
                found,
                member.actor_id,
                str(form.get("resolution", "")),
                str(form.get("reason", "")).strip(),
                utcnow(),
                ban_days=int(days) if days else None,
            )
        except moderation.NotAllowed as error:
            raise web.HTTPForbidden(text=str(error)) from None
        except moderation.CannotModerate as error:
            raise web.HTTPBadRequest(text=str(error)) from None
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther("/reports")
