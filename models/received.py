"""Activities accepted by an inbox, kept until processed: nothing accepted is lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
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


async def store_received(session: AsyncSession, row: ReceivedActivity) -> bool:
    """Insert an incoming activity unless its id was seen before; True if it is new."""
    values = {
        column.key: getattr(row, column.key)
        for column in ReceivedActivity.__table__.columns
        if column.key != "id" and getattr(row, column.key) is not None
    }
    dialect = session.bind.dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ReceivedActivity).values(**values).on_conflict_do_nothing(index_elements=["ap_id"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)


async def finish(
    session: AsyncSession, row_id: int, *, state: str, now: datetime, error: str = ""
) -> None:
    """Mark a claimed activity done, ignored or rejected, in the caller's transaction."""
    await session.execute(
        update(ReceivedActivity)
        .where(ReceivedActivity.id == row_id)
        .values(state=state, processed_at=now, locked_until=None, last_error=error[:2000])
    )


async def postpone(
    session: AsyncSession, row_id: int, *, attempts: int, next_attempt_at: datetime, error: str,
    give_up: bool,
) -> None:  # fmt: skip
    """Record a transient failure: retry later, or give up after too many attempts."""
    await session.execute(
        update(ReceivedActivity)
        .where(ReceivedActivity.id == row_id)
        .values(
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            locked_until=None,
            last_error=error[:2000],
            state="failed" if give_up else "pending",
        )
    )


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    """How many received activities are in each state."""
    query = select(ReceivedActivity.state, func.count()).group_by(ReceivedActivity.state)
    return {state: int(count) for state, count in await session.execute(query)}
