"""Follows of local actors (CoP membership for remote people)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow


class Follow(Base):
    """`follower` follows `followed`; `state` is pending until accepted."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("followed_id", "follower_id"),
        Index("ix_follows_followed_state", "followed_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    followed_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    follower_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default="accepted")
    activity_ap_id: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
