"""Who may see a CoP: everyone once it is active; while it awaits approval, only its founder
(its first moderator) and the admins. For anyone else it does not exist: 404."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models.communities import Community, get_community, is_moderator
from server.http.errors import http_error
from server.web.auth import current_member


async def may_see(request: web.Request, session: AsyncSession, community: Community) -> bool:
    """True when the CoP is active, or the signed-in member founded it or is an admin."""
    if community.status == "active":
        return True
    member = await current_member(request)
    if member is None:
        return False
    if member.is_admin:
        return True
    return await is_moderator(session, community.actor_id, member.actor_id)


async def visible_community(request: web.Request, session: AsyncSession, name: str) -> Community:
    """The CoP by name if this request may see it; a 404 otherwise."""
    community = await get_community(session, name)
    if community is None or not await may_see(request, session, community):
        raise http_error(404, f"no community named {name!r}")
    return community
