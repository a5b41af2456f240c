"""Members like posts, watch threads and follow CoPs (without joining) on the website."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.base import utcnow
from models.communities import Community
from models.posts import Post
from models.watching import set_watching, subscribe, unsubscribe
from server.appkeys import LIKE_LIMITER, URLS, WRITE_SESSIONS
from server.services.likes import CannotLike, like_post, unlike_post
from server.services.moderation_rules import banned_reason
from server.web.auth import Member, require_member
from server.web.community_access import may_see, visible_community
from server.web.errors import render_error
from server.web.private_access import may_read
from server.web.requests import path_id, wake_workers

# Each like and unlike is an activity sent to other servers.
LIKES_PER_HOUR = 300


async def _readable_post(request: web.Request, session: AsyncSession, post_id: int) -> Post:
    """The post if this member may read it; 404 otherwise, as if it were not there."""
    post = await session.get(Post, post_id)
    community = await session.get(Community, post.community_id) if post is not None else None
    if post is None or (
        community is not None
        and not (
            await may_see(request, session, community)
            and await may_read(request, session, community)
        )
    ):
        raise web.HTTPNotFound(text=f"No post {post_id}.")
    return post


async def _not_banned(session: AsyncSession, member: Member, community_id: int) -> None:
    refused = await banned_reason(session, community_id, member.actor_id, utcnow())
    if refused is not None:
        raise web.HTTPForbidden(text=f"You are {refused}.")


def _back(post: Post) -> str:
    return f"/t/{post.thread_id or post.id}#post-{post.id}"


async def _like(request: web.Request, liking: bool) -> web.StreamResponse:
    member = await require_member(request)
    post_id = path_id(request, "id", "post")
    limiter = request.app[LIKE_LIMITER]
    key = str(member.actor_id)
    wait = await limiter.retry_after(key)
    if wait is not None:
        return render_error(
            request,
            429,
            "You liked and unliked a great many posts this hour. Please try again later.",
            title="Please wait a little",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    await limiter.hit(key)
    async with request.app[WRITE_SESSIONS].begin() as session:
        post = await _readable_post(request, session, post_id)
        await _not_banned(session, member, post.community_id)
        liker = await session.get(Actor, member.actor_id)
        assert liker is not None
        try:
            if liking:
                await like_post(session, request.app[URLS], liker, post, now=utcnow())
            else:
                await unlike_post(session, request.app[URLS], liker, post, now=utcnow())
        except CannotLike as error:
            raise web.HTTPForbidden(text=f"You cannot like it: {error}.") from None
    wake_workers(request.app)
    raise web.HTTPSeeOther(_back(post))


async def like(request: web.Request) -> web.StreamResponse:
    """Like a post (once; liking again changes nothing)."""
    return await _like(request, True)


async def unlike(request: web.Request) -> web.StreamResponse:
    """Take one's like of a post back."""
    return await _like(request, False)


async def _watch(request: web.Request, watching: bool) -> web.Response:
    member = await require_member(request)
    thread_id = path_id(request, "id", "thread")
    async with request.app[WRITE_SESSIONS].begin() as session:
        root = await _readable_post(request, session, thread_id)
        if root.thread_id is not None:
            raise web.HTTPNotFound(text=f"No thread {thread_id}: that is a reply.")
        await set_watching(session, member.actor_id, root.id, watching)
    raise web.HTTPSeeOther(f"/t/{root.id}?watching={'on' if watching else 'off'}")


async def watch(request: web.Request) -> web.Response:
    """Watch a thread: every reply in it notifies you."""
    return await _watch(request, True)


async def unwatch(request: web.Request) -> web.Response:
    """Stop watching a thread (writing in it again does not watch it again)."""
    return await _watch(request, False)


async def follow(request: web.Request) -> web.Response:
    """Follow a CoP without joining it: its new threads notify you."""
    member = await require_member(request)
    name = request.match_info["name"]
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await visible_community(request, session, name)
        await _not_banned(session, member, community.actor_id)
        if not await may_read(request, session, community):
            raise web.HTTPForbidden(
                text="This community is private: ask to join it to read and follow its threads."
            )
        await subscribe(session, member.actor_id, community.actor_id)
    raise web.HTTPSeeOther(f"/c/{name}")


async def unfollow(request: web.Request) -> web.Response:
    """Stop following a CoP's new threads."""
    member = await require_member(request)
    name = request.match_info["name"]
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await visible_community(request, session, name)
        await unsubscribe(session, member.actor_id, community.actor_id)
    raise web.HTTPSeeOther(f"/c/{name}")
