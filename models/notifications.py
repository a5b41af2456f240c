"""In-app notifications: one row per thing a member should hear about, made by the workers.

The row is the contract between the parts that call members back: the notifications page and
bell read it, and the mailer sends it (at once or in a digest) by the member's preferences,
stamping `emailed_at` so nothing is mailed twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow

# What a notification is about; each is also the `kind` column's value and the key of the
# member's mail preference for it.
REPLY = "reply"  # a reply to your post
MENTION = "mention"  # you were mentioned
LIKE = "like"  # someone liked your post
NEW_THREAD = "new_thread"  # a new thread in a CoP you joined or follow
WATCHED_REPLY = "watched_reply"  # a reply in a thread you watch
BASECAMP_CHANGED = "basecamp_changed"  # a Basecamp you said yes to moved or changed
BASECAMP_CANCELLED = "basecamp_cancelled"
BASECAMP_REMINDER = "basecamp_reminder"
JOIN_REQUEST = "join_request"  # moderators: someone asks to join a private CoP
REPORT = "report"  # moderators: a report about content in their CoP
KINDS = (
    REPLY,
    MENTION,
    LIKE,
    NEW_THREAD,
    WATCHED_REPLY,
    BASECAMP_CHANGED,
    BASECAMP_CANCELLED,
    BASECAMP_REMINDER,
    JOIN_REQUEST,
    REPORT,
)


class Notification(Base):
    """Something `account_id` should hear about, caused by `actor_id` (local or remote)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_account_created", "account_id", "created_at"),
        Index(
            "ix_notifications_unread",
            "account_id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
        Index(
            "ix_notifications_unmailed",
            "created_at",
            postgresql_where=text("emailed_at IS NULL"),
            sqlite_where=text("emailed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.actor_id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="CASCADE")
    )
    event_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    # Short words to show when no linked row says more (a report's reason, a Basecamp's move).
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
