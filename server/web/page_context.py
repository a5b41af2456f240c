"""What every page's template knows: the signed-in member and a CSRF token."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.web.auth import current_member
from server.web.csrf_tokens import LazyCsrfToken


async def template_context(request: web.Request) -> dict[str, Any]:
    """aiohttp_jinja2 context processor: every page knows `member` and `csrf_token`."""
    if isinstance(request.match_info.route.resource, web.StaticResource):
        return {}  # stylesheets need no session lookup
    member = await current_member(request)
    return {"member": member, "csrf_token": LazyCsrfToken(request)}
