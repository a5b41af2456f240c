"""Replies to a Basecamp: what Mastodon users write under its Event or poll status.

Mastodon threads a reply under the status it answers and sends `inReplyTo` with that status's
id (mastodon app/serializers/activitypub/note_serializer.rb, in_reply_to), here the Basecamp's
`/b/ID` or its poll `/b/ID/poll`. Those replies are kept in one thread per Basecamp in the
Network actor's CoP, started (by the Network actor) with the first of them, and shown on the
Basecamp's page.
"""

from __future__ import annotations

import html

from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor, actors_by_ids
from models.event_queries import lock_event
from models.events import Event
from models.posts import Post, add_post, thread_posts
from server.services.basecamp_documents import parse_basecamp_url
from server.urls import Urls

SHOWN_REPLIES = 200


def replied_basecamp_id(urls: Urls, in_reply_to: str | None) -> int | None:
    """The Basecamp a reply answers, when `inReplyTo` is its Event or its poll."""
    parsed = parse_basecamp_url(urls, in_reply_to)
    if parsed is None or parsed[1] not in ("", "poll"):
        return None
    return parsed[0]


async def discussion_root(session: AsyncSession, urls: Urls, event_id: int) -> Post | None:
    """The Basecamp's thread, started now if it has none (under the event's lock); no commit."""
    event = await lock_event(session, event_id)
    if event is None or not event.is_basecamp:
        return None
    if event.thread_id is not None:
        root = await session.get(Post, event.thread_id)
        if root is not None:
            return root
    page = html.escape(urls.basecamp(event.id))
    root = Post(
        ap_id=None,
        community_id=event.organizer_id,
        author_id=event.organizer_id,
        type="Note",
        title=event.name[:512],
        content_html=(
            f'<p>Replies to <a href="{page}">{html.escape(event.name)}</a>, '
            "from wherever people answered it.</p>"
        ),
    )
    await add_post(session, root, None)
    event.thread_id = root.id
    return root


async def discussion(session: AsyncSession, event: Event) -> list[tuple[Post, Actor | None]]:
    """The replies to a Basecamp, oldest first, with their authors (deleted ones left out)."""
    if event.thread_id is None:
        return []
    posts = await thread_posts(session, event.thread_id, limit=SHOWN_REPLIES + 1)
    replies = [
        post
        for post in posts
        if post.id != event.thread_id and not post.is_deleted and not post.is_removed
    ]
    authors = await actors_by_ids(session, {post.author_id for post in replies})
    return [(post, authors.get(post.author_id)) for post in replies]
