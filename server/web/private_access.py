"""Who may read a private CoP's threads, posts and documents: its members, moderators and the
admins on the web, and other servers on a signed fetch when one of their people is an accepted
follower (they deliver to that follower anyway). Anyone else gets 404, as if nothing were there."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models.communities import Community
from server.appkeys import KEY_RESOLVER, REMOTE, SETTINGS
from server.services import moderation
from server.services.private_cops import has_follower_on, is_member
from server.web.auth import current_member

log = logging.getLogger(__name__)


async def may_read(request: web.Request, session: AsyncSession, community: Community) -> bool:
    """True when this request may read what is posted in the CoP."""
    if not community.manually_approves_followers:
        return True
    member = await current_member(request)
    if member is not None:
        return (
            member.is_admin
            or await is_member(session, community, member.actor_id)
            or await moderation.is_moderator(session, community.actor_id, member.actor_id)
        )
    if "Signature" not in request.headers:
        return False
    try:
        key = await request.app[KEY_RESOLVER].verify(
            request.method,
            request.path_qs,
            request.headers,
            None,
            scheme=request.app[SETTINGS].base.scheme,
        )
        signer = await request.app[REMOTE].get(key.owner)
    except Exception as error:  # an unverifiable signature reads nothing, whatever went wrong
        log.info("signed fetch of a private community refused: %s", error)
        return False
    return signer.domain is not None and await has_follower_on(session, community, signer.domain)
