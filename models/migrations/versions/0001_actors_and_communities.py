"""Actors (local and remote) and Communities of Practice.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from models.base import BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actors",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("local_name", sa.String(64), nullable=True),
        sa.Column("ap_id", sa.String(2048), nullable=True),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("domain", sa.String(255), nullable=True),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("summary_source", sa.Text(), nullable=False),
        sa.Column("summary_html", sa.Text(), nullable=False),
        sa.Column("inbox_url", sa.String(2048), nullable=True),
        sa.Column("shared_inbox_url", sa.String(2048), nullable=True),
        sa.Column("public_key_id", sa.String(2048), nullable=True),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=True),
        sa.Column("published", UTCDateTime(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.Column("gone", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actors")),
        sa.UniqueConstraint("local_name", name=op.f("uq_actors_local_name")),
        sa.UniqueConstraint("ap_id", name=op.f("uq_actors_ap_id")),
    )
    op.create_index(op.f("ix_actors_domain"), "actors", ["domain"])
    op.create_table(
        "communities",
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("posting_restricted_to_mods", sa.Boolean(), nullable=False),
        sa.Column("manually_approves_followers", sa.Boolean(), nullable=False),
        sa.Column("discoverable", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_communities_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_communities")),
    )
    op.create_table(
        "community_moderators",
        sa.Column("community_id", BigId, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.actor_id"],
            name=op.f("fk_community_moderators_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_community_moderators_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", "actor_id", name=op.f("pk_community_moderators")),
    )


def downgrade() -> None:
    op.drop_table("community_moderators")
    op.drop_table("communities")
    op.drop_index(op.f("ix_actors_domain"), table_name="actors")
    op.drop_table("actors")
