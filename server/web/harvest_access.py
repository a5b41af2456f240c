"""Finding a harvest page for a request: 404 when it does not exist or this reader may not see
its CoP (a private CoP's pages are as hidden as its threads)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import Actor
from models.communities import Community
from models.harvest import HarvestPage
from server.http.errors import http_error
from server.web.community_access import may_see
from server.web.private_access import may_read
from server.web.requests import path_id


@dataclass(frozen=True)
class FoundPage:
    """A page, the Group it belongs to, and that Group's settings when it is a CoP of ours."""

    page: HarvestPage
    group: Actor
    community: Community | None


async def may_read_community(
    request: web.Request, session: AsyncSession, community: Community | None
) -> bool:
    """True when this request may read what is posted in a CoP (any remote Group: yes)."""
    if community is None:
        return True
    return await may_see(request, session, community) and await may_read(
        request, session, community
    )


async def find_page(request: web.Request, session: AsyncSession) -> FoundPage:
    """The page named by `{id}` in the URL, if this request may read it."""
    page_id = path_id(request, "id", "page")
    page = await session.get(HarvestPage, page_id)
    group = await session.get(Actor, page.community_id) if page is not None else None
    if page is None or group is None:
        raise http_error(404, f"no page {page_id}")
    community = await session.get(Community, group.id)
    if not await may_read_community(request, session, community):
        raise http_error(404, f"no page {page_id}")
    return FoundPage(page=page, group=group, community=community)
