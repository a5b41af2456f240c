"""The retention job: a durable scheduled job that removes old finished queue rows.

One row (key "retention") in scheduled_jobs, shared by every worker process: whichever claims
it removes rows in small batches (models.retention), and rate-limit events older than a day,
before the job's own transaction opens, then schedules the next run: at once while old rows
remain, else an hour later. COPNET_RETENTION_DAYS says how long finished rows are kept (0 keeps
them for ever).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models import jobs
from models.base import utcnow
from models.rate_limits import purge_hits
from models.retention import purge_finished
from server.urls import Urls

RETENTION = "retention"
EVERY = timedelta(hours=1)
RATE_LIMIT_EVENTS = timedelta(days=1)
log = logging.getLogger(__name__)


def purger(
    engine: AsyncEngine,
    retention_days: int,
    *,
    pause: float = 0.02,
    budget: float = 10.0,
    clock: Callable[[], datetime] = utcnow,
):
    """The job's preparer: the batched removal, outside the job's transaction."""

    async def prepare(_payload: dict[str, Any]) -> dict[str, Any]:
        # Rate-limit events matter for an hour at most, whatever the retention period.
        await purge_hits(engine, before=clock().timestamp() - RATE_LIMIT_EVENTS.total_seconds())
        if retention_days <= 0:
            return {"more": False}
        cutoff = clock() - timedelta(days=retention_days)
        purged = await purge_finished(engine, cutoff=cutoff, pause=pause, budget_seconds=budget)
        if any(purged.removed.values()):
            log.info("retention removed %s (older than %s)", purged.removed, cutoff)
        return {"more": purged.more}

    return prepare


async def reschedule(session: AsyncSession, _urls: Urls, payload: dict[str, Any], now: datetime):
    """The job's handler: the next run, at once if old rows remain."""
    next_run = now if payload.get("more") else now + EVERY
    await jobs.schedule(session, kind=RETENTION, key=RETENTION, run_at=next_run)


async def ensure_scheduled(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """Make sure the retention job is pending (a worker process calls this as it starts)."""
    async with sessions.begin() as session:
        job = await jobs.get_job(session, RETENTION)
        if job is None or job.state != jobs.PENDING:
            await jobs.schedule(session, kind=RETENTION, key=RETENTION, run_at=now)
