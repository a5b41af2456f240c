"""Reports: someone (a member, or another server by `Flag`) asks moderators to look at something."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow
from models.communities import CommunityModerator
from models.received import ReceivedActivity

RESOLUTIONS = ("remove", "ban", "dismiss")


class Report(Base):
    """One report. `state`: open, resolved (with `resolution`), or ignored (with `note`)."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_state_community", "state", "community_id"),
        Index("ix_reports_origin_created", "origin_domain", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The local CoP concerned (null: a matter for the admins, e.g. a report about a person).
    community_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="CASCADE")
    )
    reporter_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="SET NULL")
    )
    post_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("posts.id", ondelete="SET NULL"))
    document_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="SET NULL")
    )
    target_actor_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="SET NULL")
    )
    # What a Flag named, as sent (kept for ignored reports too).
    target_ap_id: Mapped[str | None] = mapped_column(String(2048))
    reason: Mapped[str] = mapped_column(Text, default="")
    activity_ap_id: Mapped[str | None] = mapped_column(String(2048))
    origin_domain: Mapped[str | None] = mapped_column(String(255))  # null: made on our website
    state: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str] = mapped_column(Text, default="")  # why ignored, or the resolver's words
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def flags_before(session: AsyncSession, origin: str, ap_id: str, since: datetime) -> int:
    """How many Flags from a server (`origin`: "scheme://host/") arrived since a time and before
    the one with this id: the same answer however many workers process them, in any order."""
    this = select(ReceivedActivity.id).where(ReceivedActivity.ap_id == ap_id).scalar_subquery()
    query = select(func.count()).where(
        ReceivedActivity.type == "Flag",
        ReceivedActivity.actor_ap_id.startswith(origin, autoescape=True),
        ReceivedActivity.received_at > since,
        ReceivedActivity.id < this,
    )
    return int(await session.scalar(query) or 0)


async def open_reports(
    session: AsyncSession, *, moderator_id: int, admin: bool, limit: int = 100
) -> list[Report]:
    """Open reports this person may handle: their CoPs' (admins: all), oldest first."""
    query = select(Report).where(Report.state == "open")
    if not admin:
        theirs = select(CommunityModerator.community_id).where(
            CommunityModerator.actor_id == moderator_id
        )
        query = query.where(Report.community_id.in_(theirs))
    return list(await session.scalars(query.order_by(Report.created_at, Report.id).limit(limit)))
