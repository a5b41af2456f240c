"""A post written here as AS2: the Note (or Tombstone) that every server receives or fetches.

Every object carries a `Mention` of the CoP so Mastodon replies come back to it; a reply also
mentions the author it answers. Microblog software gets no `name` (GoToSocial would show it
as a content warning), threadiverse software gets the title and Lemmy's `language` object
(LemmyNet/lemmy crates/apub/objects/src/protocol/note.rs and page.rs, `LanguageTag` in
utils/protocol.rs); everyone gets `contentMap`.
"""

from __future__ import annotations

import html
import json
from datetime import datetime

from federation.vocab import AS_CONTEXT, PUBLIC, format_datetime
from models.account_lifecycle import LANGUAGES
from models.actors import Actor
from models.posts import Post
from server.as2.replies import replies_collection
from server.services.mentions import handle_of, loads, mention_html, unlinked
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
        tag = lemmy_language(language)
        if tag is not None and not microblog:
            document["language"] = tag
    if post.thread_id is None and post.title and not microblog:
        document["name"] = post.title
    if post.updated:
        document["updated"] = format_datetime(post.updated)
    attachments = post_attachments(post)
    if attachments:
        document["attachment"] = attachments
    return document


def lemmy_language(language: str) -> dict | None:
    """Lemmy's `language` ({"identifier", "name"}, both required: Lemmy's Note and Page fail to
    parse without them), by the primary subtag Lemmy's language table knows; None when we
    cannot name it."""
    primary = language.split("-", 1)[0].lower()
    name = LANGUAGES.get(primary)
    return {"identifier": primary, "name": name} if name else None


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


def note_activity(type_: str, activity_id: str, actor_url: str, note: dict, when: datetime) -> dict:
    """A Create or Update carrying a post's Note, addressed as the Note is."""
    return {
        "@context": OBJECT_CONTEXT,
        "id": activity_id,
        "type": type_,
        "actor": actor_url,
        "to": note["to"],
        "cc": note["cc"],
        "audience": note["audience"],
        "object": note,
        "published": format_datetime(when),
    }
