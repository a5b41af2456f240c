"""The organisers' forms: organise a Basecamp, edit it, call it off (each federated)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.event_vocab import CATEGORIES
from models.base import utcnow
from models.communities import Community
from models.event_queries import hosts_of
from models.events import Event
from server.appkeys import SESSIONS, SETTINGS, URLS, WRITE_SESSIONS
from server.http.errors import http_error
from server.services.basecamp_input import InvalidBasecamp, fields_of, parse_input
from server.services.basecamps import (
    cancel_basecamp,
    create_basecamp,
    may_manage,
    organisable_hosts,
    update_basecamp,
)
from server.web.auth import Member, require_member
from server.web.basecamp_lookup import basecamp_or_404
from server.web.confirm import ask_first
from server.web.requests import wake_delivery, wake_workers

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
            event = await basecamp_or_404(session, request)
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
    event = await basecamp_or_404(session, request)
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
