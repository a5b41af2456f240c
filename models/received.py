"""Activities accepted by an inbox, kept until processed: nothing accepted is lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow


class ReceivedActivity(Base):
    """One incoming activity, stored before the inbox answers 202."""

    __tablename__ = "received_activities"
    __table_args__ = (Index("ix_received_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    actor_ap_id: Mapped[str] = mapped_column(String(2048))
    signer_key_id: Mapped[str] = mapped_column(String(2048))
    inbox: Mapped[str] = mapped_column(String(255))  # "shared" or the local actor's name
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)  # exactly as received
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
