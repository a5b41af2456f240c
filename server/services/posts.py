"""Posts written on this Network's website, federated exactly like remote ones.

A member's post is a `Create{Note}` by their `Person`; a local CoP then Announces it to its
followers (server.services.distribution), and a remote CoP gets the Create in its inbox.
Every object carries a `Mention` of the CoP so Mastodon replies come back to it.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.account_lifecycle import language_of_post
from models.actors import Actor
from models.communities import Community
from models.posts import Post, add_post
from server.as2.posts import note_activity, post_object
from server.services import notify
from server.services.distribution import distribute
from server.services.markdown import render_markdown
from server.services.mentions import (
    Mention,
    dumps,
    link_mentions,
    mention_of,
    merge,
)
from server.services.post_delivery import author_audience, enqueue_by_audience
from server.urls import Urls


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
    await notify.post_published(session, post, mentioned=[m.href for m in addressed], now=now)
    parent_id = urls.post_id_of(parent) if parent is not None else None
    language = await language_of_post(session, author.id, community)
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
        return note_activity("Create", activity_id, urls.actor(author), note, now)

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
