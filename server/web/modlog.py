"""The public moderation log: per CoP (`/c/NAME/modlog`) and for the Network (`/modlog`).

Who did what, to what, when and why, for people and as AS2 (an OrderedCollection of the
actions in their ActivityStreams types). Reports are not in it, so no reporter is ever named.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from federation.vocab import AS_CONTEXT, format_datetime
from models.actors import Actor
from models.communities import Community
from models.moderation import ModerationAction, moderation_log
from models.posts import Post
from server.appkeys import SESSIONS, URLS
from server.http.negotiation import choose_representation
from server.http.responses import activity_json
from server.urls import Urls
from server.web.community_access import visible_community
from server.web.private_access import may_read

PAGE_SIZE = 50
AS2_TYPES = {
    "remove": "Delete",
    "restore": "Undo",
    "lock": "Lock",
    "unlock": "Undo",
    "pin": "Add",
    "unpin": "Remove",
    "ban": "Block",
    "unban": "Undo",
    "add_moderator": "Add",
    "remove_moderator": "Remove",
}
WORDS = {
    "remove": "removed",
    "restore": "restored",
    "lock": "locked",
    "unlock": "unlocked",
    "pin": "pinned",
    "unpin": "unpinned",
    "ban": "banned",
    "unban": "unbanned",
    "add_moderator": "made a moderator:",
    "remove_moderator": "removed as moderator:",
}


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


async def community_modlog(request: web.Request) -> web.StreamResponse:
    """One CoP's log."""
    async with request.app[SESSIONS]() as session:
        community = await visible_community(request, session, request.match_info["name"])
        name = community.actor.local_name or ""
    path = f"/c/{name}/modlog"
    return await _respond(request, community.actor_id, path, community.actor)


async def network_modlog(request: web.Request) -> web.StreamResponse:
    """The log of every active CoP of the Network."""
    return await _respond(request, None, "/modlog", None)


async def _respond(request: web.Request, community_id: int | None, path: str, group):
    representation = choose_representation(request.headers.get("Accept"))
    page = _page(request)
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        entries = await moderation_log(
            session, community_id=community_id, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
        more = len(entries) > PAGE_SIZE
        entries = entries[:PAGE_SIZE]
        actors, posts = await _related(session, entries)
        # A private CoP's thread titles are for its members, even in the public log.
        for post in list(posts.values()):
            community = await session.get(Community, post.community_id)
            if community is not None and not await may_read(request, session, community):
                posts[post.id] = None
    if representation == "as2":
        return activity_json(_collection(urls, path, page, more, entries, actors, posts))
    context = {
        "group": group,
        "entries": entries,
        "actors": actors,
        "posts": posts,
        "words": WORDS,
        "page": page,
        "more": more,
        "urls": urls,
    }
    response = aiohttp_jinja2.render_template("modlog.html", request, context)
    response.headers["Vary"] = "Accept"
    return response


async def _related(session, entries: list[ModerationAction]) -> tuple[dict, dict]:
    actor_ids = {
        i for e in entries for i in (e.moderator_id, e.target_actor_id, e.community_id) if i
    }
    post_ids = {e.target_post_id for e in entries if e.target_post_id}
    actors = {a.id: a for a in await session.scalars(select(Actor).where(Actor.id.in_(actor_ids)))}
    posts = {p.id: p for p in await session.scalars(select(Post).where(Post.id.in_(post_ids)))}
    return actors, posts


def _collection(urls: Urls, path: str, page: int, more: bool, entries, actors, posts) -> dict:
    collection_id = urls.root.rstrip("/") + path
    items = []
    for entry in entries:
        item: dict = {
            "type": AS2_TYPES[entry.action],
            "name": entry.action,
            "published": format_datetime(entry.created_at),
            "target": urls.actor(actors[entry.community_id]),
        }
        if entry.moderator_id in actors:
            item["actor"] = urls.actor(actors[entry.moderator_id])
        post = posts.get(entry.target_post_id)
        person = actors.get(entry.target_actor_id)
        if entry.target_post_id in posts and post is None:
            item["object"] = urls.post(entry.target_post_id)  # a private CoP's: the id only
        elif post is not None:
            item["object"] = urls.post_id_of(post)
        elif person is not None:
            item["object"] = urls.actor(person)
        if entry.reason:
            item["summary"] = entry.reason
        if entry.expires_at is not None:
            item["endTime"] = format_datetime(entry.expires_at)
        items.append(item)
    document = {
        "@context": AS_CONTEXT,
        "id": f"{collection_id}?page={page}" if page > 1 else collection_id,
        "type": "OrderedCollectionPage" if page > 1 else "OrderedCollection",
        "orderedItems": items,
    }
    if more:
        document["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        document["partOf"] = collection_id
    return document
