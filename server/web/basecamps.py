"""Basecamps on the web: the listing, each Basecamp's page (and AS2 Event), its companion poll
and attendees count. RSVPs, the organisers' forms and the calendar feeds are in sibling
modules (basecamp_rsvp, basecamp_editing, basecamp_calendars); routes are in server/routes.py."""

from __future__ import annotations

from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.event_time import describe_when
from models.base import utcnow
from models.communities import get_community
from models.event_queries import hosts_of, list_events, participant, tallies
from models.events import DECLINED, GOING, MAYBE, Event
from server.appkeys import SESSIONS, SETTINGS, URLS
from server.as2.collections import ordered_collection
from server.http.errors import http_error
from server.http.negotiation import choose_representation
from server.http.responses import activity_json
from server.http.signer_hint import signer_authority
from server.services.basecamp_discussion import discussion
from server.services.basecamp_documents import (
    event_document_for,
    event_shape_for,
    question_document_for,
)
from server.services.basecamps import may_manage, may_organise
from server.services.network_actor import network_actor
from server.web.auth import current_member
from server.web.basecamp_lookup import basecamp_id, basecamp_or_404
from server.web.basecamp_panel import basecamp_panel, cards
from server.web.feeds import page_feed

ROUTE_NAME = "basecamp"
PAST_LIMIT = 20
RSVP_CHOICES = ((GOING, "Going"), (MAYBE, "Maybe"), (DECLINED, "Can't go"))


async def listing(request: web.Request) -> web.Response:
    """/basecamps: every upcoming Basecamp, and the recent past ones."""
    member = await current_member(request)
    name = request.query.get("community", "").strip().lower()
    async with request.app[SESSIONS]() as session:
        community = await get_community(session, name) if name else None
        if name and community is None:
            raise web.HTTPNotFound(text=f"no community named {name!r}")
        panel = await basecamp_panel(session, community=community, limit=100)
        past = await list_events(
            session,
            now=utcnow(),
            upcoming=False,
            limit=PAST_LIMIT,
            community_id=community.actor_id if community else None,
        )
        past_cards = await cards(session, past)
        organiser = member is not None and await may_organise(
            session, member.actor_id, member.is_admin
        )
    context = {
        "settings": request.app[SETTINGS],
        "panel": panel,
        "past": past_cards,
        "community": community,
        "organiser": organiser,
        "feeds": [page_feed("Basecamps", request.app[URLS].basecamps_feed())],
    }
    return aiohttp_jinja2.render_template("basecamps.html", request, context)


def map_url(event: Event) -> str | None:
    """An OpenStreetMap link: a pin at the coordinates, else a search for the address."""
    if event.latitude is not None and event.longitude is not None:
        lat, lon = f"{event.latitude:.5f}", f"{event.longitude:.5f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
    query = ", ".join(part for part in (event.place_name, event.address_line) if part)
    return f"https://www.openstreetmap.org/search?query={quote(query)}" if query else None


async def basecamp_page(request: web.Request) -> web.StreamResponse:
    """A Basecamp: its `Event` for ActivityPub clients, its page (with RSVP) for people."""
    representation = choose_representation(request.headers.get("Accept"))
    urls = request.app[URLS]
    async with request.app[SESSIONS]() as session:
        event = await basecamp_or_404(session, request)
        if representation == "as2":
            if not event.is_basecamp:
                raise web.HTTPFound(event.ap_id)  # archived from elsewhere: its origin is canonical
            shape = await event_shape_for(session, signer_authority(request))
            response = activity_json(await event_document_for(session, urls, event, shape=shape))
            response.headers["Vary"] = "Accept, Signature, Signature-Input"
            return response
        context = await page_context(request, session, event)
    response = aiohttp_jinja2.render_template("basecamp.html", request, context)
    response.headers["Vary"] = "Accept, Cookie"
    return response


async def page_context(
    request: web.Request, session: AsyncSession, event: Event, *, notice: str = ""
) -> dict:
    """What `basecamp.html` shows of one Basecamp to whoever asks (a notice on top, if any)."""
    member = await current_member(request)
    now = utcnow()
    hosts = (await hosts_of(session, [event.id]))[event.id]
    mine = await participant(session, event.id, member.actor_id) if member else None
    counts = await tallies(session, event.id)
    manager = member is not None and await may_manage(
        session, event, member.actor_id, member.is_admin
    )
    remaining = None if event.capacity is None else max(event.capacity - event.participant_count, 0)
    network = await network_actor(session)
    settings = request.app[SETTINGS]
    return {
        "settings": settings,
        "network_handle": f"@{network.actor.local_name}@{settings.domain}" if network else "",
        "event": event,
        "hosts": hosts,
        "when": describe_when(event.starts_at, event.ends_at, event.timezone),
        "map_url": map_url(event),
        "going": event.participant_count,
        "maybe": counts.get(MAYBE, 0),
        "remaining": remaining,
        "my_role": mine.role if mine else None,
        "choices": RSVP_CHOICES,
        "can_rsvp": event.is_basecamp and not event.is_cancelled and event.ends_at > now,
        "can_manage": manager and not event.is_cancelled,
        "is_past": event.ends_at <= now,
        "ics_url": f"/b/{event.id}.ics",
        "ap_id": event.ap_id or request.app[URLS].basecamp(event.id),
        "notice": notice,
        "replies": await discussion(session, event),
    }


async def poll(request: web.Request) -> web.StreamResponse:
    """The companion poll as an AS2 `Question` (Mastodon fetches it); people see the page."""
    if choose_representation(request.headers.get("Accept")) == "html":
        raise web.HTTPFound(f"/b/{basecamp_id(request)}")
    async with request.app[SESSIONS]() as session:
        event = await basecamp_or_404(session, request)
        if not event.is_basecamp:
            raise http_error(404, "no such poll")
        document = await question_document_for(session, request.app[URLS], event, now=utcnow())
    return activity_json(document)


async def attendees(request: web.Request) -> web.Response:
    """FEP-8a8e attendees: the count only (who comes to a care event is nobody's business)."""
    async with request.app[SESSIONS]() as session:
        event = await basecamp_or_404(session, request)
    urls = request.app[URLS]
    collection = ordered_collection(urls.basecamp_part(event.id, "attendees"), 0, items=[])
    collection["totalItems"] = event.participant_count
    return activity_json(collection)
