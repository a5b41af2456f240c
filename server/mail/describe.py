"""Notification rows in words and links, for mails: one batch of lookups per batch of rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import notifications as kinds
from models.actors import Actor
from models.events import Event
from models.notifications import Notification
from models.posts import Post
from server.mail.address import one_line
from server.urls import Urls

SNIPPET = 80


@dataclass(frozen=True)
class Line:
    """One notification as a mail shows it."""

    kind: str
    text: str
    url: str


async def describe(
    session: AsyncSession, urls: Urls, rows: Sequence[Notification]
) -> dict[int, Line]:
    """Each notification's sentence and link, by notification id."""
    actor_ids = {r.actor_id for r in rows if r.actor_id} | {
        r.community_id for r in rows if r.community_id
    }
    post_ids = {r.post_id for r in rows if r.post_id}
    event_ids = {r.event_id for r in rows if r.event_id}
    actors = await _by_id(session, Actor, actor_ids)
    posts = await _by_id(session, Post, post_ids)
    roots = {p.thread_id for p in posts.values() if p.thread_id} - set(posts)
    posts |= await _by_id(session, Post, roots)  # a reply is named by its thread's title
    events = await _by_id(session, Event, event_ids)
    return {row.id: _line(row, urls, actors, posts, events) for row in rows}


async def _by_id(session: AsyncSession, model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in await session.scalars(select(model).where(model.id.in_(ids)))}


def _who(actor: Actor | None) -> str:
    if actor is None:
        return "Someone"
    name = actor.display_name or actor.local_name or actor.username
    return one_line(name, 60)


def _title(post: Post | None, posts: dict) -> str:
    if post is None:
        return "a post"
    root = posts.get(post.thread_id) if post.thread_id else post
    # A remote reply has no title and, often, no Markdown source: its thread's title names it,
    # as the in-app notifications list does.
    words = (root.title if root else "") or post.title or post.source or ""
    return "“" + (one_line(words, SNIPPET) or "a post") + "”"


def _line(row: Notification, urls: Urls, actors: dict, posts: dict, events: dict) -> Line:
    actor = actors.get(row.actor_id)
    community = actors.get(row.community_id)
    post = posts.get(row.post_id)
    event = events.get(row.event_id)
    where = _who(community) if community else "a CoP"
    link = urls.root
    if post is not None:
        link = urls.thread(post.thread_id or post.id)  # every archived thread has a page here
        if post.thread_id and post.thread_id != post.id:
            link += f"#post-{post.id}"  # a reply: straight to it, as the in-app list links
    elif event is not None:
        link = urls.basecamp(event.id) if event.ap_id is None else (event.url or event.ap_id)
    elif community is not None and community.local_name:
        link = urls.community(community.local_name)
    detail = one_line(row.detail, 200)
    event_name = "“" + one_line(event.name, SNIPPET) + "”" if event else "a Basecamp"
    texts = {
        kinds.REPLY: f"{_who(actor)} replied to your post {_title(post, posts)}",
        kinds.MENTION: f"{_who(actor)} mentioned you in {_title(post, posts)}",
        kinds.LIKE: f"{_who(actor)} liked your post {_title(post, posts)}",
        kinds.NEW_THREAD: f"New thread in {where}: {_title(post, posts)}",
        kinds.WATCHED_REPLY: f"{_who(actor)} replied in {_title(post, posts)}",
        kinds.BASECAMP_CHANGED: f"The Basecamp {event_name} changed",
        kinds.BASECAMP_CANCELLED: f"The Basecamp {event_name} was cancelled",
        kinds.BASECAMP_REMINDER: f"Reminder: the Basecamp {event_name} is coming up",
        kinds.JOIN_REQUEST: f"{_who(actor)} asks to join {where}",
        kinds.REPORT: f"A new report about content in {where}",
    }
    text = texts.get(row.kind, f"Something new on the Network ({row.kind})")
    if detail and row.kind in (kinds.BASECAMP_CHANGED, kinds.REPORT, kinds.BASECAMP_CANCELLED):
        text += f": {detail}"
    if row.kind == kinds.REPORT:
        link = urls.root + "reports"
    if row.kind == kinds.JOIN_REQUEST and community is not None and community.local_name:
        link = urls.community_part(community.local_name, "moderation")
    return Line(kind=row.kind, text=text, url=link)
