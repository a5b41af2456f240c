"""The Network home page: the directory of CoPs."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from models.communities import list_communities
from server.appkeys import SESSIONS, SETTINGS


async def home(request: web.Request) -> web.Response:
    """The list of CoPs on this Network."""
    async with request.app[SESSIONS]() as session:
        communities = await list_communities(session)
    settings = request.app[SETTINGS]
    context = {"communities": communities, "settings": settings}
    return aiohttp_jinja2.render_template("home.html", request, context)
