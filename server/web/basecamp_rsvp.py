"""A member answers a Basecamp: Going, Maybe, Can't go, or withdraws the answer."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from models.base import utcnow
from models.event_queries import EventFull
from models.events import DECLINED, GOING, MAYBE
from server.appkeys import SESSIONS, WRITE_SESSIONS
from server.http.errors import http_error
from server.services.basecamp_rsvps import record_rsvp, withdraw_rsvp
from server.web.auth import require_member
from server.web.basecamp_lookup import basecamp_id, basecamp_or_404
from server.web.basecamps import page_context


async def rsvp(request: web.Request) -> web.Response:
    """A member answers Going / Maybe / Can't go (or withdraws their answer)."""
    member = await require_member(request)
    form = await request.post()
    role = str(form.get("role", ""))
    event_id = basecamp_id(request)
    notice = ""
    async with request.app[WRITE_SESSIONS].begin() as session:
        event = await basecamp_or_404(session, request)
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
            event = await basecamp_or_404(session, request)
            context = await page_context(request, session, event, notice=notice)
        return aiohttp_jinja2.render_template("basecamp.html", request, context, status=409)
    raise web.HTTPSeeOther(f"/b/{event_id}")
