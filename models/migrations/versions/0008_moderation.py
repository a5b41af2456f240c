"""moderation: removed/locked/pinned posts, CoP bans, the moderation log

Revision ID: 0008_moderation
Revises: 0007_accounts
Create Date: 2026-12-02 01:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0008_moderation"
down_revision = "0007_accounts"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("removed_at", When, nullable=True))
        batch.add_column(sa.Column("removal_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("locked_at", When, nullable=True))
        batch.add_column(sa.Column("pinned_at", When, nullable=True))
    op.create_table(
        "community_bans",
        sa.Column("community_id", BigId, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", When, nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["actors.id"],
            name=op.f("fk_community_bans_community_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_community_bans_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", "actor_id", name=op.f("pk_community_bans")),
    )
    op.create_table(
        "moderation_actions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("community_id", BigId, nullable=False),
        sa.Column("moderator_id", BigId, nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_actor_id", BigId, nullable=True),
        sa.Column("target_post_id", BigId, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", When, nullable=True),
        sa.Column("activity_ap_id", sa.String(length=2048), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["actors.id"],
            name=op.f("fk_moderation_actions_community_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["actors.id"],
            name=op.f("fk_moderation_actions_moderator_id_actors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_actor_id"],
            ["actors.id"],
            name=op.f("fk_moderation_actions_target_actor_id_actors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_post_id"],
            ["posts.id"],
            name=op.f("fk_moderation_actions_target_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_actions")),
    )
    op.create_index(
        "ix_moderation_actions_community_created",
        "moderation_actions",
        ["community_id", "created_at"],
    )

    op.create_table(
        "suspensions",
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_suspensions_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_suspensions")),
    )
    op.create_table(
        "reports",
        sa.Column("id", BigId, nullable=False),
        sa.Column("community_id", BigId, nullable=True),
        sa.Column("reporter_id", BigId, nullable=True),
        sa.Column("post_id", BigId, nullable=True),
        sa.Column("document_id", BigId, nullable=True),
        sa.Column("target_actor_id", BigId, nullable=True),
        sa.Column("target_ap_id", sa.String(length=2048), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("activity_ap_id", sa.String(length=2048), nullable=True),
        sa.Column("origin_domain", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolved_by_id", BigId, nullable=True),
        sa.Column("resolved_at", When, nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["actors.id"],
            name=op.f("fk_reports_community_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["actors.id"],
            name=op.f("fk_reports_reporter_id_actors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_reports_post_id_posts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_reports_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_actor_id"],
            ["actors.id"],
            name=op.f("fk_reports_target_actor_id_actors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["actors.id"],
            name=op.f("fk_reports_resolved_by_id_actors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    op.create_index("ix_reports_state_community", "reports", ["state", "community_id"])
    op.create_index("ix_reports_origin_created", "reports", ["origin_domain", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_origin_created", table_name="reports")
    op.drop_index("ix_reports_state_community", table_name="reports")
    op.drop_table("reports")
    op.drop_table("suspensions")
    op.drop_index("ix_moderation_actions_community_created", table_name="moderation_actions")
    op.drop_table("moderation_actions")
    op.drop_table("community_bans")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("pinned_at")
        batch.drop_column("locked_at")
        batch.drop_column("removal_reason")
        batch.drop_column("removed_at")
