"""Resolving the `@name@host` a member wrote, before their post is stored."""

from __future__ import annotations

from aiohttp import web

from server.appkeys import FETCHER, REMOTE, SETTINGS, URLS
from server.mentions import Mention, resolve_mentions


async def mentions_in(request: web.Request, text: str) -> list[Mention]:
    """The mentions of a text that WebFinger and the actors' servers confirm."""
    settings = request.app[SETTINGS]
    # Plain http only where loopback peers are allowed (development and tests).
    schemes = ("https", "http") if settings.allow_private_addresses else ("https",)
    return await resolve_mentions(
        request.app[REMOTE], request.app[FETCHER], request.app[URLS], text, schemes=schemes
    )
