"""Joining and leaving a CoP from the web, here or on another Network."""

from __future__ import annotations

from aiohttp import web

from federation.actors import InvalidActor
from federation.fetch import FetchError
from federation.webfinger import HandleError, resolve_handle
from models.actors import Actor
from models.base import utcnow
from server.appkeys import DELIVERY, FETCHER, REMOTE, SETTINGS, URLS, WRITE_SESSIONS
from server.peers.policy import DomainBlocked
from server.peers.remote import LocalActorNotFound
from server.services.membership import join, leave
from server.services.moderation_rules import banned_reason
from server.services.private_cops import ask_to_join
from server.web.auth import require_member
from server.web.community_access import visible_community
from server.web.confirm import ask_first
from server.web.requests import wake_workers


async def join_community(request: web.Request) -> web.Response:
    """Join a CoP from its page."""
    member = await require_member(request)
    name = request.match_info["name"]
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await visible_community(request, session, name)
        refused = await banned_reason(session, community.actor_id, member.actor_id, utcnow())
        if refused is not None:
            raise web.HTTPForbidden(text=f"You are {refused}.")
        actor = await session.get(Actor, member.actor_id)
        if community.manually_approves_followers:
            await ask_to_join(session, community, actor, now=utcnow())
        else:
            await join(session, request.app[URLS], actor, community.actor)
    wake_workers(request.app)
    raise web.HTTPSeeOther(f"/c/{name}")


async def leave_community(request: web.Request) -> web.Response:
    """Leave a CoP (after a confirmation step)."""
    member = await require_member(request)
    name = request.match_info["name"]
    question = await ask_first(
        request,
        question="Leave this community?",
        detail="You will no longer be able to start threads or reply here. "
        "What you wrote stays. You can join again at any time.",
        action="Yes, leave",
        back=f"/c/{name}",
    )
    if question is not None:
        return question
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await visible_community(request, session, name)
        actor = await session.get(Actor, member.actor_id)
        await leave(session, request.app[URLS], actor, community.actor)
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther(f"/c/{name}")


async def join_remote_community(request: web.Request) -> web.Response:
    """Join a CoP on another Network by its address (@name@host) or URL."""
    member = await require_member(request)
    form = await request.post()
    address = str(form.get("address", "")).strip()
    settings = request.app[SETTINGS]
    try:
        if address.startswith(("https://", "http://")):
            actor_url = address
        else:
            # Plain http only where loopback peers are allowed (development and tests).
            schemes = ("https", "http") if settings.allow_private_addresses else ("https",)
            actor_url = await resolve_handle(request.app[FETCHER], address, schemes=schemes)
        group = await request.app[REMOTE].get(actor_url)
    except (HandleError, FetchError, InvalidActor, DomainBlocked, LocalActorNotFound) as error:
        raise web.HTTPBadRequest(text=f"Could not find that community: {error}") from None
    if group.type != "Group":
        raise web.HTTPBadRequest(text=f"{address} is not a community (it is a {group.type}).")
    if group.is_local:
        raise web.HTTPSeeOther(f"/c/{group.local_name}")
    async with request.app[WRITE_SESSIONS].begin() as session:
        actor = await session.get(Actor, member.actor_id)
        await join(session, request.app[URLS], actor, await session.get(Actor, group.id))
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther("/")
