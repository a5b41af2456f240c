"""Threads and what we sent: FEP-7888 context collections, replies, activities by id."""

from __future__ import annotations

import json

import aiohttp_jinja2
from aiohttp import web

from models.actors import Actor, actors_by_ids
from models.communities import Community, anyone_may_read, is_moderator
from models.directory import groups_of, membership_state
from models.harvest_sources import pages_quoting_posts
from models.outbox import activity_body
from models.posts import Post, count_thread_posts, direct_replies, liked_among, thread_posts
from models.watching import is_watching
from server.appkeys import SESSIONS, SETTINGS, URLS
from server.as2.collections import PAGE_SIZE, ordered_collection, ordered_collection_page
from server.as2.replies import (
    REPLIES_PAGE_SIZE,
    replies_collection,
    replies_page,
    standalone,
)
from server.http.errors import http_error
from server.http.negotiation import choose_representation
from server.http.responses import activity_json, page_number
from server.services.moderation import may_moderate
from server.urls import Urls
from server.views.post_documents import served_post_object
from server.web.auth import current_member
from server.web.community_access import may_see
from server.web.feeds import page_feed
from server.web.private_access import may_read

THREAD_PAGE_LIMIT = 500


def _post_id(request: web.Request, key: str = "id") -> int:
    raw = request.match_info[key]
    if not raw.isdigit() or len(raw) > 18:
        raise http_error(404, f"no thread {raw!r}")
    return int(raw)


async def _thread_root(request: web.Request, session, root_id: int) -> Post:
    root = await session.get(Post, root_id)
    if root is None or root.thread_id is not None or not await _visible(request, session, root):
        raise http_error(404, f"no thread {root_id}")
    return root


async def _visible(request: web.Request, session, post: Post) -> bool:
    """Posts of a CoP awaiting approval are seen only by those who may see the CoP."""
    community = await session.get(Community, post.community_id)
    return community is None or (
        await may_see(request, session, community) and await may_read(request, session, community)
    )


async def _harvested_into(request: web.Request, session, post_ids: list[int]) -> dict:
    """The pages that quote each post, leaving out those this reader may not see."""
    shown: dict[int, list] = {}
    for post_id, pages in (await pages_quoting_posts(session, post_ids)).items():
        for page in pages:
            community = await session.get(Community, page.community_id)
            if community is None or (
                await may_see(request, session, community)
                and await may_read(request, session, community)
            ):
                shown.setdefault(post_id, []).append(page)
    return shown


async def thread_context(request: web.Request) -> web.Response:
    """The thread as an OrderedCollection whose first item is the top post (FEP-7888/f228)."""
    urls = request.app[URLS]
    root_id = _post_id(request)
    page = page_number(request)
    async with request.app[SESSIONS]() as session:
        root = await _thread_root(request, session, root_id)
        total = await count_thread_posts(session, root.id)
        collection_id = urls.thread_context(root.id)
        if page is None:
            document = ordered_collection(collection_id, total)
            document["attributedTo"] = urls.actor(await session.get(Actor, root.community_id))
            return activity_json(document)
        posts = await thread_posts(session, root.id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    items = [urls.post_id_of(post) for post in posts]
    return activity_json(
        ordered_collection_page(
            collection_id, page, items, has_next=page * PAGE_SIZE < total, total=total
        )
    )


async def post_replies(request: web.Request) -> web.Response:
    """Direct replies to an archived post, oldest first: the Collection, or `?page=N`."""
    urls = request.app[URLS]
    post_id = _post_id(request)
    page = page_number(request)
    async with request.app[SESSIONS]() as session:
        post = await session.get(Post, post_id)
        if post is None or not await _visible(request, session, post):
            raise http_error(404, f"no post {post_id}")
        total, replies = await direct_replies(
            session,
            post.id,
            limit=REPLIES_PAGE_SIZE,
            offset=((page or 1) - 1) * REPLIES_PAGE_SIZE,
        )
    post_url = urls.post(post_id)
    items = [urls.post_id_of(reply) for reply in replies]
    if page is None:
        return activity_json(standalone(replies_collection(post_url, total, items)))
    has_next = page * REPLIES_PAGE_SIZE < total
    return activity_json(standalone(replies_page(post_url, page, items, has_next=has_next)))


async def thread_page(request: web.Request) -> web.StreamResponse:
    """A thread for people: the whole reply tree; AS2 clients get its first post.

    As Lemmy does (the post at its URL, the thread at `.../context`), so a thread's browser URL
    pasted into a threadiverse search box resolves to the post.
    """
    if choose_representation(request.headers.get("Accept")) == "as2":
        async with request.app[SESSIONS]() as session:
            await _thread_root(request, session, _post_id(request))
        return await local_post(request)
    async with request.app[SESSIONS]() as session:
        root = await _thread_root(request, session, _post_id(request))
        posts = await thread_posts(session, root.id, limit=THREAD_PAGE_LIMIT)
        community = await session.get(Community, root.community_id)
        author_ids = {post.author_id for post in posts}
        authors = await actors_by_ids(session, author_ids)
        member = await current_member(request)
        can_reply = member is not None and (
            community is None
            or await membership_state(session, member.actor_id, root.community_id) == "accepted"
        )
        share_targets = (
            [
                group
                for group, state in await groups_of(session, member.actor_id)
                if state == "accepted" and group.ap_id is None and group.id != root.community_id
            ]
            if member
            else []
        )
        group = await session.get(Actor, root.community_id)
        viewer_moderates = member is not None and await is_moderator(
            session, root.community_id, member.actor_id
        )
        can_moderate = (
            member is not None
            and community is not None
            and await may_moderate(session, community, member.actor_id)
        )
        liked = (
            await liked_among(session, member.actor_id, [post.id for post in posts])
            if member
            else set()
        )
        watching = member is not None and await is_watching(session, member.actor_id, root.id)
        harvested = await _harvested_into(request, session, [post.id for post in posts])
    can_reply = can_reply and root.locked_at is None and not root.is_removed
    children: dict[int | None, list[Post]] = {}
    for post in posts:
        children.setdefault(post.parent_id if post.id != root.id else None, []).append(post)
    context = {
        "settings": request.app[SETTINGS],
        "root": root,
        "community": community,
        "group": group,
        "can_reply": can_reply,
        "moderates": viewer_moderates,
        "can_moderate": can_moderate,
        "reported": request.query.get("reported") == "1",
        "share_targets": share_targets,
        "liked": liked,
        "watching": watching,
        "watch_changed": request.query.get("watching"),
        "harvested": harvested,
        "children": children,
        "authors": authors,
        "urls": request.app[URLS],
        "attachments": lambda post: json.loads(post.attachments or "[]"),
        "feeds": _thread_feeds(request.app[URLS], root, community),
    }
    response = aiohttp_jinja2.render_template("thread.html", request, context)
    response.headers["Vary"] = "Accept"
    return response


def _thread_feeds(urls: Urls, root: Post, community: Community | None) -> list[dict[str, str]]:
    """The replies feed is announced only where anyone may read the thread."""
    if root.is_removed or not anyone_may_read(community):
        return []
    return [page_feed(f"Replies to “{root.title or 'Untitled'}”", urls.thread_feed(root.id))]


async def sent_activity(request: web.Request) -> web.Response:
    """An activity this server sent, exactly as it was delivered."""
    urls = request.app[URLS]
    ap_id = urls.activity(request.match_info["key"])
    async with request.app[SESSIONS]() as session:
        body = await activity_body(session, ap_id)
    if body is None:
        raise http_error(404, "no such activity")
    return activity_json(json.loads(body))


async def local_post(request: web.Request) -> web.StreamResponse:
    """A post written here: its AS2 Note (or Tombstone); people go to its place in the thread."""
    urls = request.app[URLS]
    post_id = _post_id(request)
    representation = choose_representation(request.headers.get("Accept"))
    async with request.app[SESSIONS]() as session:
        post = await session.get(Post, post_id)
        if post is None or not await _visible(request, session, post):
            raise http_error(404, f"no post {post_id}")
        if representation == "html":
            raise web.HTTPFound(f"{urls.thread(post.thread_id or post.id)}#post-{post.id}")
        if post.ap_id is not None:
            raise web.HTTPFound(post.ap_id)  # archived from elsewhere: its origin is canonical
        parent = await session.get(Post, post.parent_id) if post.parent_id else None
        parent_id = urls.post_id_of(parent) if parent is not None else None
        document = await served_post_object(request, session, urls, post, parent_id)
    status = 410 if post.is_deleted or post.is_removed else 200
    return activity_json(document, status=status)
