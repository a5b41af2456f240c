"""signature_standard: which HTTP signature standard each remote server accepts

Revision ID: 0013_signature_standard
Revises: 0012_harvest
Create Date: 2026-12-02 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0013_signature_standard"
down_revision = "0012_harvest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("instances", sa.Column("signature_standard", sa.String(length=16), nullable=True))
    op.add_column(
        "instances",
        sa.Column("signature_learned_at", models.base.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("signature_learned_at")
        batch.drop_column("signature_standard")
