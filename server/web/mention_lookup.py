"""Resolving the `@name@host` a member wrote, before their post is stored."""

from __future__ import annotations

from aiohttp import web

from federation.fetch import FetchError
from models.actors import Actor
from models.posts import Post
from server.appkeys import FETCHER, REMOTE, SESSIONS, SETTINGS, URLS
from server.peers.policy import DomainBlocked
from server.services.mentions import Mention, resolve_mentions


async def mentions_in(request: web.Request, text: str) -> list[Mention]:
    """The mentions of a text that WebFinger and the actors' servers confirm."""
    settings = request.app[SETTINGS]
    # Plain http only where loopback peers are allowed (development and tests).
    schemes = ("https", "http") if settings.allow_private_addresses else ("https",)
    return await resolve_mentions(
        request.app[REMOTE], request.app[FETCHER], request.app[URLS], text, schemes=schemes
    )


async def reply_mentions(request: web.Request, parent_id: int, text: str) -> list[Mention]:
    """The text's mentions; and the parent's server is asked its software first, so the reply
    reaches the parent's author in the shape their server reads."""
    async with request.app[SESSIONS]() as session:
        parent = await session.get(Post, parent_id)
        author = await session.get(Actor, parent.author_id) if parent is not None else None
    if author is not None and author.ap_id:
        try:
            await request.app[REMOTE].software_for_url(author.ap_id)
        except (FetchError, DomainBlocked, ValueError):
            pass  # unknown software: the plain shape, which every server reads
    return await mentions_in(request, text)
