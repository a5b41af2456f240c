"""Posts written on this Network's website, federated exactly like remote ones.

A member's post is a `Create{Note}` by their `Person`; a local CoP then Announces it to its
followers (server.publishing), and a remote CoP gets the Create in its inbox.
Every object carries a `Mention` of the CoP so Mastodon replies come back to it (DESIGN.md §2).
"""

from __future__ import annotations

import html
import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import AS_CONTEXT, PUBLIC, format_datetime
from models.actors import Actor
from models.communities import Community
from models.deliveries import enqueue
from models.follows import follower_inboxes
from models.posts import Post, add_post
from server.markdown import render_markdown
from server.publishing import distribute, new_activity_id
from server.urls import Urls

OBJECT_CONTEXT = [
    AS_CONTEXT,
    {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag", "lemmy": "https://join-lemmy.org/ns#"},
]


def group_handle(urls: Urls, group: Actor) -> str:
    """`@name@host` of a CoP, for the visible mention."""
    if group.ap_id:
        return f"@{group.username}@{group.domain}"
    return f"@{group.local_name}@{urls.base.host_port_subcomponent}"


def post_object(
    urls: Urls,
    post: Post,
    author: Actor,
    group: Actor,
    parent_id: str | None,
    *,
    private: bool = False,
) -> dict:
    """The AS2 Note of a post written here (a Tombstone once deleted); a private CoP's posts are
    addressed to its followers only."""
    object_id = urls.post(post.id)
    if post.is_deleted or post.is_removed:
        return {
            "@context": AS_CONTEXT,
            "id": object_id,
            "type": "Tombstone",
            "formerType": "Note",
            "deleted": format_datetime(post.deleted_at or post.removed_at),
        }
    group_url = urls.actor(group)
    root_id = post.thread_id or post.id
    document = {
        "@context": OBJECT_CONTEXT,
        "id": object_id,
        "type": "Note",
        "attributedTo": urls.actor(author),
        "to": [group_url + "/followers"] if private else [PUBLIC],
        "cc": [group_url] if private else [group_url, group_url + "/followers"],
        "audience": group_url,
        "context": urls.thread_context(root_id),
        "content": federated_content(urls, group, post),
        "mediaType": "text/html",
        "source": {"content": post.source, "mediaType": "text/markdown"},
        "url": f"{urls.thread(root_id)}#post-{post.id}",
        "inReplyTo": parent_id,
        "replies": urls.post(post.id) + "/replies",
        "published": format_datetime(post.published),
        "sensitive": post.sensitive,
        "tag": [{"type": "Mention", "href": group_url, "name": group_handle(urls, group)}],
    }
    if post.thread_id is None and post.title:
        document["name"] = post.title
    if post.updated:
        document["updated"] = format_datetime(post.updated)
    attachments = post_attachments(post)
    if attachments:
        document["attachment"] = attachments
    return document


def post_attachments(post: Post) -> list[dict]:
    """The attachment links stored with a post."""
    return [
        {key: value for key, value in item.items() if value is not None}
        for item in json.loads(post.attachments or "[]")
    ]


def federated_content(urls: Urls, group: Actor, post: Post) -> str:
    """The HTML other servers get: led by the title (Mastodon shows no `name`), ending with
    the CoP's mention (so Mastodon replies reach the CoP). Our own pages show neither."""
    mention = (
        f'<span class="h-card"><a href="{html.escape(urls.actor(group))}" '
        f'class="u-url mention">@<span>{html.escape(group.username)}</span></a></span>'
    )
    top = post.thread_id is None and post.title
    heading = f"<p><strong>{html.escape(post.title)}</strong></p>" if top else ""
    return f"{heading}{post.content_html}<p>{mention}</p>"


async def publish_post(
    session: AsyncSession,
    urls: Urls,
    *,
    author: Actor,
    group: Actor,
    community: Community | None,
    title: str,
    body_markdown: str,
    parent: Post | None,
    now: datetime,
    attachments: list[dict] | None = None,
) -> Post:
    """Archive a member's post and queue its federation; the caller commits."""
    top = parent is None
    post = Post(
        ap_id=None,
        community_id=group.id,
        author_id=author.id,
        type="Note",
        title=title.strip()[:512] if top else "",
        content_html=render_markdown(body_markdown),
        source=body_markdown,
        attachments=json.dumps(attachments or []),
        published=now,
        last_activity_at=now,
    )
    post = await add_post(session, post, parent)
    parent_id = urls.post_id_of(parent) if parent is not None else None
    private = community is not None and community.manually_approves_followers
    note = post_object(urls, post, author, group, parent_id, private=private)
    create = {
        "@context": OBJECT_CONTEXT,
        "id": new_activity_id(urls),
        "type": "Create",
        "actor": urls.actor(author),
        "to": note["to"],
        "cc": note["cc"],
        "audience": note["audience"],
        "object": note,
        "published": format_datetime(now),
    }
    # A private CoP's post goes to the CoP's members only, never to the author's own followers.
    inboxes = (
        [] if private else [inbox for inbox, _domain in await follower_inboxes(session, author.id)]
    )
    if group.ap_id and group.inbox_url:
        inboxes.append(group.inbox_url)
    await enqueue(
        session,
        actor_id=author.id,
        ap_id=create["id"],
        type_="Create",
        document=create,
        inboxes=inboxes,
        object_ap_id=note["id"],
        in_outbox=True,
    )
    if community is not None:
        await distribute(
            session,
            urls,
            community,
            create,
            object_id=note["id"],
            now=now,
            new_post=True,
            top_level=top,
        )
    return post
