"""Members edit and delete their own posts; admins delete any post.

An edit keeps the earlier wording (models.post_revisions), federates as `Update` by the author
and is announced by the CoP; a deletion leaves a Tombstone (the thread keeps the post's place,
search forgets it, its revisions go) and federates as `Delete` by the author. Mastodon only
applies an Update or Delete sent by the post's author (`ActivityPub::Activity::Update`,
`::Delete` check the actor against the status's account), so the author's activity also goes
straight to the microblog servers that follow the CoP; threadiverse followers get the CoP's
FEP-1b12 Announce of it, as for new posts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import AS_CONTEXT, PUBLIC, format_datetime
from models.account_lifecycle import language_of_post
from models.actors import Actor
from models.communities import Community
from models.deliveries import enqueue
from models.follows import follower_inboxes
from models.harvest_sources import source_withdrawn
from models.post_revisions import PostDeleted, delete_revisions, edit_post
from models.posts import Post, tombstone_post
from server.as2.activities import new_activity_id
from server.as2.posts import note_activity, post_object
from server.services import notify
from server.services.distribution import distribute
from server.services.markdown import render_markdown
from server.services.mentions import Mention, dumps, link_mentions, loads, merge
from server.services.post_delivery import author_audience, enqueue_by_audience
from server.urls import Urls

__all__ = ["NotYours", "PostDeleted", "delete_post", "edit_own_post", "may_change"]


class NotYours(PermissionError):
    """Only a post's author may edit or delete it on the web."""


def may_change(post: Post, actor_id: int) -> bool:
    """A member may change a post they wrote here, while it is not deleted."""
    return post.ap_id is None and post.author_id == actor_id and not post.is_deleted


async def _parent_id(session: AsyncSession, urls: Urls, post: Post) -> str | None:
    parent = await session.get(Post, post.parent_id) if post.parent_id else None
    return urls.post_id_of(parent) if parent is not None else None


async def edit_own_post(
    session: AsyncSession,
    urls: Urls,
    *,
    post: Post,
    editor: Actor,
    title: str,
    body_markdown: str,
    mentions: list[Mention],
    now: datetime,
) -> Post:
    """Apply a member's edit of their post and queue its federation; the caller commits."""
    if post.ap_id is not None or post.author_id != editor.id:
        raise NotYours("only the author may edit a post")
    addressed = merge(loads(post.mentions), mentions)
    await edit_post(
        session,
        post,
        title=title.strip()[:512] or post.title,
        source=body_markdown,
        content_html=link_mentions(render_markdown(body_markdown), addressed),
        now=now,
    )
    post.mentions = dumps(addressed)
    await notify.post_edited(session, post, mentioned=[m.href for m in mentions], now=now)
    group = await session.get(Actor, post.community_id)
    community = await session.get(Community, post.community_id)
    parent_id = await _parent_id(session, urls, post)
    language = await language_of_post(session, editor.id, community)
    private = community is not None and community.manually_approves_followers

    def update(activity_id: str, microblog: bool) -> dict:
        note = post_object(
            urls,
            post,
            editor,
            group,
            parent_id,
            language=language,
            microblog=microblog,
            private=private,
        )
        return note_activity("Update", activity_id, urls.actor(editor), note, now)

    inboxes = await author_audience(
        session,
        editor,
        group,
        addressed,
        community_microblogs=community is not None,
        private=private,
    )
    activity = await enqueue_by_audience(
        session,
        urls,
        author=editor,
        type_="Update",
        build=update,
        inboxes=inboxes,
        object_ap_id=urls.post(post.id),
    )
    await distribute(session, urls, community, activity, object_id=urls.post(post.id), now=now)
    return post


async def delete_post(
    session: AsyncSession,
    urls: Urls,
    *,
    post: Post,
    now: datetime,
    by: Actor | None,
    reason: str = "",
) -> Post:
    """Tombstone a post and queue its `Delete`; `by` is the author on the web, None for an
    admin at the command line. The caller commits."""
    if by is not None and (post.ap_id is not None or post.author_id != by.id):
        raise NotYours("only the author may delete a post")
    if post.is_deleted:
        raise PostDeleted(f"post {post.id} is already deleted")
    mentions = loads(post.mentions)
    await tombstone_post(session, post, now)
    await source_withdrawn(session, post.id)
    await delete_revisions(session, post.id)
    await session.flush()
    group = await session.get(Actor, post.community_id)
    community = await session.get(Community, post.community_id)
    object_id = urls.post_id_of(post)
    if post.ap_id is not None:
        # Someone else's server holds the original: the CoP tells its followers it is gone here.
        if community is not None:
            await _group_delete(session, urls, community, object_id, reason, now)
        return post
    author = await session.get(Actor, post.author_id)
    group_url = urls.actor(group)

    def delete(activity_id: str, _microblog: bool) -> dict:
        document = {
            "@context": AS_CONTEXT,
            "id": activity_id,
            "type": "Delete",
            "actor": urls.actor(author),
            "to": [PUBLIC],
            "cc": [group_url, group_url + "/followers", *(m.href for m in mentions)],
            "audience": group_url,
            "object": {"id": object_id, "type": "Tombstone"},
            "published": format_datetime(now),
        }
        if reason:
            document["summary"] = reason
        return document

    inboxes = await author_audience(
        session, author, group, mentions, community_microblogs=community is not None
    )
    activity = await enqueue_by_audience(
        session,
        urls,
        author=author,
        type_="Delete",
        build=delete,
        inboxes=inboxes,
        object_ap_id=object_id,
    )
    await distribute(session, urls, community, activity, object_id=object_id, now=now)
    return post


async def _group_delete(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    object_id: str,
    reason: str,
    now: datetime,
) -> None:
    """The CoP's own `Delete` of a remote post it archived (a moderator's removal)."""
    community_url = urls.actor(community.actor)
    document = {
        "@context": AS_CONTEXT,
        "id": new_activity_id(urls),
        "type": "Delete",
        "actor": community_url,
        "to": [PUBLIC],
        "cc": [community_url + "/followers"],
        "object": object_id,
        "published": format_datetime(now),
    }
    if reason:
        document["summary"] = reason
    followers = await follower_inboxes(session, community.actor_id)
    await enqueue(
        session,
        actor_id=community.actor_id,
        ap_id=document["id"],
        type_="Delete",
        document=document,
        inboxes=[inbox for inbox, _domain in followers],
        object_ap_id=object_id,
        in_outbox=True,
    )
