"""Finding the local CoPs and archived posts an activity talks about."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community, get_community
from models.posts import Post, get_post_by_ap_id
from server.activities.base import Context, Reject


async def addressed_community(
    ctx: Context, session: AsyncSession, urls: Iterable[str]
) -> Community | None:
    """The first local CoP among the recipients (its id or its followers collection)."""
    for url in urls:
        local = ctx.urls.parse_local(url)
        if local is not None and local[0] == "c":
            community = await get_community(session, local[1])
            if community is not None:
                return require_active(community)
    return None


def require_active(community: Community) -> Community:
    """The CoP, unless it awaits an admin's approval: until then it takes nothing from outside."""
    if community.status != "active":
        raise Reject(f"community {community.actor.local_name} is awaiting approval")
    return community


async def archived_post(ctx: Context, session: AsyncSession, ap_id: str | None) -> Post | None:
    """An archived post by its ActivityPub id, remote or one of ours."""
    if not ap_id:
        return None
    local = ctx.urls.parse_local(ap_id)
    if local is not None and local[0] == "p":
        # Ids are 64-bit: a longer number names no post (and would overflow the query).
        if not local[1].isdigit() or len(local[1]) > 18:
            return None
        return await session.get(Post, int(local[1]))
    return await get_post_by_ap_id(session, ap_id)


async def community_of(session: AsyncSession, post: Post) -> Community | None:
    """The local CoP a post belongs to (None for posts of a remote CoP we follow)."""
    return await session.get(Community, post.community_id)


async def author_of(session: AsyncSession, post: Post) -> Actor:
    """The actor who wrote a post."""
    author = await session.get(Actor, post.author_id)
    assert author is not None
    return author
