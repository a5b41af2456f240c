"""The admin page: who may join, who may start CoPs, invitations and CoPs awaiting approval."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from models import account_queries as accounts
from models import community_approval, invite_queries, mail_queries, site_modes
from models.communities import get_community
from server.appkeys import SESSIONS, SETTINGS, URLS, WRITE_SESSIONS
from server.http.errors import http_error
from server.services.network_actor import announce_new_community
from server.web.auth import Member, require_admin

NOTICES = {
    "settings": "Settings saved.",
    "approved": "The community is now active.",
}


async def _page(
    request: web.Request, member: Member, *, new_invite: str | None = None, status: int = 200
) -> web.Response:
    async with request.app[SESSIONS]() as session:
        context = {
            "settings": request.app[SETTINGS],
            "signup_mode": await site_modes.get_signup_mode(session),
            "cop_creation": await site_modes.get_cop_creation(session),
            "email_required": await mail_queries.email_required(session),
            "pending": await community_approval.pending_communities(session),
            "unused_invites": await invite_queries.count_unused_invites(session),
            "members": await accounts.count_accounts(session),
        }
    context["new_invite"] = new_invite
    context["notice"] = NOTICES.get(request.query.get("done", ""))
    context["admin"] = member
    response = aiohttp_jinja2.render_template("admin.html", request, context, status=status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


async def admin_page(request: web.Request) -> web.Response:
    """The admin dashboard (admins only)."""
    member = await require_admin(request)
    return await _page(request, member)


async def save_settings(request: web.Request) -> web.StreamResponse:
    """Change the sign-up mode, whether joining needs an address, and who may start CoPs."""
    await require_admin(request)
    data = await request.post()
    signup_mode = data.get("signup_mode")
    cop_creation = data.get("cop_creation")
    if (
        signup_mode not in site_modes.SIGNUP_MODES
        or cop_creation not in site_modes.COP_CREATION_MODES
    ):
        raise http_error(400, "choose one of the offered options")
    async with request.app[WRITE_SESSIONS]() as session:
        await mail_queries.set_email_required(session, data.get("require_email") == "yes")
        await site_modes.set_signup_mode(session, str(signup_mode))
        await site_modes.set_cop_creation(session, str(cop_creation))
        await session.commit()
    raise web.HTTPSeeOther("/admin?done=settings")


async def create_invite(request: web.Request) -> web.Response:
    """Make a single-use invitation code and show it, once."""
    member = await require_admin(request)
    async with request.app[WRITE_SESSIONS]() as session:
        code = await invite_queries.create_invite(session, created_by=member.actor_id)
        await session.commit()
    return await _page(request, member, new_invite=code)


async def approve_community(request: web.Request) -> web.StreamResponse:
    """Make a pending CoP active."""
    await require_admin(request)
    name = request.match_info["name"]
    async with request.app[WRITE_SESSIONS]() as session:
        approved = await community_approval.approve_community(session, name)
        if approved:
            community = await get_community(session, name)
            await announce_new_community(session, request.app[URLS], community)
        await session.commit()
    if not approved:
        raise http_error(404, f"no community named {name!r} is waiting for approval")
    raise web.HTTPSeeOther("/admin?done=approved")
