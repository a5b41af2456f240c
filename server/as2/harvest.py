"""A harvest page as AS2: an `Article` attributed to its CoP and the members who wrote it, its
harvested sources as `Link` tags.

`attributedTo` takes PeerTube's list form, the CoP first: Mastodon takes the first entry as the
account (mastodon app/services/activitypub/fetch_remote_status_service.rb, first_of_value) and
shows an Article as its name, summary and a link (app/lib/activitypub/activity.rb,
CONVERTED_TYPES); Lemmy takes the first Person as the post's creator and the Group as its
community (lemmy crates/apub/src/protocol/objects/page.rs, AttributedTo::Peertube).
"""

from __future__ import annotations

import html

from federation.vocab import AS_CONTEXT, PUBLIC, format_datetime
from models.actors import Actor
from models.harvest import SOURCE_WITHDRAWN, HarvestPage, PageSource
from server.services.harvest_render import plain_markdown, render_page
from server.urls import Urls

HARVEST_NS = "https://copnet.social/ns#"
ARTICLE_CONTEXT = [
    AS_CONTEXT,
    {"copnet": HARVEST_NS, "harvestPage": "copnet:harvestPage", "retired": "copnet:retired"},
]


def source_link(source: PageSource) -> dict:
    """One harvested source as a `Link` tag: where the quote came from and who wrote it."""
    who = source.author_name or "someone"
    if source.author_handle:
        who += f" ({source.author_handle})"
    details = [who]
    if source.community_name:
        details.append(source.community_name)
    if source.posted_at is not None:
        details.append(source.posted_at.strftime("%Y-%m-%d"))
    return {
        "type": "Link",
        "href": source.post_url,
        "rel": ["cite"],
        "mediaType": "text/html",
        "name": " · ".join(details),
    }


def article_object(
    urls: Urls,
    page: HarvestPage,
    *,
    group: Actor,
    editors: list[Actor],
    sources: list[PageSource],
    private: bool = False,
) -> dict:
    """The `Article` of a page written here (sources withdrawn by their authors left out)."""
    group_url = urls.actor(group)
    followers = group_url + "/followers"
    page_url = urls.harvest_page(page.id)
    article = {
        "@context": ARTICLE_CONTEXT,
        "id": page_url,
        "type": "Article",
        "harvestPage": True,
        "name": page.title,
        "content": render_page(page.body, sources),
        "mediaType": "text/html",
        "source": {"content": plain_markdown(page.body, sources), "mediaType": "text/markdown"},
        "attributedTo": [
            {"type": "Group", "id": group_url},
            *({"type": "Person", "id": urls.actor(editor)} for editor in editors),
        ],
        "audience": group_url,
        "to": [followers] if private else [PUBLIC],
        "cc": [group_url] if private else [followers],
        "url": page_url,
        "published": format_datetime(page.created_at),
        "updated": format_datetime(page.updated_at),
        "retired": page.is_retired,
        "tag": [source_link(s) for s in sources if s.state != SOURCE_WITHDRAWN],
    }
    if page.summary:
        article["summary"] = html.escape(page.summary).replace("\n", "<br>")
    return article
