"""events: Basecamps and archived remote events, their hosts and RSVPs; scheduled jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("ap_id", sa.String(length=2048), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("organizer_id", BigId, nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("description_source", sa.Text(), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("starts_at", When, nullable=False),
        sa.Column("ends_at", When, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("place_name", sa.String(length=512), nullable=False),
        sa.Column("street_address", sa.String(length=512), nullable=False),
        sa.Column("locality", sa.String(length=255), nullable=False),
        sa.Column("region", sa.String(length=255), nullable=False),
        sa.Column("postal_code", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=255), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("online_url", sa.String(length=2048), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("banner_url", sa.String(length=2048), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("join_mode", sa.String(length=16), nullable=False),
        sa.Column("comments_enabled", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("participant_count", sa.Integer(), nullable=False),
        sa.Column("published", When, nullable=False),
        sa.Column("updated", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["actors.id"],
            name=op.f("fk_events_organizer_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["actors.id"],
            name=op.f("fk_events_created_by_id_actors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("ap_id", name=op.f("uq_events_ap_id")),
    )
    op.create_index("ix_events_starts_at", "events", ["starts_at", "id"], unique=False)

    op.create_table(
        "event_hosts",
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("community_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_hosts_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.actor_id"],
            name=op.f("fk_event_hosts_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "community_id", name=op.f("pk_event_hosts")),
    )
    op.create_index(
        op.f("ix_event_hosts_community_id"), "event_hosts", ["community_id"], unique=False
    )

    op.create_table(
        "event_participants",
        sa.Column("id", BigId, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("actor_id", BigId, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("activity_ap_id", sa.String(length=2048), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_participants_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_event_participants_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_participants")),
        sa.UniqueConstraint(
            "event_id", "actor_id", name=op.f("uq_event_participants_event_id_actor_id")
        ),
    )
    op.create_index("ix_event_participants_event_role", "event_participants", ["event_id", "role"])

    op.create_table(
        "scheduled_jobs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("run_at", When, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", When, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("event_id", BigId, nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("finished_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_scheduled_jobs_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_scheduled_jobs_key")),
    )
    op.create_index(
        op.f("ix_scheduled_jobs_event_id"), "scheduled_jobs", ["event_id"], unique=False
    )
    op.create_index(
        "ix_scheduled_jobs_pending",
        "scheduled_jobs",
        ["run_at", "id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
        sqlite_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_scheduled_jobs_pending", table_name="scheduled_jobs")
    op.drop_index(op.f("ix_scheduled_jobs_event_id"), table_name="scheduled_jobs")
    op.drop_table("scheduled_jobs")
    op.drop_index("ix_event_participants_event_role", table_name="event_participants")
    op.drop_table("event_participants")
    op.drop_index(op.f("ix_event_hosts_community_id"), table_name="event_hosts")
    op.drop_table("event_hosts")
    op.drop_index("ix_events_starts_at", table_name="events")
    op.drop_table("events")
