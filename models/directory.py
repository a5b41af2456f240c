"""Read models for the website: the CoP directory, thread lists and memberships."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community, publicly_readable_community
from models.follows import Follow
from models.posts import Post


@dataclass(frozen=True)
class DirectoryEntry:
    """A CoP with the figures shown in the directory."""

    community: Community
    members: int
    threads: int
    last_activity: datetime | None


@dataclass(frozen=True)
class ThreadSummary:
    """A thread's top post with its author, for lists."""

    post: Post
    author: Actor
    community: Actor


async def directory(session: AsyncSession) -> list[DirectoryEntry]:
    """Every active CoP with member and thread counts, most recently active first."""
    members = (
        select(Follow.followed_id, func.count().label("n"))
        .where(Follow.state == "accepted")
        .group_by(Follow.followed_id)
        .subquery()
    )
    threads = (
        select(
            Post.community_id,
            func.count().label("n"),
            func.max(Post.last_activity_at).label("last"),
        )
        .where(Post.thread_id.is_(None), Post.deleted_at.is_(None), Post.removed_at.is_(None))
        .group_by(Post.community_id)
        .subquery()
    )
    query = (
        select(Community, members.c.n, threads.c.n, threads.c.last)
        .join(Community.actor)
        .outerjoin(members, members.c.followed_id == Community.actor_id)
        .outerjoin(threads, threads.c.community_id == Community.actor_id)
        .where(Community.status == "active")
        .order_by(threads.c.last.desc().nulls_last(), Actor.local_name)
    )
    return [
        DirectoryEntry(community, int(m or 0), int(t or 0), last)
        for community, m, t, last in await session.execute(query)
    ]


async def thread_list(
    session: AsyncSession, *, community_id: int | None, limit: int, offset: int = 0
) -> tuple[int, list[ThreadSummary]]:
    """(total, page) of threads, newest activity first; Network-wide when community_id is None."""
    where = [Post.thread_id.is_(None), Post.deleted_at.is_(None), Post.removed_at.is_(None)]
    # Pinned threads lead a CoP's own list; the Network-wide list ignores pins.
    order = [Post.last_activity_at.desc(), Post.id.desc()]
    if community_id is not None:
        where.append(Post.community_id == community_id)
        order.insert(0, Post.pinned_at.is_(None))
    else:  # the Network-wide list is shown to anyone: no private or pending CoP's threads
        where.append(
            Post.community_id.not_in(
                select(Community.actor_id).where(~publicly_readable_community())
            )
        )
    total = await session.scalar(select(func.count()).select_from(Post).where(*where))
    query = (
        select(Post, Actor)
        .join(Actor, Actor.id == Post.author_id)
        .where(*where)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    rows = list(await session.execute(query))
    groups = {
        actor.id: actor
        for actor in await session.scalars(
            select(Actor).where(Actor.id.in_({post.community_id for post, _a in rows}))
        )
    }
    return int(total or 0), [
        ThreadSummary(post, author, groups[post.community_id]) for post, author in rows
    ]


async def member_count(session: AsyncSession, group_id: int) -> int:
    """Accepted members (local and remote followers) of a CoP."""
    query = select(func.count()).where(Follow.followed_id == group_id, Follow.state == "accepted")
    return int(await session.scalar(query) or 0)


async def membership_state(session: AsyncSession, member_id: int, group_id: int) -> str | None:
    """ "accepted", "pending" or None."""
    return await session.scalar(
        select(Follow.state).where(Follow.follower_id == member_id, Follow.followed_id == group_id)
    )


async def groups_of(session: AsyncSession, member_id: int) -> list[tuple[Actor, str]]:
    """The CoPs (here or elsewhere) a member joined, with the membership state."""
    query = (
        select(Actor, Follow.state)
        .join(Follow, and_(Follow.followed_id == Actor.id, Follow.follower_id == member_id))
        .where(Actor.type == "Group")
        .order_by(Actor.display_name)
    )
    return [(actor, state) for actor, state in await session.execute(query)]
