"""Refusing, at the inbox, another actor's Update or Delete of a post written here.

Posts written here belong to local members, so no remote actor may update one; a Delete is
allowed only from a (possibly remote) moderator of the post's CoP, as the Delete handler says.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from federation.objects import object_id
from models.actors import Actor
from models.communities import CommunityModerator
from models.posts import Post
from server.appkeys import SESSIONS, URLS
from server.http.errors import http_error


async def refuse_foreign_changes(request: web.Request, activity: dict[str, Any]) -> None:
    """403 for an Update or Delete of one of our posts by anyone but who may make it."""
    if activity.get("type") not in ("Update", "Delete"):
        return
    local = request.app[URLS].parse_local(object_id(activity.get("object")))
    if local is None or local[0] != "p" or not local[1].isdigit() or len(local[1]) > 18:
        return
    async with request.app[SESSIONS]() as session:
        post = await session.get(Post, int(local[1]))
        if post is None or post.ap_id is not None:
            return
        if activity["type"] == "Delete":
            moderator = await session.scalar(
                select(CommunityModerator.actor_id)
                .join(Actor, Actor.id == CommunityModerator.actor_id)
                .where(
                    CommunityModerator.community_id == post.community_id,
                    Actor.ap_id == activity.get("actor"),
                )
            )
            if moderator is not None:
                return
    verb = "update" if activity["type"] == "Update" else "delete"
    raise http_error(403, f"only its author may {verb} a post written on this server")
