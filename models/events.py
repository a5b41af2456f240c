"""Events: Basecamps organised on this Network and remote `Event`s archived in a CoP.

A Basecamp is ours (`ap_id` is null; its id is /b/{id}); an event posted into a CoP from
Mobilizon, Gancio or Friendica keeps its remote `ap_id`. Times are UTC instants plus the IANA
zone they were planned in, so the wall time survives daylight-saving changes (FEP-8a8e).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow

CONFIRMED, CANCELLED = "CONFIRMED", "CANCELLED"
GOING, MAYBE, DECLINED, WAITLIST = "going", "maybe", "declined", "waitlist"
ROLES = (GOING, MAYBE, DECLINED, WAITLIST)


class Event(Base):
    """One event: a Basecamp of ours (`ap_id` null) or a remote one archived in a CoP."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_starts_at", "starts_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ap_id: Mapped[str | None] = mapped_column(String(2048), unique=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    # attributedTo: the Network actor for Basecamps, the remote group or person otherwise.
    organizer_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(512))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    place_name: Mapped[str] = mapped_column(String(512), default="")
    street_address: Mapped[str] = mapped_column(String(512), default="")
    locality: Mapped[str] = mapped_column(String(255), default="")
    region: Mapped[str] = mapped_column(String(255), default="")
    postal_code: Mapped[str] = mapped_column(String(32), default="")
    country: Mapped[str] = mapped_column(String(255), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    online_url: Mapped[str | None] = mapped_column(String(2048))
    capacity: Mapped[int | None] = mapped_column(Integer)
    banner_url: Mapped[str | None] = mapped_column(String(2048))
    category: Mapped[str] = mapped_column(String(64), default="MEETING")
    join_mode: Mapped[str] = mapped_column(String(16), default="free")
    comments_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default=CONFIRMED)
    # Bumped on every change: iCalendar SEQUENCE (RFC 5545 §3.8.7.4).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Ours: the true count of "going" RSVPs; remote: what the origin last reported.
    participant_count: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A Basecamp poll's `endTime`, fixed when first published: GoToSocial treats a poll whose
    # expiry moved as a new poll and drops its votes, so moving the Basecamp must not move it.
    poll_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Replies to a Basecamp's Event or poll (Mastodon users answering the status) are kept in a
    # thread of the Network actor's CoP, created with the first one.
    thread_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="SET NULL")
    )

    @property
    def is_basecamp(self) -> bool:
        """True for events organised on this Network."""
        return self.ap_id is None

    @property
    def is_cancelled(self) -> bool:
        """True once the organisers called it off."""
        return self.status == CANCELLED

    @property
    def has_place(self) -> bool:
        """True when the event happens somewhere physical."""
        return bool(self.place_name or self.street_address or self.locality)

    @property
    def address_line(self) -> str:
        """The postal address on one line."""
        parts = (self.street_address, self.locality, self.region, self.postal_code, self.country)
        return ", ".join(part for part in parts if part)


class EventHost(Base):
    """A CoP that hosts a Basecamp (or in which a remote event was posted)."""

    __tablename__ = "event_hosts"

    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("communities.actor_id", ondelete="CASCADE"), primary_key=True, index=True
    )


class EventParticipant(Base):
    """One actor's RSVP to a Basecamp, by Join, by poll vote or on the web; one per actor."""

    __tablename__ = "event_participants"
    __table_args__ = (
        UniqueConstraint("event_id", "actor_id"),
        Index("ix_event_participants_event_role", "event_id", "role"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    via: Mapped[str] = mapped_column(String(8))  # join, vote or web
    activity_ap_id: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
