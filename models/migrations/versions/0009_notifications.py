"""notifications: what each member should hear about

Revision ID: 0009_notifications
Revises: 0008_moderation
Create Date: 2026-12-02 04:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0009_notifications"
down_revision = "0008_moderation"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = models.base.UTCDateTime(timezone=True)


def _reference(column: str, target: str) -> sa.ForeignKeyConstraint:
    table, _ = target.split(".")
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_notifications_{column}_{table}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", BigId, nullable=True),
        sa.Column("post_id", BigId, nullable=True),
        sa.Column("community_id", BigId, nullable=True),
        sa.Column("event_id", BigId, nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("read_at", When, nullable=True),
        sa.Column("emailed_at", When, nullable=True),
        _reference("account_id", "accounts.actor_id"),
        _reference("actor_id", "actors.id"),
        _reference("post_id", "posts.id"),
        _reference("community_id", "actors.id"),
        _reference("event_id", "events.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_account_created", "notifications", ["account_id", "created_at"]
    )
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["account_id"],
        postgresql_where=sa.text("read_at IS NULL"),
        sqlite_where=sa.text("read_at IS NULL"),
    )
    op.create_index(
        "ix_notifications_unmailed",
        "notifications",
        ["created_at"],
        postgresql_where=sa.text("emailed_at IS NULL"),
        sqlite_where=sa.text("emailed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("notifications")
