"""Posts written on this Network's website, federated exactly like remote ones.

A member's post is a `Create{Note}` by their `Person`; a local CoP then Announces it to its
followers (server.services.distribution), and a remote CoP gets the Create in its inbox.
Every object carries a `Mention` of the CoP so Mastodon replies come back to it.
"""

from __future__ import annotations

import html
import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import AS_CONTEXT, PUBLIC, format_datetime
from models.actors import Actor
from models.communities import Community
from models.posts import Post, add_post
from server.as2.replies import replies_collection
from server.services.distribution import distribute
from server.services.markdown import render_markdown
from server.services.mentions import (
    Mention,
    dumps,
    handle_of,
    link_mentions,
    loads,
    mention_html,
    mention_of,
    merge,
    unlinked,
)
from server.services.post_delivery import author_audience, enqueue_by_audience
from server.urls import Urls

OBJECT_CONTEXT = [
    AS_CONTEXT,
    {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag", "lemmy": "https://join-lemmy.org/ns#"},
]


def group_handle(urls: Urls, group: Actor) -> str:
    """`@name@host` of a CoP, for the visible mention."""
    return handle_of(urls, group)


def post_object(
    urls: Urls,
    post: Post,
    author: Actor,
    group: Actor,
    parent_id: str | None,
    *,
    language: str | None = None,
    microblog: bool = False,
    replies: tuple[int, list[str]] = (0, []),
    private: bool = False,
) -> dict:
    """The AS2 Note of a post written here (a Tombstone once deleted).

    `microblog`: the shape for Mastodon-family software, without `name` (see
    server.services.post_delivery); `replies`: (total, ids of the first page) of its direct
    replies; `private`: a private CoP's posts are addressed to its followers only.
    """
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
    mentions = loads(post.mentions)
    content = federated_content(urls, group, post)
    document = {
        "@context": OBJECT_CONTEXT,
        "id": object_id,
        "type": "Note",
        "attributedTo": urls.actor(author),
        "to": [group_url + "/followers"] if private else [PUBLIC],
        "cc": [group_url]
        if private
        else [group_url, group_url + "/followers", *(m.href for m in mentions)],
        "audience": group_url,
        "context": urls.thread_context(root_id),
        "content": content,
        "mediaType": "text/html",
        "source": {"content": post.source, "mediaType": "text/markdown"},
        "url": f"{urls.thread(root_id)}#post-{post.id}",
        "inReplyTo": parent_id,
        "replies": replies_collection(object_id, *replies),
        "published": format_datetime(post.published),
        "sensitive": post.sensitive,
        "tag": [
            {"type": "Mention", "href": group_url, "name": group_handle(urls, group)},
            *({"type": "Mention", "href": m.href, "name": m.name} for m in mentions),
        ],
    }
    if language:
        document["contentMap"] = {language: content}
    if post.thread_id is None and post.title and not microblog:
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
    # Microblog software shows a reply's addressee only when the text names them.
    hidden = unlinked(post.content_html, loads(post.mentions))
    addressees = f"<p>{' '.join(mention_html(m) for m in hidden)}</p>" if hidden else ""
    return f"{heading}{addressees}{post.content_html}<p>{mention}</p>"


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
    mentions: list[Mention] | None = None,
) -> Post:
    """Archive a member's post and queue its federation; the caller commits.

    A reply addresses the parent's author (cc, a `Mention` and their inbox) as Mastodon and
    Lemmy replies do; `mentions` are the `@name@host` of the text, resolved by the caller.
    """
    top = parent is None
    addressed = list(mentions or [])
    if parent is not None:
        parent_author = await session.get(Actor, parent.author_id)
        if parent_author is not None and parent_author.id != author.id:
            addressed = merge([mention_of(urls, parent_author)], addressed)
    post = Post(
        ap_id=None,
        community_id=group.id,
        author_id=author.id,
        type="Note",
        title=title.strip()[:512] if top else "",
        content_html=link_mentions(render_markdown(body_markdown), addressed),
        source=body_markdown,
        attachments=json.dumps(attachments or []),
        mentions=dumps(addressed),
        published=now,
        last_activity_at=now,
    )
    post = await add_post(session, post, parent)
    parent_id = urls.post_id_of(parent) if parent is not None else None
    language = community.language if community is not None else None
    private = community is not None and community.manually_approves_followers

    def create(activity_id: str, microblog: bool) -> dict:
        note = post_object(
            urls,
            post,
            author,
            group,
            parent_id,
            language=language,
            microblog=microblog,
            private=private,
        )
        return {
            "@context": OBJECT_CONTEXT,
            "id": activity_id,
            "type": "Create",
            "actor": urls.actor(author),
            "to": note["to"],
            "cc": note["cc"],
            "audience": note["audience"],
            "object": note,
            "published": format_datetime(now),
        }

    # A private CoP's post goes to the CoP's members only, never to the author's own followers.
    inboxes = await author_audience(session, author, group, addressed, private=private)
    activity = await enqueue_by_audience(
        session,
        urls,
        author=author,
        type_="Create",
        build=create,
        inboxes=inboxes,
        object_ap_id=urls.post(post.id),
    )
    if community is not None:
        await distribute(
            session,
            urls,
            community,
            activity,
            object_id=urls.post(post.id),
            now=now,
            new_post=True,
            top_level=top,
        )
    return post
