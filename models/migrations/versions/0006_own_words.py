"""own words: revisions of edited posts; a CoP's language

Revision ID: 0006_own_words
Revises: 0005
Create Date: 2026-12-02 01:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0006_own_words"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "post_revisions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("post_id", BigId, nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("content_html", sa.Text(), nullable=False),
        sa.Column("written_at", When, nullable=False),
        sa.Column("replaced_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_revisions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revisions")),
    )
    op.create_index(op.f("ix_post_revisions_post_id"), "post_revisions", ["post_id"], unique=False)
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("mentions", sa.Text(), nullable=False, server_default="[]"))
    with op.batch_alter_table("communities") as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=16), nullable=False, server_default="en")
        )


def downgrade() -> None:
    with op.batch_alter_table("communities") as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_column("mentions")
    op.drop_index(op.f("ix_post_revisions_post_id"), table_name="post_revisions")
    op.drop_table("post_revisions")
