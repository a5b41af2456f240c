"""interop: a Basecamp poll's closing time, fixed when the poll is first published

Revision ID: 0014_interop
Revises: 0009_notifications
Create Date: 2026-12-02 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0014_interop"
down_revision = "0009_notifications"
branch_labels = None
depends_on = None

When = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("poll_closes_at", When, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("poll_closes_at")
