"""A CoP's `featured` collection: the threads its moderators pinned."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community
from models.posts import Post
from server.as2.posts import post_object
from server.urls import Urls

FEATURED_LIMIT = 100


async def featured_items(session: AsyncSession, urls: Urls, community: Community) -> list:
    """Pinned threads, newest pin first: our own embedded (Lemmy reads `Page`s), others by id."""
    pinned = await session.scalars(
        select(Post)
        .where(
            Post.community_id == community.actor_id,
            Post.thread_id.is_(None),
            Post.pinned_at.is_not(None),
            Post.removed_at.is_(None),
            Post.deleted_at.is_(None),
        )
        .order_by(Post.pinned_at.desc())
        .limit(FEATURED_LIMIT)
    )
    items: list = []
    for post in pinned:
        if post.ap_id:
            items.append(post.ap_id)
            continue
        author = await session.get(Actor, post.author_id)
        items.append(post_object(urls, post, author, community.actor, None))
    return items
