"""Writing and reading harvest pages: revisions with conflict detection, restore, retire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from models.harvest import HarvestPage, PageRevision
from models.search_index import index_page

TITLE_LIMIT = 200


class EditConflict(Exception):
    """Someone saved a newer revision since the editor was opened."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the page is at revision {current}")
        self.current = current


@dataclass(frozen=True)
class Wording:
    """What one revision of a page says."""

    title: str
    summary: str
    body: str

    def cleaned(self) -> Wording:
        return Wording(
            title=" ".join(self.title.split())[:TITLE_LIMIT],
            summary=self.summary.strip(),
            body=self.body.replace("\r\n", "\n").strip(),
        )


@dataclass(frozen=True)
class PageList:
    """A slice of pages, most recently updated first, with the total."""

    total: int
    pages: list[HarvestPage]


async def create_page(
    session: AsyncSession,
    *,
    community_id: int,
    author_id: int | None,
    wording: Wording,
    note: str,
    now: datetime,
    ap_id: str | None = None,
) -> HarvestPage:
    """A new page with its first revision; the caller commits."""
    wording = wording.cleaned()
    page = HarvestPage(
        ap_id=ap_id,
        community_id=community_id,
        title=wording.title,
        summary=wording.summary,
        body=wording.body,
        revision_number=1,
        created_by=author_id,
        created_at=now,
        updated_at=now,
        announced_revision=0,
    )
    session.add(page)
    await session.flush()
    session.add(_revision(page, 1, wording, author_id, note, now))
    await session.flush()
    await index_page(session, page)
    return page


async def fill_new_page(session: AsyncSession, page: HarvestPage, body: str) -> None:
    """Write the body of a page created in this transaction (its sources needed its id)."""
    first = await get_revision(session, page.id, 1)
    if page.revision_number != 1 or first is None:
        raise ValueError("only a page still at its first revision can be filled")
    page.body = first.body = body.strip()
    await session.flush()
    await index_page(session, page)


def _revision(
    page: HarvestPage,
    number: int,
    wording: Wording,
    author_id: int | None,
    note: str,
    now: datetime,
    restored_from: int | None = None,
) -> PageRevision:
    return PageRevision(
        page_id=page.id,
        number=number,
        title=wording.title,
        summary=wording.summary,
        body=wording.body,
        author_id=author_id,
        note=note.strip()[:500],
        restored_from=restored_from,
        created_at=now,
    )


async def save_revision(
    session: AsyncSession,
    page: HarvestPage,
    *,
    base: int,
    author_id: int | None,
    wording: Wording,
    note: str,
    now: datetime,
    restored_from: int | None = None,
) -> PageRevision:
    """Add revision `base + 1` if the page is still at `base`; else raise EditConflict.

    The page row moves forward with a compare-and-set, so of two editors who started from the
    same revision only one succeeds, whatever the database's isolation level.
    """
    wording = wording.cleaned()
    moved = await session.execute(
        update(HarvestPage)
        .where(HarvestPage.id == page.id, HarvestPage.revision_number == base)
        .values(
            revision_number=base + 1,
            title=wording.title,
            summary=wording.summary,
            body=wording.body,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        await session.refresh(page)
        raise EditConflict(page.revision_number)
    revision = _revision(page, base + 1, wording, author_id, note, now, restored_from)
    session.add(revision)
    await session.flush()
    await session.refresh(page)
    await index_page(session, page)
    return revision


async def restore_revision(
    session: AsyncSession,
    page: HarvestPage,
    number: int,
    *,
    base: int,
    author_id: int | None,
    now: datetime,
) -> PageRevision:
    """A new revision that says what revision `number` said (history is never rewritten)."""
    old = await get_revision(session, page.id, number)
    if old is None:
        raise LookupError(f"no revision {number}")
    wording = Wording(title=old.title, summary=old.summary, body=old.body)
    return await save_revision(
        session,
        page,
        base=base,
        author_id=author_id,
        wording=wording,
        note=f"Restored revision {number}",
        now=now,
        restored_from=number,
    )


def retire(page: HarvestPage, now: datetime) -> None:
    """Mark a page out of date; it stays readable."""
    page.retired_at = now
    page.updated_at = now


def reinstate(page: HarvestPage, now: datetime) -> None:
    """Bring a retired page back into use."""
    page.retired_at = None
    page.updated_at = now


async def get_revision(session: AsyncSession, page_id: int, number: int) -> PageRevision | None:
    """One revision of a page by its number."""
    query = select(PageRevision).where(
        PageRevision.page_id == page_id, PageRevision.number == number
    )
    return await session.scalar(query)


async def revisions_of(session: AsyncSession, page_id: int) -> list[PageRevision]:
    """Every revision of a page, newest first, without their text (history lists hundreds)."""
    query = (
        select(PageRevision)
        .options(defer(PageRevision.body), defer(PageRevision.summary))
        .where(PageRevision.page_id == page_id)
        .order_by(PageRevision.number.desc())
    )
    return list(await session.scalars(query))


async def editor_ids(session: AsyncSession, page_id: int) -> list[int]:
    """The actors who wrote a revision of a page, first contribution first."""
    query = (
        select(PageRevision.author_id, func.min(PageRevision.number).label("first"))
        .where(PageRevision.page_id == page_id, PageRevision.author_id.is_not(None))
        .group_by(PageRevision.author_id)
        .order_by("first")
    )
    return [row.author_id for row in await session.execute(query)]


async def list_pages(
    session: AsyncSession,
    *,
    community_ids: list[int] | None = None,
    limit: int,
    offset: int = 0,
    include_retired: bool = True,
    topic: str | None = None,
    hidden_communities: list[int] | None = None,
) -> PageList:
    """Pages of some CoPs (or all but the hidden ones), most recently updated first."""
    where = []
    if topic is not None:
        where.append(HarvestPage.topic == topic)
    if hidden_communities:
        where.append(HarvestPage.community_id.not_in(hidden_communities))
    if community_ids is not None:
        where.append(HarvestPage.community_id.in_(community_ids))
    if not include_retired:
        where.append(HarvestPage.retired_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(HarvestPage).where(*where))
    query = (
        select(HarvestPage)
        .where(*where)
        .order_by(HarvestPage.updated_at.desc(), HarvestPage.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return PageList(total=int(total or 0), pages=list(await session.scalars(query)))


def clean_topic(topic: str) -> str:
    """A topic as the index shows it: one line, at most 100 characters."""
    return " ".join(topic.split())[:100]


async def topics(session: AsyncSession, community_ids: list[int] | None = None) -> list[str]:
    """Every topic pages are filed under, alphabetically."""
    query = select(HarvestPage.topic).where(HarvestPage.topic != "").distinct()
    if community_ids is not None:
        query = query.where(HarvestPage.community_id.in_(community_ids))
    return sorted(await session.scalars(query), key=str.casefold)


async def get_page_by_ap_id(session: AsyncSession, ap_id: str) -> HarvestPage | None:
    """A page archived from another server, by its ActivityPub id."""
    return await session.scalar(select(HarvestPage).where(HarvestPage.ap_id == ap_id))
