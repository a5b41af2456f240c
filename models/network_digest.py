"""What the weekly Network digest tells: new CoPs, busiest threads, new documents, Basecamps.

Only what anyone may read: local CoPs that are active, listed (`discoverable`) and open (not
approval-only, whose posts are for members only); Basecamps of ours that are not cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community
from models.documents import Document
from models.events import CANCELLED, Event
from models.posts import Post


@dataclass(frozen=True)
class DigestCoP:
    name: str
    title: str


@dataclass(frozen=True)
class DigestThread:
    post_id: int
    title: str
    community: str
    replies: int


@dataclass(frozen=True)
class DigestDocument:
    document_id: int
    title: str
    community: str


@dataclass(frozen=True)
class DigestBasecamp:
    event_id: int
    name: str
    starts_at: datetime


def _open_cops():
    return (
        select(Community.actor_id)
        .join(Actor, Actor.id == Community.actor_id)
        .where(
            Community.status == "active",
            Community.discoverable.is_(True),
            Community.manually_approves_followers.is_(False),
            Actor.local_name.is_not(None),
        )
    )


async def new_cops(session: AsyncSession, since: datetime, limit: int = 10) -> list[DigestCoP]:
    """CoPs started since `since`, newest first."""
    query = (
        select(Actor.local_name, Actor.display_name)
        .join(Community, Community.actor_id == Actor.id)
        .where(Actor.id.in_(_open_cops()), Community.created_at >= since)
        .order_by(Community.created_at.desc())
        .limit(limit)
    )
    return [DigestCoP(name=row[0], title=row[1] or row[0]) for row in await session.execute(query)]


async def busiest_threads(
    session: AsyncSession, since: datetime, limit: int = 5
) -> list[DigestThread]:
    """The threads with the most replies written since `since`."""
    replies = (
        select(Post.thread_id.label("root_id"), func.count().label("replies"))
        .where(
            Post.thread_id.is_not(None),
            Post.published >= since,
            Post.deleted_at.is_(None),
            Post.removed_at.is_(None),
        )
        .group_by(Post.thread_id)
        .subquery()
    )
    query = (
        select(Post.id, Post.title, Post.source, Actor.display_name, replies.c.replies)
        .join(replies, replies.c.root_id == Post.id)
        .join(Actor, Actor.id == Post.community_id)
        .where(
            Post.community_id.in_(_open_cops()),
            Post.deleted_at.is_(None),
            Post.removed_at.is_(None),
        )
        .order_by(replies.c.replies.desc(), Post.id)
        .limit(limit)
    )
    return [
        DigestThread(post_id=row[0], title=row[1] or row[2] or "", community=row[3], replies=row[4])
        for row in await session.execute(query)
    ]


async def new_documents(
    session: AsyncSession, since: datetime, limit: int = 10
) -> list[DigestDocument]:
    """Documents shared since `since`, newest first."""
    query = (
        select(Document.id, Document.title, Actor.display_name)
        .join(Actor, Actor.id == Document.community_id)
        .where(
            Document.community_id.in_(_open_cops()),
            Document.created_at >= since,
            Document.deleted_at.is_(None),
        )
        .order_by(Document.created_at.desc())
        .limit(limit)
    )
    return [
        DigestDocument(document_id=row[0], title=row[1], community=row[2])
        for row in await session.execute(query)
    ]


async def upcoming_basecamps(
    session: AsyncSession, start: datetime, end: datetime, limit: int = 10
) -> list[DigestBasecamp]:
    """Our Basecamps starting between `start` and `end`, soonest first."""
    query = (
        select(Event.id, Event.name, Event.starts_at)
        .where(
            and_(Event.ap_id.is_(None), Event.status != CANCELLED),
            Event.starts_at >= start,
            Event.starts_at < end,
        )
        .order_by(Event.starts_at)
        .limit(limit)
    )
    return [
        DigestBasecamp(event_id=row[0], name=row[1], starts_at=row[2])
        for row in await session.execute(query)
    ]
