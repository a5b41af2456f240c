"""accounts: the language of a member's posts, their picture, when they were last seen

Revision ID: 0007_accounts
Revises: 0006_own_words
Create Date: 2026-12-02 01:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007_accounts"
down_revision = "0006_own_words"
branch_labels = None
depends_on = None

When = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("accounts", sa.Column("language", sa.String(length=16), nullable=True))
    op.add_column("accounts", sa.Column("picture_sha256", sa.String(length=64), nullable=True))
    op.add_column("accounts", sa.Column("last_seen_at", When, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("last_seen_at")
        batch.drop_column("picture_sha256")
        batch.drop_column("language")
