"""Atom feeds (RFC 4287) of threads, replies, members' posts and Basecamps, written by feedgen.

Entry ids are the ActivityPub ids (stable across edits), `updated` follows edits, content is
sanitised again on the way out (server.services.content), and a Basecamp's summary says when,
where and who hosts in plain words (federation.event_documents.describe).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from federation.event_documents import describe
from federation.event_vocab import CANCELLED
from models.actors import Actor
from models.communities import Community
from models.events import Event
from models.feed_queries import FeedPost
from server import __version__
from server.services.basecamp_documents import event_ap_id, facts_of
from server.services.content import sanitize_remote_html
from server.urls import Urls

ATOM_MEDIA_TYPE = "application/atom+xml"
QUIET_SINCE = datetime(2026, 1, 1, tzinfo=UTC)
# Characters XML 1.0 cannot carry (C0 controls but tab and newlines, lone surrogates, U+FFFE/F):
# archived remote text may hold them, and one would make the whole feed unwritable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class FeedHead:
    """What the feed says about itself: its URL (also its id), title, page and fallbacks."""

    url: str
    title: str
    page: str
    subtitle: str = ""
    language: str | None = None
    quiet_since: datetime = QUIET_SINCE  # the feed's `updated` while it has no entries


@dataclass(frozen=True)
class Entry:
    """One entry, already decided: nothing here is looked up while writing."""

    id: str
    title: str
    link: str
    published: datetime
    updated: datetime
    author_name: str
    author_uri: str
    content_html: str
    summary: str = ""


def _name(actor: Actor) -> str:
    return actor.display_name or actor.local_name or actor.username


def post_entry(urls: Urls, item: FeedPost) -> Entry:
    """A thread's top post or a reply, linked to its place in the thread on this Network."""
    post = item.post
    if post.thread_id is None:
        title = post.title or "Untitled"
        link = urls.thread(post.id)
    else:
        title = f"Reply by {_name(item.author)} to “{item.thread_title or 'Untitled'}”"
        link = f"{urls.thread(post.thread_id)}#post-{post.id}"
    return Entry(
        id=urls.post_id_of(post),
        title=title,
        link=link,
        published=post.published,
        updated=post.updated or post.published,
        author_name=_name(item.author),
        author_uri=urls.actor(item.author),
        content_html=sanitize_remote_html(post.content_html),
        summary=post.summary,  # a content warning comes first, as readers show it
    )


def basecamp_entry(urls: Urls, event: Event, organizer: Actor, hosts: Sequence[Community]) -> Entry:
    """A Basecamp: its summary says when, where and who hosts; its content is the description."""
    title = f"Cancelled: {event.name}" if event.status == CANCELLED else event.name
    return Entry(
        id=event_ap_id(urls, event),
        title=title,
        link=event.url or urls.basecamp(event.id),
        published=event.published,
        updated=event.updated,
        author_name=_name(organizer),
        author_uri=urls.actor(organizer),
        content_html=sanitize_remote_html(event.description_html),
        summary=describe(facts_of(urls, event, organizer, hosts)),
    )


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def last_change(head: FeedHead, entries: Sequence[Entry]) -> datetime:
    """The feed's `updated`: its newest entry's, else when it was last quiet."""
    return max((entry.updated for entry in entries), default=head.quiet_since)


def atom_bytes(head: FeedHead, entries: Sequence[Entry], *, network_name: str) -> bytes:
    """The Atom document, entries in the given order (the same input gives the same bytes)."""
    feed = FeedGenerator()
    feed.id(head.url)
    feed.title(_xml(head.title))
    if head.subtitle:
        feed.subtitle(_xml(head.subtitle))
    feed.link(href=head.url, rel="self", type=ATOM_MEDIA_TYPE)
    feed.link(href=head.page, rel="alternate", type="text/html")
    feed.author({"name": _xml(network_name)})
    feed.generator("copnet", version=__version__)
    feed.updated(last_change(head, entries))
    if head.language:
        feed.language(head.language)
    for entry in entries:
        item = feed.add_entry(order="append")
        item.id(entry.id)
        item.title(_xml(entry.title))
        item.link(href=entry.link, rel="alternate", type="text/html")
        item.published(entry.published)
        item.updated(entry.updated)
        item.author({"name": _xml(entry.author_name), "uri": entry.author_uri})
        if entry.summary:
            item.summary(_xml(entry.summary))
        if entry.content_html:
            item.content(_xml(entry.content_html), type="html")
    return feed.atom_str(pretty=True)
