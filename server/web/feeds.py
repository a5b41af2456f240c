"""Atom feeds for feed readers: a CoP's threads, a thread's replies, the Network's new threads,
its Basecamps and a member's posts (routes in server/routes.py, URLs in server/urls.py).

Feed readers are anonymous, so a feed never looks at who asks: it lists what a visitor who is
not signed in may read (models.feed_queries), and leaves out authors on suspended domains.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from models import feed_queries
from models.actors import Actor, get_local_actor
from models.communities import anyone_may_read, get_community
from models.event_queries import hosts_of
from models.policy_queries import InvalidDomain, PolicySnapshot, normalize_domain
from server.appkeys import POLICY, SESSIONS, SETTINGS, URLS
from server.http.conditional import conditional_response
from server.http.errors import http_error
from server.peers.policy import block_reason
from server.services.feeds import (
    ATOM_MEDIA_TYPE,
    FeedHead,
    atom_bytes,
    basecamp_entry,
    last_change,
    post_entry,
)

AS_FEED = {"type": ATOM_MEDIA_TYPE}


def _on_blocked_domain(snapshot: PolicySnapshot, author: Actor) -> bool:
    if author.domain is None:
        return False
    try:
        return block_reason(snapshot, normalize_domain(author.domain)) is not None
    except InvalidDomain:
        return True  # a host we cannot read is not one we vouch for


async def _post_feed(
    request: web.Request, head: FeedHead, items: Sequence[feed_queries.FeedPost]
) -> web.Response:
    urls = request.app[URLS]
    snapshot = await request.app[POLICY].snapshot()
    entries = [
        post_entry(urls, item) for item in items if not _on_blocked_domain(snapshot, item.author)
    ]
    return _respond(request, head, entries)


def _respond(request: web.Request, head: FeedHead, entries) -> web.Response:
    body = atom_bytes(head, entries, network_name=request.app[SETTINGS].instance_name)
    return conditional_response(
        request, body, content_type=ATOM_MEDIA_TYPE, last_modified=last_change(head, entries)
    )


async def community_feed(request: web.Request) -> web.Response:
    """/c/{name}/threads.atom: the newest threads of a CoP anyone may read."""
    name = request.match_info["name"]
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        community = await get_community(session, name)
        if community is None or community.status != "active":
            raise http_error(404, f"no community named {name!r}")
        if not anyone_may_read(community):
            raise http_error(404, f"{name} is a private community: it has no public feed")
        items = await feed_queries.community_threads(session, community.actor_id)
    actor = community.actor
    head = FeedHead(
        url=urls.community_feed(name),
        title=f"{actor.display_name or name}: new threads",
        page=urls.community(name),
        subtitle=actor.summary_source,
        language=community.language,
        quiet_since=community.created_at,
    )
    return await _post_feed(request, head, items)


def _thread_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise http_error(404, f"no thread {raw!r}")
    return int(raw)


async def thread_feed(request: web.Request) -> web.Response:
    """/t/{id}/replies.atom: the newest replies of a thread anyone may read."""
    root_id = _thread_id(request)
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        found = await feed_queries.readable_thread(session, root_id)
        if found is None:
            raise http_error(404, f"no thread {root_id} that anyone may read")
        root, group = found
        items = await feed_queries.thread_replies(session, root.id)
    title = root.title or "Untitled"
    head = FeedHead(
        url=urls.thread_feed(root.id),
        title=f"Replies to “{title}” in {group.display_name or group.username}",
        page=urls.thread(root.id),
        quiet_since=root.published,
    )
    return await _post_feed(request, head, items)


async def network_feed(request: web.Request) -> web.Response:
    """/threads.atom: the newest threads across the Network's CoPs."""
    urls = request.app[URLS]
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        items = await feed_queries.network_threads(session)
    head = FeedHead(
        url=urls.network_feed(),
        title=f"{settings.instance_name}: new threads",
        page=urls.root,
        subtitle="New threads in every Community of Practice of the Network",
    )
    return await _post_feed(request, head, items)


async def person_feed(request: web.Request) -> web.Response:
    """/u/{name}/posts.atom: the newest threads and replies a member wrote where anyone reads."""
    name = request.match_info["name"]
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        actor = await get_local_actor(session, name)
        if actor is None or actor.type != "Person":
            raise http_error(404, f"no member named {name!r}")
        if actor.gone:
            raise http_error(410, f"the member {name!r} has left this Network")
        items = await feed_queries.member_posts(session, actor.id)
    head = FeedHead(
        url=urls.person_feed(name),
        title=f"Posts by {actor.display_name or name}",
        page=urls.person(name),
        quiet_since=actor.published,
    )
    return await _post_feed(request, head, items)


async def basecamps_feed(request: web.Request) -> web.Response:
    """/basecamps.atom: the Network's Basecamps, newest announced first."""
    urls = request.app[URLS]
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        events = await feed_queries.newest_basecamps(session)
        hosts = await hosts_of(session, [event.id for event, _organizer in events])
    entries = [
        basecamp_entry(urls, event, organizer, hosts[event.id]) for event, organizer in events
    ]
    head = FeedHead(
        url=urls.basecamps_feed(),
        title=f"{settings.instance_name}: Basecamps",
        page=urls.basecamps(),
        subtitle="Events of the Network, with when and where in each summary",
    )
    return _respond(request, head, entries)


def page_feed(title: str, href: str) -> dict[str, str]:
    """A feed a page announces with <link rel="alternate"> (base.html) and a visible link."""
    return {"title": title, "href": href, **AS_FEED}
