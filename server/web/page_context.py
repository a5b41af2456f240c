"""What every page's template knows: the signed-in member, their unread notifications (the
bell) and a CSRF token."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.notification_queries import unread_count
from server.appkeys import SESSIONS
from server.web.auth import current_member
from server.web.csrf_tokens import LazyCsrfToken


async def template_context(request: web.Request) -> dict[str, Any]:
    """aiohttp_jinja2 context processor: every page knows `member`, `unread` and `csrf_token`."""
    if isinstance(request.match_info.route.resource, web.StaticResource):
        return {}  # stylesheets need no session lookup
    member = await current_member(request)
    unread = 0
    if member is not None:
        async with request.config_dict[SESSIONS]() as session:
            unread = await unread_count(session, member.actor_id)
    return {"member": member, "unread": unread, "csrf_token": LazyCsrfToken(request)}
