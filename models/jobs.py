"""Durable scheduled jobs: work due at a time (a reminder, a batched poll update).

A job is a row, never an in-memory timer, so it survives restarts and is shared by every
worker process: workers lease due rows with models.claims.claim_due and finish them fenced by
their lease. A job has an optional unique `key` so that rescheduling it moves the one row.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, insert, select, text, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, synonym

from models.base import Base, BigId, UTCDateTime, utcnow
from models.claims import claim_due
from models.upsert import dialect_insert

PENDING, DONE, FAILED, CANCELLED = "pending", "done", "failed", "cancelled"
_ERROR_LIMIT = 1000


class Job(Base):
    """A unit of work due at `run_at`, leased by one worker at a time."""

    __tablename__ = "scheduled_jobs"
    __table_args__ = (
        Index(
            "ix_scheduled_jobs_pending",
            "run_at",
            "id",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str | None] = mapped_column(String(255), unique=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    event_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # claim_due reads `next_attempt_at`, the name every other queue uses.
    next_attempt_at = synonym("run_at")

    @property
    def data(self) -> dict[str, Any]:
        """The decoded payload."""
        return json.loads(self.payload or "{}")


def by_ids(ids: list[int]):
    """The jobs with these ids (a SELECT to run)."""
    return select(Job).where(Job.id.in_(ids))


async def get_job(session: AsyncSession, key: str) -> Job | None:
    """The job with this key, in whatever state."""
    return await session.scalar(select(Job).where(Job.key == key))


async def schedule(
    session: AsyncSession,
    *,
    kind: str,
    run_at: datetime,
    key: str | None = None,
    payload: dict[str, Any] | None = None,
    event_id: int | None = None,
) -> Job:
    """Add a pending job, or move the job with this key to `run_at` (pending again, its payload
    kept unless a new one is given); no commit."""
    if key is None:
        job = Job(kind=kind, event_id=event_id)
        session.add(job)
    else:
        job = await _keyed_row(session, key, kind=kind, run_at=run_at, event_id=event_id)
    job.kind = kind
    if payload is not None or job.payload is None:
        job.payload = json.dumps(payload or {}, sort_keys=True)
    job.run_at = run_at
    job.state = PENDING
    job.attempts = 0
    job.last_error = ""
    job.finished_at = None
    # A worker running the old schedule loses its lease, so it cannot mark this one done.
    job.locked_until = None
    await session.flush()
    return job


async def _keyed_row(
    session: AsyncSession, key: str, *, kind: str, run_at: datetime, event_id: int | None
) -> Job:
    """The row with this key, inserted if missing.

    Two processes may schedule the same key at once (two workers starting together): the loser's
    INSERT waits for the winner's commit and then does nothing, so neither fails.
    """
    job = await get_job(session, key)
    if job is not None:
        return job
    statement = dialect_insert(session)(Job).values(
        kind=kind,
        key=key,
        run_at=run_at,
        event_id=event_id,
        payload="{}",
        state=PENDING,
        attempts=0,
        last_error="",
        created_at=utcnow(),
    )
    await session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))
    return await session.scalar(
        select(Job).where(Job.key == key).execution_options(populate_existing=True)
    )


async def add_many(
    session: AsyncSession, *, kind: str, run_at: datetime, payloads: list[dict[str, Any]]
) -> None:
    """Add one pending job (without a key) per payload in one INSERT; no commit.

    Core, not ORM objects: a digest adds thousands of rows and must not keep them in memory.
    """
    if not payloads:
        return
    now = utcnow()
    rows = [
        {
            "kind": kind,
            "payload": json.dumps(payload, sort_keys=True),
            "run_at": run_at,
            "state": PENDING,
            "attempts": 0,
            "last_error": "",
            "created_at": now,
        }
        for payload in payloads
    ]
    await session.execute(insert(Job), rows)


async def cancel(session: AsyncSession, key: str, *, now: datetime | None = None) -> bool:
    """Cancel the pending job with this key; True if there was one."""
    result = await session.execute(
        update(Job)
        .where(Job.key == key, Job.state == PENDING)
        .values(state=CANCELLED, locked_until=None, finished_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)


async def claim(engine: AsyncEngine, *, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Lease up to `limit` due pending jobs; returns their ids."""
    return await claim_due(engine, Job, now=now, limit=limit, lease=lease)


async def mark_done(
    session: AsyncSession,
    job_id: int,
    *,
    lease_until: datetime,
    now: datetime,
    forget_payload: bool = False,
) -> bool:
    """Finish a job we still hold; False if it was rescheduled or cancelled meanwhile.

    `forget_payload` empties the payload (a sent mail's text, which may carry a link's token).
    """
    values: dict[str, Any] = {
        "state": DONE,
        "locked_until": None,
        "finished_at": now,
        "last_error": "",
    }
    if forget_payload:
        values["payload"] = "{}"
    result: CursorResult = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_until == lease_until, Job.state == PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def mark_failed(
    session: AsyncSession,
    job_id: int,
    *,
    lease_until: datetime,
    now: datetime,
    error: str,
    retry_at: datetime | None,
    forget_payload: bool = False,
) -> bool:
    """Record a failed attempt: due again at `retry_at`, or given up when it is None (then
    `forget_payload` empties the payload)."""
    values: dict[str, Any] = {
        "attempts": Job.attempts + 1,
        "locked_until": None,
        "last_error": error[:_ERROR_LIMIT],
    }
    if retry_at is None:
        values.update(state=FAILED, finished_at=now)
        if forget_payload:
            values["payload"] = "{}"
    else:
        values["run_at"] = retry_at
    result: CursorResult = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_until == lease_until, Job.state == PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)
