"""A CoP's settings page, for its moderators."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from models.communities import LANGUAGE_TAG, Community, is_moderator
from server.appkeys import SESSIONS, WRITE_SESSIONS
from server.web.auth import Member, require_member
from server.web.community_access import visible_community


async def _moderated(request: web.Request, session, member: Member) -> Community:
    community = await visible_community(request, session, request.match_info["name"])
    if not await is_moderator(session, community.actor_id, member.actor_id):
        raise web.HTTPForbidden(text="Only the community's moderators change its settings.")
    return community


def _render(request: web.Request, community: Community, *, error=None, saved=False, status=200):
    context = {"community": community, "error": error, "saved": saved}
    return aiohttp_jinja2.render_template(
        "community_settings.html", request, context, status=status
    )


async def settings_page(request: web.Request) -> web.Response:
    """The settings form."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        community = await _moderated(request, session, member)
    return _render(request, community, saved=request.query.get("saved") == "1")


async def save_settings(request: web.Request) -> web.Response:
    """Store the settings: whether replies are boosted to microblog followers, the language."""
    member = await require_member(request)
    form = await request.post()
    language = str(form.get("language", "")).strip()
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await _moderated(request, session, member)
        if not LANGUAGE_TAG.fullmatch(language):
            error = f"{language!r} is not a language tag like en, fr or pt-BR."
            return _render(request, community, error=error, status=400)
        community.announce_replies_to_microblogs = form.get("announce_replies") == "yes"
        community.harvest_restricted_to_mods = form.get("harvest_mods_only") == "yes"
        community.language = language
    raise web.HTTPSeeOther(f"/c/{community.actor.local_name}/settings?saved=1")
