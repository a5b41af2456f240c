"""retention: age indexes for removing old finished queue rows; shared rate-limit events

Revision ID: 0015_retention
Revises: 0014_interop
Create Date: 2026-12-02 05:00:00.000000

On a large existing table these CREATE INDEX statements block writes to it while they build
(on the order of a minute per ten million rows): upgrade while the inboxes can wait.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_retention"
down_revision = "0014_interop"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    with op.batch_alter_table("rate_limit_hits", schema=None) as batch_op:
        batch_op.create_index("ix_rate_limit_hits_key", ["bucket", "key", "at"], unique=False)
    with op.batch_alter_table("received_activities", schema=None) as batch_op:
        batch_op.create_index("ix_received_received_at", ["received_at"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_created_at")
    with op.batch_alter_table("received_activities", schema=None) as batch_op:
        batch_op.drop_index("ix_received_received_at")
    op.drop_table("rate_limit_hits")
