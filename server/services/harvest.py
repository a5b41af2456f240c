"""A CoP's harvest pages: who may write them, and writing them (the web, CLI and demo share this).

Members of the CoP write its pages, or only its moderators when the CoP says so. Pages archived
from another server are kept as they came: nobody here edits them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.communities import Community, is_moderator
from models.document_queries import is_community_member
from models.harvest import HarvestPage, PageRevision
from models.harvest_queries import (
    Wording,
    create_page,
    reinstate,
    restore_revision,
    retire,
    save_revision,
)
from server.services.harvest_federation import announce_new_page, page_changed
from server.urls import Urls


class NotAllowed(Exception):
    """This person may not write this page (the reason is for people)."""


async def may_write(session: AsyncSession, community: Community | None, actor_id: int) -> bool:
    """True when the actor may create and edit the CoP's pages."""
    if community is None:
        return False
    if community.harvest_restricted_to_mods:
        return await is_moderator(session, community.actor_id, actor_id)
    return await is_community_member(session, actor_id=actor_id, community_id=community.actor_id)


async def check_writer(
    session: AsyncSession, community: Community | None, actor_id: int, page: HarvestPage | None
) -> None:
    """Raise NotAllowed with a reason unless the actor may write (this page of) the CoP."""
    if page is not None and page.ap_id is not None:
        raise NotAllowed("this page is kept by the server it comes from; edit it there")
    if community is None:
        raise NotAllowed("this community is not hosted here")
    if not await may_write(session, community, actor_id):
        if community.harvest_restricted_to_mods:
            raise NotAllowed("only this community's moderators write its harvest pages")
        raise NotAllowed("only members of this community write its harvest pages")


async def start_page(
    session: AsyncSession,
    urls: Urls,
    *,
    community: Community,
    author_id: int,
    wording: Wording,
    note: str,
    now: datetime,
) -> HarvestPage:
    """A new page of a CoP (its federation follows the commit); the caller commits."""
    await check_writer(session, community, author_id, None)
    page = await create_page(
        session,
        community_id=community.actor_id,
        author_id=author_id,
        wording=wording,
        note=note,
        now=now,
    )
    await announce_new_page(session, urls, page, now=now)
    return page


async def edit_page(
    session: AsyncSession,
    urls: Urls,
    *,
    community: Community | None,
    page: HarvestPage,
    base: int,
    author_id: int,
    wording: Wording,
    note: str,
    now: datetime,
) -> PageRevision:
    """A new revision from an editor who started at `base`; EditConflict when someone was
    faster. The caller commits."""
    await check_writer(session, community, author_id, page)
    revision = await save_revision(
        session, page, base=base, author_id=author_id, wording=wording, note=note, now=now
    )
    await page_changed(session, urls, page, now=now)
    return revision


async def restore_page(
    session: AsyncSession,
    urls: Urls,
    *,
    community: Community | None,
    page: HarvestPage,
    number: int,
    base: int,
    author_id: int,
    now: datetime,
) -> PageRevision:
    """Bring back what revision `number` said, as a new revision; the caller commits."""
    await check_writer(session, community, author_id, page)
    revision = await restore_revision(
        session, page, number, base=base, author_id=author_id, now=now
    )
    await page_changed(session, urls, page, now=now)
    return revision


async def set_retired(
    session: AsyncSession,
    urls: Urls,
    *,
    community: Community | None,
    page: HarvestPage,
    retired: bool,
    author_id: int,
    now: datetime,
) -> None:
    """Retire a page (kept, marked out of date) or bring it back; the caller commits."""
    await check_writer(session, community, author_id, page)
    (retire if retired else reinstate)(page, now)
    await session.flush()
    await page_changed(session, urls, page, now=now)
