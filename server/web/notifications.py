"""The notifications page: what happened, newest first, who did it, where, and a link; marking
one or all of them read. A member only ever sees and marks their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor, actors_by_ids
from models.base import utcnow
from models.events import Event
from models.notification_queries import mark_all_read, mark_read, notifications_page
from models.notifications import (
    BASECAMP_CANCELLED,
    BASECAMP_CHANGED,
    BASECAMP_REMINDER,
    JOIN_REQUEST,
    LIKE,
    MENTION,
    NEW_THREAD,
    REPLY,
    REPORT,
    WATCHED_REPLY,
    Notification,
)
from models.posts import Post
from server.appkeys import SESSIONS, WRITE_SESSIONS
from server.web.auth import require_member
from server.web.requests import list_page, path_id

PER_PAGE = 30

_SAYS = {
    REPLY: "replied to your post",
    MENTION: "mentioned you",
    LIKE: "liked your post",
    NEW_THREAD: "started a new thread",
    WATCHED_REPLY: "replied in a thread you watch",
    BASECAMP_CHANGED: "A Basecamp you are going to has changed",
    BASECAMP_CANCELLED: "A Basecamp you are going to is cancelled",
    BASECAMP_REMINDER: "Reminder: a Basecamp you are going to is tomorrow",
    JOIN_REQUEST: "asks to join",
    REPORT: "reported something for the moderators",
}


@dataclass
class Entry:
    """One notification as the page shows it."""

    id: int
    who: str | None
    who_url: str | None
    says: str
    what: str
    link: str
    where: str | None
    where_url: str | None
    detail: str
    when: datetime
    unread: bool


def _name(actor: Actor | None) -> str | None:
    if actor is None:
        return None
    return actor.display_name or actor.username


def _profile(actor: Actor | None) -> str | None:
    if actor is None:
        return None
    if actor.local_name:
        prefix = "/c/" if actor.type == "Group" else "/u/"
        return prefix + actor.local_name
    return actor.url or actor.ap_id


async def _post_words(session: AsyncSession, post: Post) -> tuple[str, str]:
    """(what, link) for a post: its thread's title, or that it is gone."""
    root = post if post.thread_id is None else await session.get(Post, post.thread_id)
    link = f"/t/{post.thread_id or post.id}#post-{post.id}"
    if post.is_deleted:
        return "(this post was deleted)", link
    if post.is_removed:
        return "(this post was removed by a moderator)", link
    return (root.title if root is not None and root.title else "a thread"), link


async def _entries(session: AsyncSession, rows: list[Notification]) -> list[Entry]:
    actors = await actors_by_ids(
        session,
        {row.actor_id for row in rows if row.actor_id}
        | {row.community_id for row in rows if row.community_id},
    )
    entries = []
    for row in rows:
        who = actors.get(row.actor_id) if row.actor_id else None
        group = actors.get(row.community_id) if row.community_id else None
        what, link = "", "/notifications"
        if row.post_id is not None:
            post = await session.get(Post, row.post_id)
            if post is not None:
                what, link = await _post_words(session, post)
        if row.event_id is not None:
            event = await session.get(Event, row.event_id)
            if event is not None:
                what, link = event.name, f"/b/{event.id}"
        if row.kind == JOIN_REQUEST and group is not None and group.local_name:
            what, link = "", f"/c/{group.local_name}/moderation"
        if row.kind == REPORT:
            link = "/reports"
        person = row.kind not in (BASECAMP_CHANGED, BASECAMP_CANCELLED, BASECAMP_REMINDER)
        entries.append(
            Entry(
                id=row.id,
                who=_name(who) if person else None,
                who_url=_profile(who) if person else None,
                says=_SAYS.get(row.kind, row.kind),
                what=what,
                link=link,
                where=_name(group),
                where_url=_profile(group),
                detail=row.detail,
                when=row.created_at,
                unread=row.read_at is None,
            )
        )
    return entries


async def notifications(request: web.Request) -> web.Response:
    """The member's notifications, newest first, a page at a time."""
    member = await require_member(request)
    page = list_page(request)
    async with request.app[SESSIONS]() as session:
        total, rows = await notifications_page(
            session, member.actor_id, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
        )
        entries = await _entries(session, rows)
    context = {
        "entries": entries,
        "page": page,
        "pages": max(1, -(-total // PER_PAGE)),
        "total": total,
        "marked": request.query.get("marked") == "all",
    }
    return aiohttp_jinja2.render_template("notifications.html", request, context)


async def read_one(request: web.Request) -> web.Response:
    """Mark one notification read (only one's own: anyone else's is 404)."""
    member = await require_member(request)
    notification_id = path_id(request, "id", "notification")
    async with request.app[WRITE_SESSIONS].begin() as session:
        if not await mark_read(session, member.actor_id, notification_id, utcnow()):
            raise web.HTTPNotFound(text=f"You have no notification {notification_id}.")
    page = list_page(request)
    raise web.HTTPSeeOther("/notifications" + (f"?page={page}" if page > 1 else ""))


async def read_all(request: web.Request) -> web.Response:
    """Mark every notification read."""
    member = await require_member(request)
    async with request.app[WRITE_SESSIONS].begin() as session:
        await mark_all_read(session, member.actor_id, utcnow())
    raise web.HTTPSeeOther("/notifications?marked=all")
