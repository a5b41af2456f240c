"""watching: threads members watch and CoPs they follow without joining

Revision ID: 0010_watching
Revises: 0009_notifications
Create Date: 2026-12-02 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0010_watching"
down_revision = "0009_notifications"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = models.base.UTCDateTime(timezone=True)


def _reference(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred, _ = target.split(".")
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_{table}_{column}_{referred}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "thread_watches",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("thread_id", BigId, nullable=False),
        sa.Column("watching", sa.Boolean(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        _reference("thread_watches", "account_id", "accounts.actor_id"),
        _reference("thread_watches", "thread_id", "posts.id"),
        sa.PrimaryKeyConstraint("account_id", "thread_id", name=op.f("pk_thread_watches")),
    )
    op.create_index("ix_thread_watches_thread_id", "thread_watches", ["thread_id"])
    op.create_table(
        "community_subscriptions",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("community_id", BigId, nullable=False),
        sa.Column("created_at", When, nullable=False),
        _reference("community_subscriptions", "account_id", "accounts.actor_id"),
        _reference("community_subscriptions", "community_id", "communities.actor_id"),
        sa.PrimaryKeyConstraint(
            "account_id", "community_id", name=op.f("pk_community_subscriptions")
        ),
    )
    op.create_index(
        "ix_community_subscriptions_community_id", "community_subscriptions", ["community_id"]
    )


def downgrade() -> None:
    op.drop_table("community_subscriptions")
    op.drop_table("thread_watches")
