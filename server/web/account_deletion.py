"""Leaving the Network: deleting one's own account, after the password and a typed confirmation.

The member chooses what happens to their posts and documents (`models.account_lifecycle`); the
remote servers that know them are told with a `Delete` of their actor.
"""

from __future__ import annotations

from aiohttp import web

from models import account_lifecycle as lifecycle
from models import account_queries as accounts
from server.appkeys import SETTINGS, URLS, WRITE_SESSIONS
from server.services.person_federation import queue_person_delete
from server.web.account_settings import WRONG_CURRENT, current_password_ok
from server.web.auth import clear_session_cookie, forget_signed_in, require_member
from server.web.requests import wake_delivery
from server.web.routes_auth import Form, _form_values, _render

DELETE_FIELDS = ("current_password", "content", "confirm")


async def delete_page(request: web.Request) -> web.Response:
    """What deleting one's account means, the choice for the content, and the confirmation."""
    member = await require_member(request)
    form = Form(values={"content": "remove"})
    return _render(request, "settings_delete.html", {"form": form, "name": member.name})


async def delete_account(request: web.Request) -> web.StreamResponse:
    """Delete the signed-in member's account after the password and the typed confirmation."""
    member = await require_member(request)
    values = await _form_values(request, DELETE_FIELDS)
    form = Form(values={"content": values["content"], "confirm": values["confirm"]})
    checked = await current_password_ok(request, member, values["current_password"])
    if isinstance(checked, web.Response):
        return checked
    if not checked:
        form.error("current_password", WRONG_CURRENT)
    if values["content"] not in lifecycle.CONTENT_CHOICES:
        form.error("content", "Choose what happens to your posts and documents.")
    if values["confirm"].strip().lstrip("@").lower() != member.name:
        form.error("confirm", f"Type your name, {member.name}, to confirm.")
    if form.errors:
        context = {"form": form, "name": member.name}
        return _render(request, "settings_delete.html", context, status=400)
    async with request.app[WRITE_SESSIONS]() as session:
        found = await accounts.member_by_actor_id(session, member.actor_id)
        assert found is not None
        await queue_person_delete(session, found.actor, request.app[URLS])
        await lifecycle.remove_member(session, member.actor_id, values["content"])
        await session.commit()
    wake_delivery(request.app)
    forget_signed_in(request)
    redirect = web.HTTPSeeOther("/goodbye")
    clear_session_cookie(redirect, request.app[SETTINGS])
    raise redirect


async def goodbye(request: web.Request) -> web.Response:
    """Shown once the account is gone."""
    return _render(request, "goodbye.html", {})
