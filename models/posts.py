"""Posts archived in a CoP: thread starters and replies at any depth, and their likes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow


class Post(Base):
    """A Note/Page/Article in a CoP; `thread_id` is null for the thread's top post."""

    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_community_activity", "community_id", "thread_id", "last_activity_at"),
        Index("ix_posts_thread_published", "thread_id", "published"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ap_id: Mapped[str | None] = mapped_column(String(2048), unique=True)  # null: ours
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    depth: Mapped[int] = mapped_column(Integer, default=0)
    type: Mapped[str] = mapped_column(String(32), default="Note")
    title: Mapped[str] = mapped_column(String(512), default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")  # content warning
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str | None] = mapped_column(String(2048))
    attachments: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of link records
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_deleted(self) -> bool:
        """Deleted posts are kept as Tombstones, without content."""
        return self.deleted_at is not None


class Like(Base):
    """One actor's like of one post."""

    __tablename__ = "likes"

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    activity_ap_id: Mapped[str | None] = mapped_column(String(2048), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
