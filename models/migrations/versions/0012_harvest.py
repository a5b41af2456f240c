"""harvest: a CoP's knowledge pages, their revisions and harvested sources; pages in search

`search_entries` gains `page_id` (kind 'page'). On SQLite batch mode copies the table, so the
trigger that keeps `search_fts` in step (migration 0004) is made again afterwards.

Revision ID: 0012_harvest
Revises: 0011_mail
Create Date: 2026-12-02 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0012_harvest"
down_revision = "0011_mail"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = models.base.UTCDateTime(timezone=True)


def _reference(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    target_table, _ = target.split(".")
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_{table}_{column}_{target_table}"),
        ondelete=ondelete,
    )


OLD_KIND_REF = (
    "(kind = 'document' AND document_id IS NOT NULL AND post_id IS NULL) OR "
    "(kind IN ('thread', 'reply') AND post_id IS NOT NULL AND document_id IS NULL)"
)
NEW_KIND_REF = (
    "(kind = 'document' AND document_id IS NOT NULL AND post_id IS NULL AND page_id IS NULL) OR "
    "(kind IN ('thread', 'reply') AND post_id IS NOT NULL AND document_id IS NULL "
    "AND page_id IS NULL) OR "
    "(kind = 'page' AND page_id IS NOT NULL AND post_id IS NULL AND document_id IS NULL)"
)
FTS_TRIGGER = """CREATE TRIGGER search_entries_fts_delete AFTER DELETE ON search_entries BEGIN
        DELETE FROM search_fts WHERE rowid = old.id;
    END"""


def _search_entries(kind_ref: str, *, with_page: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS search_entries_fts_delete")
    with op.batch_alter_table("search_entries") as batch_op:
        batch_op.drop_constraint(op.f("ck_search_entries_kind_ref"), type_="check")
        if with_page:
            batch_op.add_column(sa.Column("page_id", BigId, nullable=True))
            batch_op.create_foreign_key(
                op.f("fk_search_entries_page_id_harvest_pages"),
                "harvest_pages",
                ["page_id"],
                ["id"],
                ondelete="CASCADE",
            )
            batch_op.create_unique_constraint(op.f("uq_search_entries_page_id"), ["page_id"])
        else:
            batch_op.drop_constraint(op.f("uq_search_entries_page_id"), type_="unique")
            batch_op.drop_constraint(
                op.f("fk_search_entries_page_id_harvest_pages"), type_="foreignkey"
            )
            batch_op.drop_column("page_id")
        batch_op.create_check_constraint("kind_ref", sa.text(kind_ref))
    if sqlite:
        op.execute(FTS_TRIGGER)


def upgrade() -> None:
    op.create_table(
        "harvest_pages",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("ap_id", sa.String(length=2048), nullable=True),
        sa.Column("community_id", BigId, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False, server_default=""),
        sa.Column("created_by", BigId, nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.Column("retired_at", When, nullable=True),
        sa.Column("announced_revision", sa.Integer(), nullable=False),
        sa.Column("announced_at", When, nullable=True),
        _reference("harvest_pages", "community_id", "actors.id", "CASCADE"),
        _reference("harvest_pages", "created_by", "actors.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_pages")),
        sa.UniqueConstraint("ap_id", name=op.f("uq_harvest_pages_ap_id")),
    )
    op.create_index(
        "ix_harvest_pages_community_updated", "harvest_pages", ["community_id", "updated_at"]
    )
    op.create_table(
        "harvest_revisions",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("page_id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", BigId, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        _reference("harvest_revisions", "page_id", "harvest_pages.id", "CASCADE"),
        _reference("harvest_revisions", "author_id", "actors.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_revisions")),
        sa.UniqueConstraint("page_id", "number", name=op.f("uq_harvest_revisions_page_id_number")),
    )
    op.create_table(
        "harvest_sources",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("page_id", BigId, nullable=False),
        sa.Column("post_id", BigId, nullable=True),
        sa.Column("post_url", sa.String(length=2048), nullable=False),
        sa.Column("author_name", sa.String(length=255), nullable=False),
        sa.Column("author_handle", sa.String(length=512), nullable=False),
        sa.Column("community_name", sa.String(length=255), nullable=False),
        sa.Column("posted_at", When, nullable=True),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("harvested_by", BigId, nullable=True),
        sa.Column("harvested_at", When, nullable=False),
        _reference("harvest_sources", "page_id", "harvest_pages.id", "CASCADE"),
        _reference("harvest_sources", "post_id", "posts.id", "SET NULL"),
        _reference("harvest_sources", "harvested_by", "actors.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_sources")),
    )
    op.create_index(op.f("ix_harvest_sources_page_id"), "harvest_sources", ["page_id"])
    op.create_index(op.f("ix_harvest_sources_post_id"), "harvest_sources", ["post_id"])
    with op.batch_alter_table("communities") as batch_op:
        batch_op.add_column(
            sa.Column(
                "harvest_restricted_to_mods",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    _search_entries(NEW_KIND_REF, with_page=True)


def downgrade() -> None:
    op.execute("DELETE FROM search_entries WHERE kind = 'page'")
    _search_entries(OLD_KIND_REF, with_page=False)
    with op.batch_alter_table("communities") as batch_op:
        batch_op.drop_column("harvest_restricted_to_mods")
    op.drop_table("harvest_sources")
    op.drop_table("harvest_revisions")
    op.drop_table("harvest_pages")
