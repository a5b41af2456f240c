"""Mail: each member's address check, preferences and unsubscribe key, and single-use tokens.

A member's address counts as verified while `verified_email` equals `accounts.email`: changing
the address un-verifies it without another write. Tokens (address checks, password resets) are
stored as SHA-256 digests only, like session cookies and invitations.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow
from models.notifications import (
    BASECAMP_CANCELLED,
    BASECAMP_CHANGED,
    BASECAMP_REMINDER,
    JOIN_REQUEST,
    KINDS,
    LIKE,
    MENTION,
    NEW_THREAD,
    REPLY,
    REPORT,
    WATCHED_REPLY,
)

IMMEDIATE, DAILY, WEEKLY, NEVER = "immediate", "daily", "weekly", "never"
DELIVERIES = (IMMEDIATE, DAILY, WEEKLY, NEVER)
# What a member gets before choosing: what needs an answer at once, the rest in the daily
# digest, likes never (they are the bell's business).
DEFAULT_DELIVERY = {
    REPLY: IMMEDIATE,
    MENTION: IMMEDIATE,
    LIKE: NEVER,
    NEW_THREAD: DAILY,
    WATCHED_REPLY: DAILY,
    BASECAMP_CHANGED: IMMEDIATE,
    BASECAMP_CANCELLED: IMMEDIATE,
    BASECAMP_REMINDER: IMMEDIATE,
    JOIN_REQUEST: IMMEDIATE,
    REPORT: IMMEDIATE,
}
assert set(DEFAULT_DELIVERY) == set(KINDS)

VERIFY, RESET = "verify", "reset"


class MailProfile(Base):
    """A member's mail state: which address was verified, the Network digest, unsubscribing."""

    __tablename__ = "mail_profiles"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.actor_id", ondelete="CASCADE"), primary_key=True
    )
    verified_email: Mapped[str | None] = mapped_column(String(320))
    network_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    # Signs the member's one-click unsubscribe links (HMAC), so no link is ever stored.
    unsubscribe_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailPreference(Base):
    """How one kind of notification reaches a member by mail; no row: DEFAULT_DELIVERY."""

    __tablename__ = "mail_preferences"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.actor_id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(16))


class MailToken(Base):
    """A single-use link sent by mail: check an address, or reset a password."""

    __tablename__ = "mail_tokens"
    __table_args__ = (Index("ix_mail_tokens_account_purpose", "account_id", "purpose"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.actor_id", ondelete="CASCADE")
    )
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(320))  # where it was sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
