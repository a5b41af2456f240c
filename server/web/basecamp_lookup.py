"""Finding the Basecamp a /b/{id} request names, or answering 404."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models.event_queries import get_event
from models.events import Event
from server.http.errors import http_error


def basecamp_id(request: web.Request) -> int:
    """The id in the path; 404 when it cannot be one."""
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise http_error(404, f"no Basecamp {raw!r}")
    return int(raw)


async def basecamp_or_404(session: AsyncSession, request: web.Request) -> Event:
    """The Basecamp (or archived event) the path names; 404 when there is none."""
    event = await get_event(session, basecamp_id(request))
    if event is None:
        raise http_error(404, "no such Basecamp")
    return event
