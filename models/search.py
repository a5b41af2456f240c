"""Full-text search over threads, replies and documents, identical on SQLite and PostgreSQL.

The query side: a user's query is parsed (`models.text_analysis.parse_query`) into words,
"quoted phrases" and -exclusions, analysed like indexed text, and written out here as an FTS5
MATCH expression or a tsquery literal from quoted `[a-z0-9]` terms only, so no user text ever
reaches MATCH or tsquery syntax. The index itself is kept by `models.search_index`.

- PostgreSQL limits that FTS5 lacks are applied to both when indexing: at most 16,383 positions
  per entry and 256 positions per term (`models.text_analysis.index_terms`).
- Ranking: the newest `MAX_CANDIDATES` matches are ranked (PostgreSQL `ts_rank_cd`, SQLite
  `bm25`, title words count triple); `models.search_candidates` finds and ranks them. Ranks
  differ between engines; result sets do not.
- Snippets and highlighted titles are HTML-escaped, with the matched words in `<mark>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    delete,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.documents import Document, DocumentVersion
from models.harvest import HarvestPage, PageSource
from models.posts import Post
from models.search_candidates import MAX_CANDIDATES, postgres_candidates, sqlite_candidates
from models.search_filters import SearchFilters
from models.search_index import (
    SearchEntry,
    body_text,
    document_body_text,
    index_document,
    index_page,
    index_post,
    page_body_text,
)
from models.text_analysis import (
    ParsedQuery,
    mark_all,
    normalise,
    parse_query,
    snippet_html,
)

KINDS = ("page", "thread", "reply", "document")
_POST, _THREAD = aliased(Post), aliased(Post)  # made once: each alias builds every column anew


def _latest_versions():
    latest = (
        select(DocumentVersion.document_id, func.max(DocumentVersion.id).label("version_id"))
        .group_by(DocumentVersion.document_id)
        .subquery()
    )
    return (
        select(Document, DocumentVersion)
        .outerjoin(latest, latest.c.document_id == Document.id)
        .outerjoin(DocumentVersion, DocumentVersion.id == latest.c.version_id)
    )


async def reindex_all(session: AsyncSession, *, batch: int = 500) -> int:
    """Rebuild every entry from posts and documents (after an analyser change); returns count."""
    await session.execute(delete(SearchEntry))
    count = 0
    last = 0
    while True:
        posts = list(
            await session.scalars(
                select(Post)
                .where(Post.id > last, Post.deleted_at.is_(None))
                .order_by(Post.id)
                .limit(batch)
            )
        )
        for post in posts:
            await index_post(session, post)
        count += len(posts)
        if len(posts) < batch:
            break
        last = posts[-1].id
    documents = await session.execute(
        _latest_versions().where(Document.deleted_at.is_(None)).order_by(Document.id)
    )
    for document, version in documents:
        await index_document(session, document, version)
        count += 1
    for page in await session.scalars(select(HarvestPage).order_by(HarvestPage.id)):
        await index_page(session, page)
        count += 1
    return count


@dataclass(frozen=True)
class Hit:
    """One search result; `snippet_html` and `title_html` are escaped HTML with <mark>s."""

    kind: str
    ref_id: int
    thread_id: int | None
    community_id: int
    title: str
    snippet_html: str
    published: datetime
    rank: float
    title_html: str = ""


@dataclass(frozen=True)
class SearchPage:
    """A page of hits, best first, and how many there are in all.

    `total` counts at most `MAX_CANDIDATES`; `more` is True when more entries matched than
    that (then the hits are the best of the `MAX_CANDIDATES` newest matches).
    """

    total: int
    hits: list[Hit] = field(default_factory=list)
    query: ParsedQuery = field(default_factory=ParsedQuery)
    more: bool = False


async def search(
    session: AsyncSession,
    query: str,
    *,
    community_id: int | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
    offset: int = 0,
    candidates: int = MAX_CANDIDATES,
    hidden_communities: Iterable[int] = (),
) -> SearchPage:
    """Entries matching `query`, best first, filtered by CoP, kind and `since <= published <
    until`. A reply's title is its thread's title; deleted items are not found.

    Ranked are the `candidates` newest matches (all of them, unless a query matches more);
    ties go to the newer entry.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    parsed = parse_query(query)
    if parsed.is_empty:
        return SearchPage(total=0, hits=[], query=parsed)
    filters = SearchFilters(
        community_id=community_id,
        kind=kind,
        since=since,
        until=until,
        hidden=tuple(hidden_communities),
    )
    find = postgres_candidates if session.bind.dialect.name == "postgresql" else sqlite_candidates
    page = await find(session, parsed, filters, candidates, slice(offset, offset + limit))
    more = page.found > candidates
    total = min(page.found, candidates)
    ranked = page.rows
    if not ranked:
        return SearchPage(total=total, hits=[], query=parsed, more=more)
    shown = await _display(session, [row[0] for row in ranked])
    highlight = parsed.highlight
    hits = []
    for entry_id, _published, score, _kind in ranked:
        if entry_id not in shown:
            continue
        entry, title, body = shown[entry_id]
        hits.append(
            Hit(
                kind=entry.kind,
                ref_id=entry.ref_id,
                thread_id=entry.thread_id,
                community_id=entry.community_id,
                title=title,
                snippet_html=snippet_html(body, highlight),
                published=entry.published,
                rank=score,
                title_html=mark_all(title, highlight),
            )
        )
    return SearchPage(total=total, hits=hits, query=parsed, more=more)


async def _display(
    session: AsyncSession, entry_ids: list[int]
) -> dict[int, tuple[SearchEntry, str, str]]:
    """entry id -> (entry, title, body text) from the posts and documents themselves.

    A reply's title is its thread's title. Items deleted meanwhile are left out.
    """
    rows = await _entries_with_posts(session, entry_ids)
    entries = [row.SearchEntry for row in rows]
    documents = await _documents(session, [e.document_id for e in entries if e.document_id])
    pages = await _pages(session, [entry.page_id for entry in entries if entry.page_id is not None])
    shown = {}
    for row in rows:
        entry = row.SearchEntry
        if entry.page_id is not None:
            if entry.page_id in pages:
                page, sources = pages[entry.page_id]
                shown[entry.id] = (entry, page.title, normalise(page_body_text(page, sources)))
            continue
        if entry.document_id is not None:
            document, version = documents.get(entry.document_id, (None, None))
            if document is not None and document.deleted_at is None:
                shown[entry.id] = (entry, document.title, document_body_text(document, version))
            continue
        if row.post_found is None or row.deleted_at is not None:
            continue  # deleted since it was found, or not reindexed
        title = (row.thread_title if entry.kind == "reply" else row.title) or ""
        shown[entry.id] = (
            entry,
            normalise(title),
            normalise(body_text(row.summary, row.content_html)),
        )
    return shown


async def _entries_with_posts(session: AsyncSession, entry_ids: list[int]) -> list:
    """The entries with what is shown of their posts, and their threads' titles, in one query
    (a round trip per table cost more than reading them)."""
    post, thread = _POST, _THREAD
    query = (
        select(
            SearchEntry,
            post.id.label("post_found"),
            post.summary,
            post.content_html,
            post.title,
            post.deleted_at,
            thread.title.label("thread_title"),
        )
        .outerjoin(post, post.id == SearchEntry.post_id)
        .outerjoin(thread, thread.id == SearchEntry.thread_id)
        .where(SearchEntry.id.in_(entry_ids))
    )
    return list((await session.execute(query)).all())


async def _documents(
    session: AsyncSession, document_ids: list[int]
) -> dict[int, tuple[Document, DocumentVersion | None]]:
    """document id -> (document, its latest version) for the documents among the hits."""
    if not document_ids:
        return {}
    found = await session.execute(_latest_versions().where(Document.id.in_(document_ids)))
    return {document.id: (document, version) for document, version in found}


async def _pages(
    session: AsyncSession, page_ids: list[int]
) -> dict[int, tuple[HarvestPage, list[PageSource]]]:
    """page id -> (page, its sources) for the pages among the hits."""
    if not page_ids:
        return {}
    pages = {
        p.id: (p, [])
        for p in await session.scalars(select(HarvestPage).where(HarvestPage.id.in_(page_ids)))
    }
    for source in await session.scalars(select(PageSource).where(PageSource.page_id.in_(page_ids))):
        pages[source.page_id][1].append(source)
    return pages
