"""mail: verified addresses, mail preferences, single-use mail tokens

Revision ID: 0011_mail
Revises: 0010_watching
Create Date: 2026-12-02 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0011_mail"
down_revision = "0010_watching"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = models.base.UTCDateTime(timezone=True)


def _account(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.actor_id"],
        name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "mail_profiles",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("verified_email", sa.String(length=320), nullable=True),
        sa.Column("network_digest", sa.Boolean(), nullable=False),
        sa.Column("unsubscribe_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        _account("mail_profiles"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_mail_profiles")),
    )
    op.create_table(
        "mail_preferences",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        _account("mail_preferences"),
        sa.PrimaryKeyConstraint("account_id", "kind", name=op.f("pk_mail_preferences")),
    )
    op.create_table(
        "mail_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("used_at", When, nullable=True),
        _account("mail_tokens"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_mail_tokens")),
    )
    op.create_index("ix_mail_tokens_account_purpose", "mail_tokens", ["account_id", "purpose"])


def downgrade() -> None:
    op.drop_table("mail_tokens")
    op.drop_table("mail_preferences")
    op.drop_table("mail_profiles")
