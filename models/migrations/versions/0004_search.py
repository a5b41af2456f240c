"""search: search_entries, with a GIN-indexed tsvector (PostgreSQL) or an FTS5 table (SQLite)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00.000000

`search_entries` is an ordinary table, described by `models.search_index.SearchEntry`. The terms of
each entry live in an engine-specific structure that is not part of the models
(`models.search_index.include_name` keeps schema comparisons from seeing it) and that
`models.search_index` writes:

- PostgreSQL: the `search_vector` tsvector column and its GIN index
  `ix_search_entries_search_vector`.
- SQLite: the FTS5 table `search_fts` (rowid = search_entries.id); a trigger deletes its row
  when the entry goes, also when a post, document or CoP delete cascades.

Existing posts and documents are indexed here with the analyser of the code that runs this
migration (`models.search_index`). If a later migration rebuilds `search_entries` on SQLite (batch
mode copies the table), it must recreate the trigger.
"""

import sqlalchemy as sa
from alembic import op

import models.base
from models import search_index, text_analysis

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_terms, body_terms, tokenize='unicode61')",
    """CREATE TRIGGER search_entries_fts_delete AFTER DELETE ON search_entries BEGIN
        DELETE FROM search_fts WHERE rowid = old.id;
    END""",
]
POSTGRES_FTS = [
    "ALTER TABLE search_entries ADD COLUMN search_vector tsvector",
    "CREATE INDEX ix_search_entries_search_vector ON search_entries USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "search_entries",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("post_id", BigId, nullable=True),
        sa.Column("document_id", BigId, nullable=True),
        sa.Column("community_id", BigId, nullable=False),
        sa.Column("thread_id", BigId, nullable=True),
        sa.Column("published", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'document' AND document_id IS NOT NULL AND post_id IS NULL) OR "
            "(kind IN ('thread', 'reply') AND post_id IS NOT NULL AND document_id IS NULL)",
            name=op.f("ck_search_entries_kind_ref"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["actors.id"],
            name=op.f("fk_search_entries_community_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_search_entries_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_search_entries_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("document_id", name=op.f("uq_search_entries_document_id")),
        sa.UniqueConstraint("post_id", name=op.f("uq_search_entries_post_id")),
    )
    op.create_index(
        "ix_search_entries_community_published",
        "search_entries",
        ["community_id", "published"],
        unique=False,
    )
    op.create_index("ix_search_entries_published", "search_entries", ["published"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_FTS if dialect == "postgresql" else SQLITE_FTS:
        op.execute(statement)
    _index_existing_content(dialect)


def _index_existing_content(dialect: str) -> None:
    """Index the posts and documents stored before search existed."""
    connection = op.get_bind()
    columns = "id community_id thread_id title summary content_html published deleted_at"
    posts = sa.table("posts", *(sa.column(name) for name in columns.split()))
    columns = "id community_id title description updated_at deleted_at"
    documents = sa.table("documents", *(sa.column(name) for name in columns.split()))
    versions = sa.table("document_versions", sa.column("id"), sa.column("document_id"))
    version_text = sa.table("document_versions", sa.column("id"), sa.column("text"))
    columns = "id kind post_id document_id community_id thread_id published"
    entries = sa.table("search_entries", *(sa.column(name) for name in columns.split()))
    write_terms = [sa.text(statement) for statement in search_index.WRITE_TERMS[dialect]]

    def index(values: dict, title: str, body: str) -> None:
        entry_id = connection.execute(entries.insert().values(values).returning(entries.c.id))
        title_terms, body_terms = text_analysis.entry_terms(title, body)
        params = {"id": entry_id.scalar_one(), "title_terms": title_terms, "body_terms": body_terms}
        for statement in write_terms:
            connection.execute(statement, params)

    def joined(*parts: str | None) -> str:
        return "\n\n".join(part.strip() for part in parts if part and part.strip())

    last = 0
    while True:
        rows = connection.execute(
            sa.select(posts)
            .where(posts.c.id > last, posts.c.deleted_at.is_(None))
            .order_by(posts.c.id)
            .limit(500)
        ).all()
        for row in rows:
            values = {
                "kind": "thread" if row.thread_id is None else "reply",
                "post_id": row.id,
                "document_id": None,
                "community_id": row.community_id,
                "thread_id": row.thread_id or row.id,
                "published": row.published,
            }
            body = joined(row.summary, text_analysis.html_text(row.content_html or ""))
            index(values, row.title or "", body)
        if len(rows) < 500:
            break
        last = rows[-1].id

    latest = (
        sa.select(versions.c.document_id, sa.func.max(versions.c.id).label("version_id"))
        .group_by(versions.c.document_id)
        .subquery()
    )
    rows = connection.execute(
        sa.select(documents, version_text.c.text)
        .outerjoin(latest, latest.c.document_id == documents.c.id)
        .outerjoin(version_text, version_text.c.id == latest.c.version_id)
        .where(documents.c.deleted_at.is_(None))
        .order_by(documents.c.id)
    ).all()
    for row in rows:
        values = {
            "kind": "document",
            "post_id": None,
            "document_id": row.id,
            "community_id": row.community_id,
            "thread_id": None,
            "published": row.updated_at,
        }
        index(values, row.title or "", joined(row.description, row.text))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS search_entries_fts_delete")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_index("ix_search_entries_published", table_name="search_entries")
    op.drop_index("ix_search_entries_community_published", table_name="search_entries")
    op.drop_table("search_entries")
