"""Local members' public faces: the `Person` actor (AS2) and profile page (HTML) at /u/{name}."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from models.account_lifecycle import picture_of
from models.actors import Actor, get_local_actor
from models.follows import count_followers
from models.membership_queries import count_following, memberships
from server.appkeys import MEDIA, SESSIONS, SETTINGS, URLS
from server.as2.actors import person_document, person_icon_url
from server.as2.collections import ordered_collection
from server.http.errors import http_error
from server.http.negotiation import choose_representation
from server.http.responses import activity_json, outbox_response
from server.media.icons import identicon_png
from server.urls import Urls
from server.web.auth import current_member
from server.web.feeds import page_feed


async def _person_or_404(request: web.Request, session) -> Actor:
    name = request.match_info["name"]
    actor = await get_local_actor(session, name)
    if actor is None or actor.type != "Person":
        raise http_error(404, f"no member named {name!r}")
    if actor.gone:
        raise http_error(410, f"the member {name!r} has left this Network")
    return actor


def group_link(urls: Urls, domain: str, group: Actor) -> dict:
    """Where a CoP's name links to on a profile, and its @handle."""
    if group.is_local:
        return {
            "name": group.display_name or group.local_name,
            "href": urls.community(group.local_name or ""),
            "handle": f"@{group.local_name}@{domain}",
        }
    return {
        "name": group.display_name or group.username,
        "href": group.url or group.ap_id,
        "handle": f"@{group.username}@{group.domain}",
    }


async def person(request: web.Request) -> web.StreamResponse:
    """A member: their `Person` for ActivityPub clients, their profile page for people."""
    representation = choose_representation(request.headers.get("Accept"))
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        actor = await _person_or_404(request, session)
        picture = await picture_of(session, actor.id)
        if representation == "as2":
            return activity_json(person_document(actor, urls, picture=picture))
        groups = await memberships(session, actor.id)
    settings = request.app[SETTINGS]
    viewer = await current_member(request)
    context = {
        "settings": settings,
        "actor": actor,
        "handle": f"@{actor.local_name}@{settings.domain}",
        "cops": [group_link(urls, settings.domain, group) for group in groups],
        "is_self": viewer is not None and viewer.actor_id == actor.id,
        "icon_url": person_icon_url(urls, actor.local_name or "", picture),
        "feeds": [
            page_feed(
                f"Posts by {actor.display_name or actor.local_name}",
                urls.person_feed(actor.local_name or ""),
            )
        ],
    }
    response = aiohttp_jinja2.render_template("person.html", request, context)
    response.headers["Vary"] = "Accept, Cookie"
    return response


async def person_icon(request: web.Request) -> web.Response:
    """The member's generated avatar."""
    async with request.app[SESSIONS]() as session:
        actor = await _person_or_404(request, session)
    return web.Response(
        body=identicon_png("u/" + (actor.local_name or "")),
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def person_picture(request: web.Request) -> web.StreamResponse:
    """The member's re-encoded picture; only the digest their account points at is served."""
    sha256 = request.match_info["sha256"]
    async with request.app[SESSIONS]() as session:
        actor = await _person_or_404(request, session)
        current = await picture_of(session, actor.id)
    if current is None or current != sha256:
        raise http_error(404, "no such picture")
    path = request.app[MEDIA].path_for(sha256)
    if not path.is_file():
        raise http_error(404, "no such picture")
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "image/png",
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


async def person_outbox(request: web.Request) -> web.Response:
    """What the member sent (their Creates, Updates...), newest first, paged."""
    async with request.app[SESSIONS]() as session:
        actor = await _person_or_404(request, session)
        collection_id = request.app[URLS].person_part(actor.local_name or "", "outbox")
        return await outbox_response(request, session, actor.id, collection_id)


async def person_followers(request: web.Request) -> web.Response:
    """The member's followers: only the count is public."""
    async with request.app[SESSIONS]() as session:
        actor = await _person_or_404(request, session)
        total = await count_followers(session, actor.id)
    collection_id = request.app[URLS].person_part(actor.local_name or "", "followers")
    return activity_json(ordered_collection(collection_id, total, items=[]))


async def person_following(request: web.Request) -> web.Response:
    """Whom the member follows: only the count is public."""
    async with request.app[SESSIONS]() as session:
        actor = await _person_or_404(request, session)
        total = await count_following(session, actor.id)
    collection_id = request.app[URLS].person_part(actor.local_name or "", "following")
    return activity_json(ordered_collection(collection_id, total, items=[]))
