"""thread lists: partial indexes in the order a CoP's and the Network's thread lists are shown

Revision ID: 0016_thread_lists
Revises: 0015_retention
Create Date: 2026-12-02 08:00:00.000000

At 100,000 threads a big CoP's page read and sorted all of its threads (140 ms cold); with these
the list stops after a page and the count reads the index alone. Building them takes about a
second per million posts and blocks writes to `posts` meanwhile.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_thread_lists"
down_revision = "0015_retention"
branch_labels = None
depends_on = None

LISTED_THREAD = "thread_id IS NULL AND deleted_at IS NULL AND removed_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_posts_cop_threads",
        "posts",
        [
            "community_id",
            sa.text("(pinned_at IS NULL)"),
            sa.text("last_activity_at DESC"),
            sa.text("id DESC"),
        ],
        postgresql_where=sa.text(LISTED_THREAD),
        sqlite_where=sa.text(LISTED_THREAD),
    )
    op.create_index(
        "ix_posts_network_threads",
        "posts",
        ["last_activity_at", "id"],  # read backwards: newest activity first
        postgresql_where=sa.text(LISTED_THREAD),
        sqlite_where=sa.text(LISTED_THREAD),
    )


def downgrade() -> None:
    op.drop_index("ix_posts_network_threads", table_name="posts")
    op.drop_index("ix_posts_cop_threads", table_name="posts")
