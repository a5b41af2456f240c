"""When the recurring mail jobs run: a sweep every minute, digests at fixed UTC times.

Each recurring job is one keyed row that its handler moves to its next time; `ensure` (at worker
start) puts back any that is missing or was given up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from models import jobs

MAIL_NOTIFICATIONS = "mail.notifications"
MAIL_DAILY = "mail.digest.daily"
MAIL_WEEKLY = "mail.digest.weekly"
MAIL_NETWORK = "mail.digest.network"
SWEEP_EVERY = timedelta(minutes=1)
DIGEST_TIME = time(7, 0)  # UTC: before a morning shift starts in Europe
NETWORK_TIME = time(8, 0)
MONDAY = 0


def _next_at(now: datetime, at: time, weekday: int | None = None) -> datetime:
    moment = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    while moment <= now or (weekday is not None and moment.weekday() != weekday):
        moment += timedelta(days=1)
    return moment


NEXT_RUN: dict[str, Callable[[datetime], datetime]] = {
    MAIL_NOTIFICATIONS: lambda now: now + SWEEP_EVERY,
    MAIL_DAILY: lambda now: _next_at(now, DIGEST_TIME),
    MAIL_WEEKLY: lambda now: _next_at(now, DIGEST_TIME, MONDAY),
    MAIL_NETWORK: lambda now: _next_at(now, NETWORK_TIME, MONDAY),
}


async def again(session: AsyncSession, kind: str, now: datetime) -> None:
    """Move the recurring job `kind` to its next time, from the start."""
    await jobs.schedule(session, kind=kind, key=kind, run_at=NEXT_RUN[kind](now), payload={})


async def resume(session: AsyncSession, kind: str, now: datetime, payload: dict) -> None:
    """Run the recurring job `kind` again at once, carrying on from `payload` (the next batch)."""
    await jobs.schedule(session, kind=kind, key=kind, run_at=now, payload=payload)


async def ensure(session: AsyncSession, now: datetime) -> None:
    """Schedule every recurring mail job that is not pending (the caller commits)."""
    for kind in NEXT_RUN:
        job = await jobs.get_job(session, kind)
        if job is None or job.state != jobs.PENDING:
            await again(session, kind, now)
