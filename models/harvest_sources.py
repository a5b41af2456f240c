"""The posts a harvest page quotes: adding them, and following their authors' later changes.

When a source post is edited its quote is marked changed (the harvested wording stays, as
harvested); when it is deleted the quote's text is dropped everywhere, because the page refers to
it by `[[source:N]]` and never copies it into a revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.harvest import (
    SOURCE_CHANGED,
    SOURCE_CURRENT,
    SOURCE_WITHDRAWN,
    HarvestPage,
    PageSource,
)
from models.posts import Post
from models.search_index import index_page


@dataclass(frozen=True)
class Provenance:
    """Where a quote came from, as shown under it."""

    post_url: str
    author_name: str
    author_handle: str
    community_name: str
    posted_at: datetime | None


def source_marker(source_id: int) -> str:
    """The line of a page body that stands for one harvested quote."""
    return f"[[source:{source_id}]]"


async def add_source(
    session: AsyncSession,
    page: HarvestPage,
    *,
    post_id: int | None,
    provenance: Provenance,
    quote: str,
    harvested_by: int | None,
    now: datetime,
) -> PageSource:
    """Keep one harvested quote of a page; the caller puts its marker into the body."""
    source = PageSource(
        page_id=page.id,
        post_id=post_id,
        post_url=provenance.post_url,
        author_name=provenance.author_name[:255],
        author_handle=provenance.author_handle[:512],
        community_name=provenance.community_name[:255],
        posted_at=provenance.posted_at,
        quote=quote.strip(),
        state=SOURCE_CURRENT,
        harvested_by=harvested_by,
        harvested_at=now,
    )
    session.add(source)
    await session.flush()
    return source


async def sources_of(session: AsyncSession, page_id: int) -> list[PageSource]:
    """A page's sources in the order they were harvested."""
    query = select(PageSource).where(PageSource.page_id == page_id).order_by(PageSource.id)
    return list(await session.scalars(query))


async def pages_quoting(session: AsyncSession, post_id: int) -> list[HarvestPage]:
    """The pages that harvested a post (each once)."""
    query = (
        select(HarvestPage)
        .where(HarvestPage.id.in_(select(PageSource.page_id).where(PageSource.post_id == post_id)))
        .order_by(HarvestPage.title, HarvestPage.id)
    )
    return list(await session.scalars(query))


async def pages_quoting_posts(
    session: AsyncSession, post_ids: list[int]
) -> dict[int, list[HarvestPage]]:
    """For each of these posts that was harvested, the pages that quote it."""
    if not post_ids:
        return {}
    query = (
        select(PageSource.post_id, HarvestPage)
        .join(HarvestPage, HarvestPage.id == PageSource.page_id)
        .where(PageSource.post_id.in_(post_ids))
        .distinct()
        .order_by(HarvestPage.title, HarvestPage.id)
    )
    found: dict[int, list[HarvestPage]] = {}
    for post_id, page in await session.execute(query):
        found.setdefault(post_id, []).append(page)
    return found


async def source_edited(session: AsyncSession, post_id: int) -> None:
    """A harvested post was edited: its quotes are marked changed."""
    await session.execute(
        update(PageSource)
        .where(PageSource.post_id == post_id, PageSource.state == SOURCE_CURRENT)
        .values(state=SOURCE_CHANGED)
        .execution_options(synchronize_session="fetch")
    )


async def sources_anonymised(session: AsyncSession, author_id: int, name: str) -> None:
    """An author chose to leave as "Former member": their quotes stop naming them."""
    from_them = select(Post.id).where(Post.author_id == author_id)
    await session.execute(
        update(PageSource)
        .where(PageSource.post_id.in_(from_them))
        .values(author_name=name, author_handle="")
        .execution_options(synchronize_session="fetch")
    )


async def source_withdrawn(session: AsyncSession, post_id: int) -> None:
    """A harvested post was deleted: its quotes lose their text and say so (in search too)."""
    pages = await pages_quoting(session, post_id)
    await session.execute(
        update(PageSource)
        .where(PageSource.post_id == post_id)
        .values(state=SOURCE_WITHDRAWN, quote="")
        .execution_options(synchronize_session="fetch")
    )
    for page in pages:
        await index_page(session, page)
