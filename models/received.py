"""Activities accepted by an inbox, kept until processed: nothing accepted is lost."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, bindparam, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow
from models.upsert import dialect_insert


class ReceivedActivity(Base):
    """One incoming activity, stored before the inbox answers 202."""

    __tablename__ = "received_activities"
    __table_args__ = (
        Index("ix_received_due", "state", "next_attempt_at"),
        Index("ix_received_received_at", "received_at"),  # retention walks the oldest first
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The dedupe key: the activity id, suffixed " forwarded by HOST" when another server sent it.
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


async def store_batch(connection: AsyncConnection, rows: list[dict]) -> set[str]:
    """Insert incoming activities in one statement; returns the ap_ids that were new.

    Rows whose ap_id was seen before are skipped (ON CONFLICT DO NOTHING), so an activity
    sent twice is processed once.
    """
    if not rows:
        return set()
    if connection.dialect.name == "postgresql":
        columns = {name: [row[name] for row in rows] for name in _BATCH_COLUMNS}
        result = await connection.execute(_insert_from_arrays(), columns)
    else:
        table = ReceivedActivity.__table__
        statement = (
            dialect_insert(connection)(table)
            .on_conflict_do_nothing(index_elements=["ap_id"])
            .returning(table.c.ap_id)
        )
        result = await connection.execute(statement, rows)
    return set(result.scalars())


# What received_row fills in; the rest (id, locked_until, processed_at) start empty.
_BATCH_COLUMNS = (
    "ap_id",
    "type",
    "actor_ap_id",
    "signer_key_id",
    "inbox",
    "forwarded",
    "body",
    "state",
    "attempts",
    "next_attempt_at",
    "received_at",
    "last_error",
)


@functools.cache
def _insert_from_arrays():
    # One array per column, whatever the batch's size: the statement text never changes, so it
    # is compiled and prepared once, where a multi-row VALUES list is a new statement (a new
    # prepare, a round trip) for every batch size.
    table = ReceivedActivity.__table__
    arrays = [
        bindparam(name, type_=postgresql.ARRAY(table.c[name].type)) for name in _BATCH_COLUMNS
    ]
    unnested = func.unnest(*arrays).table_valued(*_BATCH_COLUMNS).render_derived()
    return (
        postgresql.insert(table)
        .from_select(_BATCH_COLUMNS, select(unnested))
        .on_conflict_do_nothing(index_elements=["ap_id"])
        .returning(table.c.ap_id)
    )


def unstorable_reason(row: dict) -> str | None:
    """Why the database could not keep this row (a text too long, NUL, a lone surrogate)."""
    for name, limit in _text_columns():
        value = row.get(name)
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            return f"{name} holds a NUL character"
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"{name} holds a lone UTF-16 surrogate"
        if limit is not None and len(value) > limit:
            return f"{name} is longer than {limit} characters"
    return None


@functools.cache
def _text_columns() -> tuple[tuple[str, int | None], ...]:
    # Read once: walking the table's columns costs more than the checks (every inbox POST).
    return tuple(
        (column.name, column.type.length)
        for column in ReceivedActivity.__table__.columns
        if isinstance(column.type, String)
    )


def received_row(**values) -> dict:
    """A complete row for store_batch, with the defaults the ORM would fill in."""
    now = utcnow()
    return {
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "received_at": now,
        "last_error": "",
        "forwarded": False,
        **values,
    }


def _storable(text: str) -> str:
    # Reasons quote what senders sent; a lone surrogate or NUL there must not stop the write.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")[:2000]


def _held(row_id: int, lease_until: datetime):
    # The lease is the fencing token (models.claims): a worker whose lease ran out and whose
    # row another worker took since must not record anything.
    return (
        ReceivedActivity.id == row_id,
        ReceivedActivity.locked_until == lease_until,
        ReceivedActivity.state == "pending",
    )


async def finish(
    session: AsyncSession,
    row_id: int,
    *,
    lease_until: datetime,
    state: str,
    now: datetime,
    error: str = "",
) -> bool:
    """Mark a claimed activity done, ignored, rejected or failed, in the caller's transaction;
    False (nothing written) if the lease was lost."""
    result = await session.execute(
        update(ReceivedActivity)
        .where(*_held(row_id, lease_until))
        .values(state=state, processed_at=now, locked_until=None, last_error=_storable(error))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def postpone(
    session: AsyncSession,
    row_id: int,
    *,
    lease_until: datetime,
    attempts: int,
    next_attempt_at: datetime | None,
    error: str,
    now: datetime,
) -> bool:
    """Record a transient failure: retry at `next_attempt_at`, or give up when it is None
    (federation.retry.next_attempt decides); False (nothing written) if the lease was lost."""
    result = await session.execute(
        update(ReceivedActivity)
        .where(*_held(row_id, lease_until))
        .values(
            attempts=attempts,
            next_attempt_at=next_attempt_at or now,
            locked_until=None,
            last_error=_storable(error),
            state="pending" if next_attempt_at is not None else "failed",
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    """How many received activities are in each state."""
    query = select(ReceivedActivity.state, func.count()).group_by(ReceivedActivity.state)
    return {state: int(count) for state, count in await session.execute(query)}
