"""Basecamps on the web: the listing, each Basecamp's page (and AS2 Event), RSVPs, the
organisers' forms, and the calendar feeds (their routes are in server/routes.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.event_time import describe_when
from federation.event_vocab import CATEGORIES
from models.base import utcnow
from models.communities import Community, get_community
from models.event_queries import (
    EventFull,
    calendar_events,
    get_event,
    hosts_of,
    list_events,
    participant,
    tallies,
)
from models.events import DECLINED, GOING, MAYBE, Event
from server.appkeys import SESSIONS, SETTINGS, URLS, WRITE_SESSIONS
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
from server.services.basecamp_input import InvalidBasecamp, fields_of, parse_input
from server.services.basecamp_rsvps import record_rsvp, withdraw_rsvp
from server.services.basecamps import (
    cancel_basecamp,
    create_basecamp,
    may_manage,
    may_organise,
    organisable_hosts,
    update_basecamp,
)
from server.services.calendar import ICS_MEDIA_TYPE, calendar_bytes
from server.services.network_actor import network_actor
from server.web.auth import Member, current_member, require_member
from server.web.community_access import visible_community
from server.web.confirm import ask_first
from server.web.feeds import page_feed
from server.web.requests import wake_delivery, wake_workers

ROUTE_NAME = "basecamp"
PAST_LIMIT = 20
FEED_HISTORY = timedelta(days=180)
RSVP_CHOICES = ((GOING, "Going"), (MAYBE, "Maybe"), (DECLINED, "Can't go"))
FORM_FIELDS = (
    "name",
    "description",
    "start",
    "end",
    "timezone",
    "place_name",
    "street_address",
    "locality",
    "region",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "online_url",
    "capacity",
    "banner_url",
    "category",
)
TIMEZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "UTC",
)


@dataclass(frozen=True)
class BasecampCard:
    """A Basecamp as lists show it: when and where in words, who hosts, where to click."""

    event: Event
    hosts: list[Community]
    when: str
    where: str
    href: str


@dataclass(frozen=True)
class BasecampPanel:
    """What `_upcoming_basecamps.html` shows: upcoming and recent past Basecamps."""

    upcoming: list[BasecampCard]
    past: list[BasecampCard]
    calendar_url: str
    listing_url: str


def _where(event: Event) -> str:
    if event.has_place:
        return ", ".join(part for part in (event.place_name, event.locality) if part)
    return "Online" if event.online_url else ""


async def _cards(session: AsyncSession, events: list[Event]) -> list[BasecampCard]:
    hosts = await hosts_of(session, [event.id for event in events])
    return [
        BasecampCard(
            event=event,
            hosts=hosts[event.id],
            when=describe_when(event.starts_at, event.ends_at, event.timezone),
            where=_where(event),
            href=f"/b/{event.id}",
        )
        for event in events
    ]


async def basecamp_panel(
    session: AsyncSession,
    *,
    community: Community | None = None,
    now: datetime | None = None,
    limit: int = 5,
) -> BasecampPanel:
    """Data for the home page (every Basecamp) or a CoP page (those it hosts)."""
    now = now or utcnow()
    community_id = community.actor_id if community is not None else None
    upcoming = await list_events(
        session, now=now, upcoming=True, community_id=community_id, limit=limit
    )
    past = await list_events(session, now=now, upcoming=False, community_id=community_id, limit=3)
    if community is None:
        feed, listing = "/basecamps.ics", "/basecamps"
    else:
        name = community.actor.local_name
        feed, listing = f"/c/{name}/basecamps.ics", f"/basecamps?community={name}"
    return BasecampPanel(
        upcoming=await _cards(session, upcoming),
        past=await _cards(session, past),
        calendar_url=feed,
        listing_url=listing,
    )


# ---- pages ----------------------------------------------------------------------------------


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
        past_cards = await _cards(session, past)
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


def _event_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise http_error(404, f"no Basecamp {raw!r}")
    return int(raw)


async def _event_or_404(session: AsyncSession, request: web.Request) -> Event:
    event = await get_event(session, _event_id(request))
    if event is None:
        raise http_error(404, "no such Basecamp")
    return event


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
        event = await _event_or_404(session, request)
        if representation == "as2":
            if not event.is_basecamp:
                raise web.HTTPFound(event.ap_id)  # archived from elsewhere: its origin is canonical
            shape = await event_shape_for(session, signer_authority(request))
            response = activity_json(await event_document_for(session, urls, event, shape=shape))
            response.headers["Vary"] = "Accept, Signature, Signature-Input"
            return response
        context = await _page_context(request, session, event)
    response = aiohttp_jinja2.render_template("basecamp.html", request, context)
    response.headers["Vary"] = "Accept, Cookie"
    return response


async def _page_context(
    request: web.Request, session: AsyncSession, event: Event, *, notice: str = ""
) -> dict:
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


async def basecamp_ics(request: web.Request) -> web.Response:
    """One Basecamp as an .ics file, for "add to calendar"."""
    async with request.app[SESSIONS]() as session:
        event = await _event_or_404(session, request)
        hosts = (await hosts_of(session, [event.id]))[event.id]
    body = calendar_bytes(request.app[URLS], [(event, hosts)], name=event.name)
    return _ics_response(body, f"basecamp-{event.id}.ics")


async def network_feed(request: web.Request) -> web.Response:
    """/basecamps.ics: every Basecamp and archived event, to subscribe to."""
    settings = request.app[SETTINGS]
    body = await _feed(request, None, f"{settings.instance_name} Basecamps")
    return _ics_response(body, "basecamps.ics")


async def community_feed(request: web.Request) -> web.Response:
    """/c/{name}/basecamps.ics: the events a CoP hosts."""
    name = request.match_info["name"]
    async with request.app[SESSIONS]() as session:
        community = await visible_community(request, session, name)
    title = community.actor.display_name or name
    body = await _feed(request, community, f"{title} Basecamps")
    return _ics_response(body, f"{name}-basecamps.ics")


async def _feed(request: web.Request, community: Community | None, name: str) -> bytes:
    async with request.app[SESSIONS]() as session:
        events = await calendar_events(
            session,
            since=utcnow() - FEED_HISTORY,
            community_id=community.actor_id if community else None,
        )
        hosts = await hosts_of(session, [event.id for event in events])
    entries = [(event, hosts[event.id]) for event in events]
    return calendar_bytes(request.app[URLS], entries, name=name)


def _ics_response(body: bytes, filename: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=ICS_MEDIA_TYPE,
        charset="utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "public, max-age=300",
        },
    )


async def poll(request: web.Request) -> web.StreamResponse:
    """The companion poll as an AS2 `Question` (Mastodon fetches it); people see the page."""
    if choose_representation(request.headers.get("Accept")) == "html":
        raise web.HTTPFound(f"/b/{_event_id(request)}")
    async with request.app[SESSIONS]() as session:
        event = await _event_or_404(session, request)
        if not event.is_basecamp:
            raise http_error(404, "no such poll")
        document = await question_document_for(session, request.app[URLS], event, now=utcnow())
    return activity_json(document)


async def attendees(request: web.Request) -> web.Response:
    """FEP-8a8e attendees: the count only (who comes to a care event is nobody's business)."""
    async with request.app[SESSIONS]() as session:
        event = await _event_or_404(session, request)
    urls = request.app[URLS]
    collection = ordered_collection(urls.basecamp_part(event.id, "attendees"), 0, items=[])
    collection["totalItems"] = event.participant_count
    return activity_json(collection)


# ---- forms ----------------------------------------------------------------------------------


async def rsvp(request: web.Request) -> web.Response:
    """A member answers Going / Maybe / Can't go (or withdraws their answer)."""
    member = await require_member(request)
    form = await request.post()
    role = str(form.get("role", ""))
    event_id = _event_id(request)
    notice = ""
    async with request.app[WRITE_SESSIONS].begin() as session:
        event = await _event_or_404(session, request)
        if not event.is_basecamp or event.is_cancelled or event.ends_at <= utcnow():
            raise http_error(409, "this Basecamp no longer takes answers")
        if role == "none":
            await withdraw_rsvp(session, event_id, actor_id=member.actor_id, now=utcnow())
        elif role in (GOING, MAYBE, DECLINED):
            try:
                await record_rsvp(
                    session,
                    event_id,
                    actor_id=member.actor_id,
                    role=role,
                    via="web",
                    activity_ap_id=None,
                    now=utcnow(),
                )
            except EventFull:
                notice = "Sorry, every place is taken. You could answer Maybe."
        else:
            raise http_error(400, "choose going, maybe, declined or none")
    if notice:
        async with request.app[SESSIONS]() as session:
            event = await _event_or_404(session, request)
            context = await _page_context(request, session, event, notice=notice)
        return aiohttp_jinja2.render_template("basecamp.html", request, context, status=409)
    raise web.HTTPSeeOther(f"/b/{event_id}")


async def new_form(request: web.Request) -> web.Response:
    """The form to organise a Basecamp (admins and CoP moderators)."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        hosts = await _allowed_hosts(session, member)
    preset = request.query.get("community", "")
    return _form(request, hosts, {"timezone": "Europe/London", "hosts": preset}, {}, None)


async def create(request: web.Request) -> web.Response:
    """Create a Basecamp from the form and federate it."""
    member = await require_member(request)
    form = await request.post()
    fields = {key: str(form.get(key, "")) for key in FORM_FIELDS}
    chosen = [str(value) for value in form.getall("hosts", [])]
    try:
        async with request.app[WRITE_SESSIONS].begin() as session:
            allowed = await _allowed_hosts(session, member)
            data = parse_input(fields, chosen)
            event = await create_basecamp(
                session,
                request.app[URLS],
                data,
                creator_id=member.actor_id,
                now=utcnow(),
                allowed_hosts=None if member.is_admin else allowed,
                network_title=f"{request.app[SETTINGS].instance_name} Network",
            )
    except InvalidBasecamp as error:
        async with request.app[SESSIONS]() as session:
            allowed = await _allowed_hosts(session, member)
        values = {**fields, "hosts": " ".join(chosen)}
        return _form(request, allowed, values, error.errors, None, status=400)
    wake_delivery(request.app)
    raise web.HTTPSeeOther(f"/b/{event.id}")


async def edit_form(request: web.Request) -> web.Response:
    """The form to edit a Basecamp, prefilled."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        event = await _managed_event(session, request, member)
        hosts = (await hosts_of(session, [event.id]))[event.id]
        allowed = await _allowed_hosts(session, member)
    return _form(request, _union(allowed, hosts), fields_of(event, hosts), {}, event)


async def edit(request: web.Request) -> web.Response:
    """Save an edit: SEQUENCE goes up and an Update is federated."""
    member = await require_member(request)
    form = await request.post()
    fields = {key: str(form.get(key, "")) for key in FORM_FIELDS}
    chosen = [str(value) for value in form.getall("hosts", [])]
    try:
        async with request.app[WRITE_SESSIONS].begin() as session:
            event = await _managed_event(session, request, member)
            current = (await hosts_of(session, [event.id]))[event.id]
            allowed = await _allowed_hosts(session, member)
            data = parse_input(fields, chosen)
            await update_basecamp(
                session,
                request.app[URLS],
                event,
                data,
                now=utcnow(),
                allowed_hosts=None if member.is_admin else _union(allowed, current),
                by=member.actor_id,
            )
    except InvalidBasecamp as error:
        async with request.app[SESSIONS]() as session:
            event = await _event_or_404(session, request)
            allowed = await _allowed_hosts(session, member)
        values = {**fields, "hosts": " ".join(chosen)}
        return _form(request, allowed, values, error.errors, event, status=400)
    wake_workers(request.app)
    raise web.HTTPSeeOther(f"/b/{event.id}")


async def cancel(request: web.Request) -> web.Response:
    """Call a Basecamp off (federated as an Update with status CANCELLED), once confirmed."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        await _managed_event(session, request, member)  # only organisers are even asked
    question = await ask_first(
        request,
        question="Cancel this Basecamp?",
        detail="Everyone who said they are coming, here and on other servers, is told that it "
        "is cancelled. This cannot be undone.",
        action="Yes, cancel it",
        back=request.path.removesuffix("/cancel"),
    )
    if question is not None:
        return question
    async with request.app[WRITE_SESSIONS].begin() as session:
        event = await _managed_event(session, request, member)
        await cancel_basecamp(session, request.app[URLS], event, now=utcnow(), by=member.actor_id)
    wake_workers(request.app)
    raise web.HTTPSeeOther(f"/b/{event.id}")


async def _allowed_hosts(session: AsyncSession, member: Member) -> list[Community]:
    hosts = await organisable_hosts(session, member.actor_id, member.is_admin)
    if not member.is_admin and not hosts:
        raise http_error(
            403, "only the Network's admins and community moderators organise Basecamps"
        )
    return hosts


async def _managed_event(session: AsyncSession, request: web.Request, member: Member) -> Event:
    event = await _event_or_404(session, request)
    if not await may_manage(session, event, member.actor_id, member.is_admin):
        raise http_error(403, "only its organisers may change this Basecamp")
    if event.is_cancelled:
        raise http_error(409, "this Basecamp was cancelled")
    return event


def _union(first: list[Community], second: list[Community]) -> list[Community]:
    seen = {c.actor_id: c for c in (*first, *second)}
    return sorted(seen.values(), key=lambda c: c.actor.display_name or c.actor.local_name or "")


def _form(
    request: web.Request,
    hosts: list[Community],
    values: dict[str, str],
    errors: dict[str, str],
    event: Event | None,
    *,
    status: int = 200,
) -> web.Response:
    context = {
        "settings": request.app[SETTINGS],
        "form": values,
        "chosen": set(values.get("hosts", "").split()),
        "errors": errors,
        "hosts": hosts,
        "event": event,
        "categories": CATEGORIES,
        "timezones": TIMEZONES,
    }
    return aiohttp_jinja2.render_template("basecamp_form.html", request, context, status=status)
