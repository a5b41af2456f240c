"""Members like and unlike posts on the website, federated as `Like` and `Undo{Like}`.

The activity goes to the post's author and its CoP when they live elsewhere; a local CoP
announces it to its followers (FEP-1b12), as it does with the Likes other servers send.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community
from models.deliveries import enqueue
from models.posts import Like, Post, add_like, remove_like
from server.as2.activities import new_activity_id
from server.as2.likes import like_document, undo_like_document
from server.services import notify
from server.services.distribution import distribute
from server.urls import Urls


class CannotLike(Exception):
    """The post cannot be liked (deleted or removed)."""


def _like(urls: Urls, activity_id: str, liker: Actor, post: Post, author: Actor, group: Actor):
    return like_document(
        activity_id,
        urls.actor(liker),
        urls.post_id_of(post),
        author_url=urls.actor(author),
        group_url=urls.actor(group),
    )


async def _send(
    session: AsyncSession, urls: Urls, liker: Actor, post: Post, document: dict, now: datetime
) -> None:
    author = await session.get(Actor, post.author_id)
    group = await session.get(Actor, post.community_id)
    inboxes = [
        actor.shared_inbox_url or actor.inbox_url
        for actor in (author, group)
        if actor is not None and not actor.is_local and (actor.shared_inbox_url or actor.inbox_url)
    ]
    await enqueue(
        session,
        actor_id=liker.id,
        ap_id=document["id"],
        type_=document["type"],
        document=document,
        inboxes=inboxes,
        object_ap_id=urls.post_id_of(post),
        now=now,
    )
    community = await session.get(Community, post.community_id)
    await distribute(session, urls, community, document, object_id=urls.post_id_of(post), now=now)


async def like_post(
    session: AsyncSession, urls: Urls, liker: Actor, post: Post, *, now: datetime
) -> bool:
    """Like a post once; False when the member already liked it; no commit."""
    if post.is_deleted or post.is_removed:
        raise CannotLike("this post was deleted or removed")
    activity_id = new_activity_id(urls)
    if not await add_like(session, post, liker.id, activity_id):
        return False
    author = await session.get(Actor, post.author_id)
    group = await session.get(Actor, post.community_id)
    assert author is not None and group is not None
    await _send(
        session, urls, liker, post, _like(urls, activity_id, liker, post, author, group), now
    )
    await notify.post_liked(session, post, liker.id, now=now)
    return True


async def unlike_post(
    session: AsyncSession, urls: Urls, liker: Actor, post: Post, *, now: datetime
) -> bool:
    """Take a like back (Undo of the Like that was sent); False when there was none."""
    like = await session.get(Like, (post.id, liker.id))
    if like is None:
        return False
    like_id = like.activity_ap_id or new_activity_id(urls)
    await remove_like(session, actor_id=liker.id, activity_ap_id=None, post=post)
    author = await session.get(Actor, post.author_id)
    group = await session.get(Actor, post.community_id)
    assert author is not None and group is not None
    sent = _like(urls, like_id, liker, post, author, group)
    undo = undo_like_document(new_activity_id(urls), sent, now)
    await _send(session, urls, liker, post, undo, now)
    return True
