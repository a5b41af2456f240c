"""Local actors and their collections, each negotiating AS2 JSON or HTML."""

from __future__ import annotations

from aiohttp import web

from models.actors import ensure_instance_actor
from models.base import utcnow
from models.communities import Community, moderators
from models.event_queries import list_events
from models.follows import count_followers
from server.appkeys import SESSIONS, SETTINGS, URLS
from server.as2.actors import INSTANCE_COLLECTIONS, group_document, instance_actor_document
from server.as2.collections import PAGE_SIZE, ordered_collection, ordered_collection_page
from server.http.errors import http_error
from server.http.negotiation import choose_representation
from server.http.responses import activity_json, outbox_response, page_number
from server.media.icons import identicon_png
from server.services.basecamp_documents import event_ap_id
from server.services.featured import featured_items
from server.web.communities import community_page
from server.web.community_access import visible_community
from server.web.private_access import may_read

# Small collections are inlined: Lemmy reads moderators and featured without paging.
INLINE_LIMIT = 100


async def instance_actor(request: web.Request) -> web.StreamResponse:
    """The instance `Application` actor; browsers are sent to the home page."""
    if choose_representation(request.headers.get("Accept")) == "html":
        raise web.HTTPFound("/")
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        actor = await ensure_instance_actor(session)
        await session.commit()
    document = instance_actor_document(actor, request.app[URLS], name=settings.instance_name)
    return activity_json(document)


async def instance_collection(request: web.Request) -> web.Response:
    """The instance actor publishes, pins and follows nothing: each collection is empty."""
    part = request.match_info["part"]
    if part not in INSTANCE_COLLECTIONS:
        raise http_error(404, f"the instance actor has no {part!r} collection")
    return activity_json(
        ordered_collection(request.app[URLS].instance_actor_part(part), 0, items=[])
    )


async def _community_or_404(request: web.Request, session) -> Community:
    return await visible_community(request, session, request.match_info["name"])


async def community_actor(request: web.Request) -> web.StreamResponse:
    """A CoP: its `Group` document for ActivityPub clients, its page for people."""
    representation = choose_representation(request.headers.get("Accept"))
    async with request.app[SESSIONS]() as session:
        community = await _community_or_404(request, session)
        if representation == "as2":
            return activity_json(group_document(community, request.app[URLS]))
    return await community_page(request, community)


async def community_icon(request: web.Request) -> web.Response:
    """The CoP's generated avatar."""
    async with request.app[SESSIONS]() as session:
        community = await _community_or_404(request, session)
    png = identicon_png(community.actor.local_name or "")
    return web.Response(
        body=png, content_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
    )


async def community_outbox(request: web.Request) -> web.Response:
    """The CoP's Announces (FEP-1b12 form), newest first, paged."""
    async with request.app[SESSIONS]() as session:
        community = await _community_or_404(request, session)
        if not await may_read(request, session, community):
            raise http_error(404, "this community's outbox is for its members")
        collection_id = request.app[URLS].community_part(community.actor.local_name or "", "outbox")
        return await outbox_response(request, session, community.actor_id, collection_id)


async def community_followers(request: web.Request) -> web.Response:
    """The CoP's followers: only the count is public."""
    async with request.app[SESSIONS]() as session:
        community = await _community_or_404(request, session)
        total = await count_followers(session, community.actor_id)
    collection_id = request.app[URLS].community_part(community.actor.local_name or "", "followers")
    return activity_json(ordered_collection(collection_id, total, items=[]))


async def community_featured(request: web.Request) -> web.Response:
    """Threads the moderators pinned (inlined, as Lemmy expects)."""
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        community = await _community_or_404(request, session)
        items = await featured_items(session, urls, community)
    collection_id = urls.community_part(community.actor.local_name or "", "featured")
    return activity_json(ordered_collection(collection_id, len(items), items=items))


async def community_events(request: web.Request) -> web.Response:
    """The CoP's `upcomingEvents` (FEP-8a8e): Basecamps it hosts and events posted into it,
    not yet over, soonest first, inlined (the first INLINE_LIMIT)."""
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        community = await _community_or_404(request, session)
        events = await list_events(
            session,
            now=utcnow(),
            upcoming=True,
            community_id=community.actor_id,
            limit=INLINE_LIMIT,
        )
    collection_id = urls.community_part(community.actor.local_name or "", "events")
    items = [event_ap_id(urls, event) for event in events]
    return activity_json(ordered_collection(collection_id, len(items), items=items))


async def community_moderators(request: web.Request) -> web.Response:
    """The CoP's moderators (its `attributedTo`), inlined while small, paged beyond."""
    urls = request.app[URLS]
    page = page_number(request)
    async with request.app[SESSIONS]() as session:
        community = await _community_or_404(request, session)
        collection_id = urls.community_part(community.actor.local_name or "", "moderators")
        if page is None:
            found = await moderators(session, community, limit=INLINE_LIMIT)
            if found.total <= INLINE_LIMIT:
                items = [urls.actor(actor) for actor in found.actors]
                return activity_json(ordered_collection(collection_id, found.total, items=items))
            return activity_json(ordered_collection(collection_id, found.total))
        found = await moderators(session, community, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    items = [urls.actor(actor) for actor in found.actors]
    has_next = page * PAGE_SIZE < found.total
    return activity_json(
        ordered_collection_page(collection_id, page, items, has_next=has_next, total=found.total)
    )
