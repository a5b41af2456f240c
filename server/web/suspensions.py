"""The admins' suspensions page: suspend or lift a remote account or a domain, optionally
purging what it posted (server.services.suspensions does the work)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from models import policy_queries
from models.actors import Actor
from models.base import utcnow
from models.moderation import Suspension
from server.appkeys import POLICY, REMOTE, SESSIONS, SETTINGS, WRITE_SESSIONS
from server.services import suspensions
from server.services.moderation_people import PersonNotFound, fetch_if_url, find_person
from server.web.auth import require_admin


async def suspensions_page(request: web.Request) -> web.Response:
    """Suspended accounts and blocked domains, with the forms."""
    await require_admin(request)
    async with request.app[SESSIONS]() as session:
        accounts = list(
            await session.execute(
                select(Suspension, Actor)
                .join(Actor, Actor.id == Suspension.actor_id)
                .order_by(Suspension.created_at.desc())
            )
        )
        domains = [e for e in await policy_queries.list_domains(session) if e.action == "block"]
    context = {"accounts": accounts, "domains": domains}
    return aiohttp_jinja2.render_template("suspensions.html", request, context)


async def change_suspension(request: web.Request) -> web.Response:
    """Suspend or unsuspend (`action`) an account (`@user@host` or URL) or a domain."""
    await require_admin(request)
    form = await request.post()
    target = str(form.get("target", "")).strip()
    lifting = str(form.get("action", "suspend")) == "unsuspend"
    reason = str(form.get("reason", "")).strip()[:1000]
    purge = form.get("purge") == "on"
    is_account = "@" in target.lstrip("@") or target.startswith(("https://", "http://"))
    try:
        if is_account:
            await fetch_if_url(request.app[REMOTE], target)
        async with request.app[WRITE_SESSIONS].begin() as session:
            if is_account:
                actor = await find_person(session, None, target)
                if lifting:
                    await suspensions.unsuspend_actor(session, actor)
                else:
                    await suspensions.suspend_actor(
                        session, actor, reason=reason, purge=purge, now=utcnow()
                    )
            elif lifting:
                await suspensions.unsuspend_domain(session, target)
            else:
                await suspensions.suspend_domain(
                    session,
                    target,
                    request.app[SETTINGS].domain,
                    reason=reason,
                    purge=purge,
                    now=utcnow(),
                )
    except (PersonNotFound, suspensions.CannotSuspend) as error:
        raise web.HTTPBadRequest(text=str(error)) from None
    request.app[POLICY].invalidate()
    raise web.HTTPSeeOther("/admin/suspensions")
