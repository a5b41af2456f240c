"""interop: a Basecamp poll's fixed closing time, and the thread of replies to a Basecamp

Revision ID: 0014_interop
Revises: 0013_signature_standard
Create Date: 2026-12-02 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0014_interop"
down_revision = "0013_signature_standard"
branch_labels = None
depends_on = None

When = models.base.UTCDateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("poll_closes_at", When, nullable=True))
        batch.add_column(sa.Column("thread_id", BigId, nullable=True))
        batch.create_foreign_key(
            op.f("fk_events_thread_id_posts"), "posts", ["thread_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint(op.f("fk_events_thread_id_posts"), type_="foreignkey")
        batch.drop_column("thread_id")
        batch.drop_column("poll_closes_at")
