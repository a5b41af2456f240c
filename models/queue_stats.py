"""Figures about the three work queues and the hosts copnet cannot reach.

Read by `/metrics` at scrape time and by `copnet status`; both show the same numbers.
Each queue is one grouped query (its state index serves it), so a scrape costs three queries
and one for the circuit breakers, whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.instances import Instance
from models.jobs import Job
from models.outgoing import Delivery
from models.received import ReceivedActivity

PENDING = "pending"
BROKEN_HOSTS_SHOWN = 50


@dataclass(frozen=True)
class QueueFigures:
    """One queue: rows waiting, due now, leased by a worker, given up, and finished."""

    name: str
    pending: int = 0  # not finished: due now, leased, or waiting for a retry time
    due: int = 0  # pending and due now, not leased: the backlog
    leased: int = 0  # in a worker's hands right now
    failed: int = 0  # given up after the retries
    oldest_age: float | None = None  # seconds since the oldest pending row was queued
    finished: dict[str, int] = field(default_factory=dict)  # done, ignored, cancelled...


@dataclass(frozen=True)
class BrokenHost:
    """A remote host whose circuit breaker is open: deliveries to it wait."""

    domain: str
    consecutive_failures: int
    unreachable_until: datetime
    pending_deliveries: int


@dataclass(frozen=True)
class BreakerFigures:
    """Hosts with an open breaker (the first few, longest closed last) and their number."""

    open_count: int
    hosts: list[BrokenHost]


# queue name -> (model, the column a row's age counts from)
_QUEUES = {
    "intake": (ReceivedActivity, ReceivedActivity.received_at),
    "delivery": (Delivery, Delivery.created_at),
    "jobs": (Job, Job.run_at),
}


async def queue_figures(session: AsyncSession, now: datetime) -> list[QueueFigures]:
    """Figures for the intake, delivery and jobs queues, in that order."""
    return [
        await _figures(session, name, model, since, now) for name, (model, since) in _QUEUES.items()
    ]


async def _figures(session: AsyncSession, name: str, model, since, now: datetime) -> QueueFigures:
    leased = and_(model.locked_until.is_not(None), model.locked_until > now)
    due = and_(model.next_attempt_at <= now, ~leased)
    if model is Job:
        # A job is queued for its run time, not its creation: only a due job can be late.
        since_due = case((model.run_at <= now, since))
    else:
        since_due = since
    # Counting by state alone lets the (state, ...) index answer; the finer figures are
    # computed over pending rows only, however many finished rows have piled up.
    by_state = select(model.state, func.count()).group_by(model.state)
    counts = {state: int(count) for state, count in await session.execute(by_state)}
    pending = counts.pop(PENDING, 0)
    failed = counts.pop("failed", 0)
    due_now = leased_now = 0
    oldest: datetime | None = None
    if pending:
        leased_count, due_count, oldest = (
            await session.execute(
                select(
                    func.sum(case((leased, 1), else_=0)),
                    func.sum(case((due, 1), else_=0)),
                    func.min(since_due),
                ).where(model.state == PENDING)
            )
        ).one()
        due_now, leased_now = int(due_count or 0), int(leased_count or 0)
    if isinstance(oldest, str):  # SQLite loses the column type inside CASE
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=now.tzinfo)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else None
    return QueueFigures(name, pending, due_now, leased_now, failed, age, counts)


async def breaker_figures(
    session: AsyncSession, now: datetime, *, shown: int = BROKEN_HOSTS_SHOWN
) -> BreakerFigures:
    """Hosts whose circuit breaker is open now, with their pending deliveries."""
    is_open = and_(
        Instance.unreachable_until.is_not(None),
        Instance.unreachable_until > now,
    )
    open_count = int(await session.scalar(select(func.count()).where(is_open)) or 0)
    rows = (
        await session.execute(
            select(Instance.domain, Instance.consecutive_failures, Instance.unreachable_until)
            .where(is_open)
            .order_by(Instance.unreachable_until, Instance.domain)
            .limit(shown)
        )
    ).all()
    pending = await _pending_by_host(session, [row.domain for row in rows])
    hosts = [
        BrokenHost(
            row.domain, row.consecutive_failures, row.unreachable_until, pending.get(row.domain, 0)
        )
        for row in rows
    ]
    return BreakerFigures(open_count, hosts)


async def _pending_by_host(session: AsyncSession, hosts: list[str]) -> dict[str, int]:
    if not hosts:
        return {}
    query = (
        select(Delivery.host, func.count())
        .where(Delivery.host.in_(hosts), Delivery.state == PENDING)
        .group_by(Delivery.host)
    )
    return {host: int(count) for host, count in await session.execute(query)}
