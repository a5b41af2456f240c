"""What the Atom feeds list: only what an anonymous visitor may read, newest first, one query each.

A post is listed when it is neither deleted nor removed (nor its thread removed), its author is
not suspended, and its place is public: a local CoP that is active and not private, or a remote
CoP (only public posts are ever archived from elsewhere: server.activities.create).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.actors import Actor
from models.communities import Community, publicly_readable_community
from models.events import Event
from models.moderation import Suspension
from models.posts import Post

FEED_LIMIT = 50


@dataclass(frozen=True)
class FeedPost:
    """A post with what its entry shows: author, CoP, and the thread's title."""

    post: Post
    author: Actor
    group: Actor
    thread_title: str


_Root = aliased(Post)
_Author = aliased(Actor)
_Group = aliased(Actor)


def _listed(*where) -> Select:
    """Visible posts with author, group and thread title, newest first."""
    suspended = exists().where(Suspension.actor_id == Post.author_id)
    return (
        select(Post, _Author, _Group, _Root.title)
        .join(_Author, _Author.id == Post.author_id)
        .join(_Group, _Group.id == Post.community_id)
        .outerjoin(Community, Community.actor_id == Post.community_id)
        .outerjoin(_Root, _Root.id == Post.thread_id)
        .where(
            Post.deleted_at.is_(None),
            Post.removed_at.is_(None),
            _Root.removed_at.is_(None),
            ~suspended,
            publicly_readable_community(),
            *where,
        )
        .order_by(Post.published.desc(), Post.id.desc())
    )


async def _rows(session: AsyncSession, query: Select, limit: int) -> list[FeedPost]:
    rows = await session.execute(query.limit(limit))
    return [
        FeedPost(post, author, group, root_title if root_title is not None else post.title)
        for post, author, group, root_title in rows
    ]


async def community_threads(
    session: AsyncSession, community_id: int, *, limit: int = FEED_LIMIT
) -> list[FeedPost]:
    """The newest threads started in one CoP."""
    query = _listed(Post.community_id == community_id, Post.thread_id.is_(None))
    return await _rows(session, query, limit)


async def network_threads(session: AsyncSession, *, limit: int = FEED_LIMIT) -> list[FeedPost]:
    """The newest threads started in any of the Network's own CoPs."""
    query = _listed(Post.thread_id.is_(None), Community.actor_id.is_not(None))
    return await _rows(session, query, limit)


async def thread_replies(
    session: AsyncSession, root_id: int, *, limit: int = FEED_LIMIT
) -> list[FeedPost]:
    """The newest replies in one thread, at any depth."""
    return await _rows(session, _listed(Post.thread_id == root_id), limit)


async def member_posts(
    session: AsyncSession, author_id: int, *, limit: int = FEED_LIMIT
) -> list[FeedPost]:
    """The newest threads and replies one member wrote."""
    return await _rows(session, _listed(Post.author_id == author_id), limit)


async def readable_thread(session: AsyncSession, root_id: int) -> tuple[Post, Actor] | None:
    """A thread's top post and its CoP's actor, when anonymous visitors may read the thread."""
    query = (
        select(Post, _Group)
        .join(_Group, _Group.id == Post.community_id)
        .outerjoin(Community, Community.actor_id == Post.community_id)
        .where(
            Post.id == root_id,
            Post.thread_id.is_(None),
            Post.removed_at.is_(None),
            publicly_readable_community(),
        )
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row is not None else None


async def newest_basecamps(
    session: AsyncSession, *, limit: int = FEED_LIMIT
) -> list[tuple[Event, Actor]]:
    """The Network's own Basecamps, newest announced first, with their organiser."""
    query = (
        select(Event, Actor)
        .join(Actor, Actor.id == Event.organizer_id)
        .where(Event.ap_id.is_(None))
        .order_by(Event.published.desc(), Event.id.desc())
        .limit(limit)
    )
    return [(event, organizer) for event, organizer in await session.execute(query)]
