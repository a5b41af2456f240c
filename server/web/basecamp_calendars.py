"""Basecamps as iCalendar: one Basecamp's .ics, and the Network's and each CoP's feeds."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from models.base import utcnow
from models.communities import Community
from models.event_queries import calendar_events, hosts_of
from server.appkeys import SESSIONS, SETTINGS, URLS
from server.services.calendar import ICS_MEDIA_TYPE, calendar_bytes
from server.web.basecamp_lookup import basecamp_or_404
from server.web.community_access import visible_community

FEED_HISTORY = timedelta(days=180)


async def basecamp_ics(request: web.Request) -> web.Response:
    """One Basecamp as an .ics file, for "add to calendar"."""
    async with request.app[SESSIONS]() as session:
        event = await basecamp_or_404(session, request)
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
