"""The search index: one `search_entries` row per post, document or harvest page, its terms per
engine.

Each indexed post or document is one narrow `search_entries` row (kind, ids, CoP, date) plus its
terms in the engine's own full-text structure: on PostgreSQL the `search_vector` tsvector column
(GIN-indexed), built with `to_tsvector('simple', ...)` from the term streams (`simple` only
lowercases, and the term alphabet is chosen so that its parser never splits a term); on SQLite a
row of the FTS5 table `search_fts` (`unicode61`, no stemming) with the entry's id as rowid. Both
therefore see the same terms at the same positions (`models.text_analysis` makes them). The text
itself is not copied: titles and snippets come from the posts and documents when results are
shown.

Posts are indexed by `models.posts` whenever one is stored, edited or tombstoned, documents by
`models.document_queries` whenever a document or its latest version changes, harvest pages by
`models.harvest_queries` on every revision and when a quoted source is withdrawn; hard deletes of
posts, documents, pages and CoPs cascade to the index.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime
from models.documents import Document, DocumentVersion
from models.harvest import SOURCE_MARKER, SOURCE_WITHDRAWN, HarvestPage, PageSource
from models.text_analysis import FILLER, entry_terms, html_text

if TYPE_CHECKING:  # posts imports this module to keep the index in step with its writes
    from models.posts import Post

# The engine-specific full-text objects beside `search_entries` (made by migration 0004, not
# described by the models: see `include_name`).
FTS_TABLE = "search_fts"  # SQLite: FTS5 table, rowid = search_entries.id
SEARCH_VECTOR = "search_vector"  # PostgreSQL: tsvector column of search_entries
SEARCH_VECTOR_INDEX = "ix_search_entries_search_vector"  # its GIN index
RECENT_PAGES_INDEX = "ix_search_entries_published_pages"  # a block range (BRIN) index


def search_vector_sql(title_terms: str, body_terms: str) -> str:
    """PostgreSQL expression of an entry's tsvector from two SQL text expressions.

    Title terms get weight A, body terms weight B. The filler after the title keeps a phrase
    from spanning title and body (FTS5 matches phrases within one column), then is deleted.
    """
    return (
        f"ts_delete(setweight(to_tsvector('simple', {title_terms} || ' {FILLER}'), 'A') || "
        f"setweight(to_tsvector('simple', {body_terms}), 'B'), '{FILLER}'::text)"
    )


KIND_REF = (
    "(kind = 'document' AND document_id IS NOT NULL AND post_id IS NULL AND page_id IS NULL) OR "
    "(kind IN ('thread', 'reply') AND post_id IS NOT NULL AND document_id IS NULL "
    "AND page_id IS NULL) OR "
    "(kind = 'page' AND page_id IS NOT NULL AND post_id IS NULL AND document_id IS NULL)"
)


class SearchEntry(Base):
    """One searchable thread, reply or document; its terms live in the engine's FTS index."""

    __tablename__ = "search_entries"
    __table_args__ = (
        CheckConstraint(
            KIND_REF,
            name="kind_ref",
        ),
        # Read backwards: newest first, in the order search walks them (published, then id).
        Index("ix_search_entries_cop_newest", "community_id", "published", "id"),
        Index("ix_search_entries_newest", "published", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    post_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), unique=True
    )
    document_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="CASCADE"), unique=True
    )
    page_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("harvest_pages.id", ondelete="CASCADE"), unique=True
    )
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(BigId)  # threads: themselves; replies: root
    published: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def ref_id(self) -> int:
        """The id of the post, document or page this entry indexes."""
        if self.kind == "page":
            return self.page_id  # type: ignore[return-value]
        return self.document_id if self.kind == "document" else self.post_id  # type: ignore[return-value]


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic `include_name` hook: leave the engine-specific full-text objects out of
    schema comparisons (they are made by migration 0004 and are not part of the models)."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ == "column":
        return not (name == SEARCH_VECTOR and parent_names.get("table_name") == "search_entries")
    if type_ == "index":
        return name not in (SEARCH_VECTOR_INDEX, RECENT_PAGES_INDEX)
    return True


def post_body_text(post: Post) -> str:
    """What is searchable in a post besides its title: content warning and content."""
    return body_text(post.summary, post.content_html)


def body_text(summary: str, content_html: str | None) -> str:
    """A post's searchable body from its columns: content warning and content."""
    parts = [summary.strip(), html_text(content_html or "").strip()]
    return "\n\n".join(part for part in parts if part)


def document_body_text(document: Document, version: DocumentVersion | None) -> str:
    """What is searchable in a document besides its title: description and extracted text."""
    parts = [document.description.strip(), (version.text if version is not None else "").strip()]
    return "\n\n".join(part for part in parts if part)


def page_body_text(page: HarvestPage, sources: list[PageSource]) -> str:
    """What is searchable in a page besides its title: summary, body and its quotes."""
    body = SOURCE_MARKER.sub("", page.body)
    quotes = [s.quote.strip() for s in sources if s.state != SOURCE_WITHDRAWN and s.quote.strip()]
    parts = [page.summary.strip(), body.strip(), *quotes]
    return "\n\n".join(part for part in parts if part)


# Statements (parameters :id, :title_terms, :body_terms) that (re)write an entry's terms.
# Only constants are formatted into them.
_VECTOR = search_vector_sql("CAST(:title_terms AS text)", "CAST(:body_terms AS text)")
WRITE_TERMS = {
    "postgresql": [f"UPDATE search_entries SET search_vector = {_VECTOR} WHERE id = :id"],  # noqa: S608
    "sqlite": [
        "DELETE FROM search_fts WHERE rowid = :id",
        "INSERT INTO search_fts(rowid, title_terms, body_terms) "
        "VALUES (:id, :title_terms, :body_terms)",
    ],
}


# ---------------------------------------------------------------------------------------------
# Keeping the index up to date


_ENTRY_COLUMNS = ("kind", "post_id", "document_id", "page_id", "community_id", "thread_id")
_ENTRY_COLUMNS += ("published",)


def _upsert_statement(key: str) -> str:
    names = ", ".join(_ENTRY_COLUMNS)
    params = ", ".join(f":{name}" for name in _ENTRY_COLUMNS)
    changes = ", ".join(f"{name} = excluded.{name}" for name in _ENTRY_COLUMNS if name != key)
    return (
        f"INSERT INTO search_entries ({names}, {SEARCH_VECTOR}) VALUES ({params}, {_VECTOR}) "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {changes}, {SEARCH_VECTOR} = excluded.{SEARCH_VECTOR}"
    )


# PostgreSQL writes an entry and its terms in one statement, keyed by what it indexes: every
# post published is one round trip here, not three.
_UPSERT = {key: _upsert_statement(key) for key in ("post_id", "document_id", "page_id")}


async def _store(session: AsyncSession, where, values: dict, title: str, body: str) -> None:
    if session.bind.dialect.name == "postgresql":
        row = {name: values.get(name) for name in _ENTRY_COLUMNS}
        key = next(name for name in _UPSERT if row[name] is not None)
        row["title_terms"], row["body_terms"] = entry_terms(title, body)
        await session.execute(text(_UPSERT[key]), row)
        return
    entry = await session.scalar(select(SearchEntry).where(where))
    if entry is None:
        entry = SearchEntry(**values)
        session.add(entry)
    else:
        for key, value in values.items():
            if getattr(entry, key) != value:
                setattr(entry, key, value)
    await session.flush()
    title_terms, body_terms = entry_terms(title, body)
    params = {"id": entry.id, "title_terms": title_terms, "body_terms": body_terms}
    for statement in WRITE_TERMS[session.bind.dialect.name]:
        await session.execute(text(statement), params)


async def index_post(session: AsyncSession, post: Post) -> None:
    """Add, refresh or (for a tombstoned post) remove a post's entry; call after every write.

    The post must have its id (flushed) and its final `thread_id` (see `add_post`).
    """
    if post.is_deleted or post.is_removed:
        await remove_post(session, post.id)
        return
    values = {
        "kind": "thread" if post.thread_id is None else "reply",
        "post_id": post.id,
        "document_id": None,
        "community_id": post.community_id,
        "thread_id": post.thread_id or post.id,
        "published": post.published,
    }
    await _store(
        session, SearchEntry.post_id == post.id, values, post.title or "", post_body_text(post)
    )


async def index_document(
    session: AsyncSession, document: Document, version: DocumentVersion | None
) -> None:
    """Add, refresh or (for a deleted document) remove a document's entry.

    `version` is the document's latest version (its extracted `text` is indexed), or None.
    """
    if document.deleted_at is not None:
        await remove_document(session, document.id)
        return
    values = {
        "kind": "document",
        "post_id": None,
        "document_id": document.id,
        "community_id": document.community_id,
        "thread_id": None,
        "published": document.updated_at,
    }
    await _store(
        session,
        SearchEntry.document_id == document.id,
        values,
        document.title,
        document_body_text(document, version),
    )


async def index_page(session: AsyncSession, page: HarvestPage) -> None:
    """Add or refresh a harvest page's entry (after every revision or change of its sources)."""
    sources = list(await session.scalars(select(PageSource).where(PageSource.page_id == page.id)))
    values = {
        "kind": "page",
        "post_id": None,
        "document_id": None,
        "page_id": page.id,
        "community_id": page.community_id,
        "thread_id": None,
        "published": page.updated_at,
    }
    await _store(
        session, SearchEntry.page_id == page.id, values, page.title, page_body_text(page, sources)
    )


async def remove_post(session: AsyncSession, post_id: int) -> None:
    """Take a post out of the index."""
    await session.execute(delete(SearchEntry).where(SearchEntry.post_id == post_id))


async def remove_document(session: AsyncSession, document_id: int) -> None:
    """Take a document out of the index."""
    await session.execute(delete(SearchEntry).where(SearchEntry.document_id == document_id))
