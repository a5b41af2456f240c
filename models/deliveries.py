"""The outgoing delivery queue: enqueue a fan-out, claim due rows, record what happened.

An activity is serialised and digested once (`outgoing_activities`); each distinct target
inbox gets one `deliveries` row. Workers claim rows with a lease (models.claims), load them
grouped by activity so that a 10,000-inbox fan-out reads its body once, and record outcomes in
a few set-based statements. Per-host circuit breaker state lives in `instances`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import any_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from federation.content_digest import digest_sha256
from federation.origin import authority
from models.actors import Actor
from models.base import utcnow
from models.claims import claim_due
from models.instances import Instance
from models.outgoing import Delivery, OutgoingActivity
from models.upsert import dialect_insert

__all__ = [
    "DONE",
    "FAILED",
    "PENDING",
    "ActivityToSend",
    "ClaimedBatch",
    "DeliveryCounts",
    "DueDelivery",
    "HostState",
    "Outcome",
    "claim",
    "delivery_counts",
    "enqueue",
    "inbox_host",
    "load_claimed",
    "load_host_states",
    "mark_inboxes_gone",
    "postpone_host",
    "record_outcomes",
    "release",
    "save_host_states",
    "serialise",
]

log = logging.getLogger(__name__)

PENDING, DONE, FAILED = "pending", "done", "failed"
# Rows per INSERT/UPDATE statement: well under SQLite's and asyncpg's bind-parameter limits.
_CHUNK = 2000
_ERROR_LIMIT = 1000


async def _among(session: AsyncSession, column: Any, values: Iterable[Any]) -> Any:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`, whose text (and so its
    prepared statement) is the same for any number of values."""
    values = list(values)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def inbox_host(inbox_url: str) -> str | None:
    """The `host[:port]` of an http(s) inbox URL (the `instances` key), or None if unusable."""
    return authority(inbox_url)


def serialise(document: dict[str, Any]) -> str:
    """The exact JSON text sent to every inbox: compact, UTF-8 kept as is."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


async def enqueue(
    session: AsyncSession,
    *,
    actor_id: int,
    ap_id: str,
    type_: str,
    document: dict[str, Any],
    inboxes: Iterable[str],
    object_ap_id: str | None = None,
    in_outbox: bool = False,
    now: datetime | None = None,
) -> OutgoingActivity:
    """Store an activity once and one pending delivery per distinct inbox; does not commit."""
    now = now or utcnow()
    body = serialise(document)
    activity = OutgoingActivity(
        ap_id=ap_id,
        actor_id=actor_id,
        type=type_,
        object_ap_id=object_ap_id,
        in_outbox=in_outbox,
        body=body,
        digest=digest_sha256(body.encode("utf-8")),
        created_at=now,
    )
    session.add(activity)
    await session.flush()
    rows = _delivery_rows(activity.id, inboxes, now)
    for start in range(0, len(rows), _CHUNK):
        # Core executemany: no ORM identity bookkeeping for thousands of rows.
        await session.execute(insert(Delivery.__table__), rows[start : start + _CHUNK])
    return activity


def _delivery_rows(activity_id: int, inboxes: Iterable[str], now: datetime) -> list[dict]:
    rows = []
    for inbox_url in dict.fromkeys(i.strip() for i in inboxes if i):
        host = inbox_host(inbox_url)
        if host is None:
            log.warning("not delivering to unusable inbox URL %r", inbox_url)
            continue
        rows.append(
            {
                "activity_id": activity_id,
                "inbox_url": inbox_url,
                "host": host,
                "state": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "created_at": now,
            }
        )
    return rows


@dataclass(frozen=True, slots=True)
class ActivityToSend:
    """One activity's body and Digest, loaded once per batch, and its sending actor."""

    id: int
    body: bytes
    digest: str
    sender: Actor


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A claimed delivery row, pointing at its (shared) activity."""

    id: int
    inbox_url: str
    host: str
    attempts: int
    created_at: datetime
    activity: ActivityToSend


@dataclass(slots=True)
class HostState:
    """Circuit breaker state of one host, as stored in `instances`."""

    domain: str
    consecutive_failures: int = 0
    unreachable_until: datetime | None = None
    last_success_at: datetime | None = None


@dataclass
class ClaimedBatch:
    """Claimed rows with their activities and the breaker state of their hosts."""

    deliveries: list[DueDelivery]
    hosts: dict[str, HostState]
    lease_until: datetime
    activities: dict[int, ActivityToSend] = field(default_factory=dict)


async def claim(engine: AsyncEngine, *, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Lease up to `limit` due delivery rows; returns their ids."""
    return await claim_due(engine, Delivery, now=now, limit=limit, lease=lease)


async def load_claimed(
    session: AsyncSession, ids: Sequence[int], *, lease_until: datetime
) -> ClaimedBatch:
    """Load claimed rows, each distinct activity body once, senders and host breaker states."""
    rows = (
        await session.execute(
            select(
                Delivery.id,
                Delivery.activity_id,
                Delivery.inbox_url,
                Delivery.host,
                Delivery.attempts,
                Delivery.created_at,
            )
            .where(await _among(session, Delivery.id, ids), Delivery.locked_until == lease_until)
            .order_by(Delivery.id)
        )
    ).all()
    activities = await _load_activities(session, {row.activity_id for row in rows})
    deliveries = [
        DueDelivery(
            id=row.id,
            inbox_url=row.inbox_url,
            host=row.host,
            attempts=row.attempts,
            created_at=row.created_at,
            activity=activities[row.activity_id],
        )
        for row in rows
    ]
    hosts = await load_host_states(session, {row.host for row in rows})
    return ClaimedBatch(deliveries, hosts, lease_until, activities)


async def _load_activities(
    session: AsyncSession, activity_ids: set[int]
) -> dict[int, ActivityToSend]:
    if not activity_ids:
        return {}
    rows = (
        await session.execute(
            select(
                OutgoingActivity.id,
                OutgoingActivity.body,
                OutgoingActivity.digest,
                OutgoingActivity.actor_id,
            ).where(OutgoingActivity.id.in_(activity_ids))
        )
    ).all()
    senders = {
        actor.id: actor
        for actor in await session.scalars(
            select(Actor).where(Actor.id.in_({row.actor_id for row in rows}))
        )
    }
    return {
        row.id: ActivityToSend(row.id, row.body.encode("utf-8"), row.digest, senders[row.actor_id])
        for row in rows
    }


async def load_host_states(session: AsyncSession, hosts: Iterable[str]) -> dict[str, HostState]:
    """Breaker state for each host (a fresh, closed state for hosts never seen before)."""
    wanted = set(hosts)
    states = {host: HostState(host) for host in wanted}
    if not wanted:
        return states
    rows = await session.execute(
        select(
            Instance.domain,
            Instance.consecutive_failures,
            Instance.unreachable_until,
            Instance.last_success_at,
        ).where(await _among(session, Instance.domain, wanted))
    )
    for row in rows:
        states[row.domain] = HostState(
            row.domain, row.consecutive_failures, row.unreachable_until, row.last_success_at
        )
    return states


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to write back for one claimed row."""

    delivery_id: int
    state: str
    attempts: int
    next_attempt_at: datetime | None = None
    status: int | None = None
    error: str = ""

    @classmethod
    def done(cls, row: DueDelivery, status: int) -> Outcome:
        """The inbox accepted it."""
        return cls(row.id, DONE, row.attempts + 1, status=status)

    @classmethod
    def retry(cls, row: DueDelivery, at: datetime, status: int | None, error: str) -> Outcome:
        """Try again at `at`; this attempt counts."""
        return cls(row.id, PENDING, row.attempts + 1, at, status, error)

    @classmethod
    def failed(
        cls, row: DueDelivery, status: int | None, error: str, *, attempted: bool = True
    ) -> Outcome:
        """Never try again."""
        return cls(row.id, FAILED, row.attempts + int(attempted), None, status, error)

    @classmethod
    def postponed(cls, row: DueDelivery, until: datetime, reason: str) -> Outcome:
        """Not attempted (host breaker open); due again at `until`, attempts unchanged."""
        return cls(row.id, PENDING, row.attempts, until, None, reason)


_table = Delivery.__table__
_OUTCOME_UPDATE = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"))
    .where(_table.c.locked_until == bindparam("b_lease", type_=_table.c.locked_until.type))
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next", type_=_table.c.next_attempt_at.type),
        last_status=bindparam("b_status"),
        last_error=bindparam("b_error"),
        finished_at=bindparam("b_finished", type_=_table.c.finished_at.type),
        locked_until=None,
    )
)


async def record_outcomes(
    session: AsyncSession, outcomes: Sequence[Outcome], *, now: datetime, lease_until: datetime
) -> None:
    """Write outcomes of rows still leased to us (`locked_until == lease_until`); no commit."""
    table = _table
    connection = await session.connection()
    done_by_status: dict[int | None, list[int]] = {}
    others = []
    for outcome in outcomes:
        if outcome.state == DONE:
            done_by_status.setdefault(outcome.status, []).append(outcome.delivery_id)
        else:
            others.append(_outcome_params(outcome, now, lease_until))
    for status, ids in done_by_status.items():
        for start in range(0, len(ids), _CHUNK):
            await connection.execute(
                update(table)
                .where(await _among(session, table.c.id, ids[start : start + _CHUNK]))
                .where(table.c.locked_until == lease_until)
                .values(
                    state=DONE,
                    attempts=table.c.attempts + 1,
                    last_status=status,
                    last_error="",
                    finished_at=now,
                    locked_until=None,
                )
            )
    if others:
        await connection.execute(_OUTCOME_UPDATE, others)


def _outcome_params(outcome: Outcome, now: datetime, lease_until: datetime) -> dict[str, Any]:
    finished = outcome.state != PENDING
    return {
        "b_id": outcome.delivery_id,
        "b_lease": lease_until,
        "b_state": outcome.state,
        "b_attempts": outcome.attempts,
        # A finished row keeps a due time of `now`; only pending rows are ever claimed.
        "b_next": outcome.next_attempt_at or now,
        "b_status": outcome.status,
        "b_error": outcome.error[:_ERROR_LIMIT],
        "b_finished": now if finished else None,
    }


async def release(session: AsyncSession, ids: Sequence[int], *, lease_until: datetime) -> None:
    """Hand rows back unattempted (still due now) so any worker may claim them; no commit."""
    for start in range(0, len(ids), _CHUNK):
        await session.execute(
            update(Delivery)
            .where(await _among(session, Delivery.id, ids[start : start + _CHUNK]))
            .where(Delivery.locked_until == lease_until)
            .values(locked_until=None)
            .execution_options(synchronize_session=False)
        )


async def mark_inboxes_gone(session: AsyncSession, inbox_urls: Iterable[str]) -> int:
    """Flag remote actors whose inbox answered 410 Gone; returns how many; no commit."""
    urls = sorted(set(inbox_urls))
    if not urls:
        return 0
    result = await session.execute(
        update(Actor)
        .where(Actor.inbox_url.in_(urls), Actor.local_name.is_(None), Actor.gone.is_(False))
        .values(gone=True)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


async def save_host_states(session: AsyncSession, states: Iterable[HostState]) -> None:
    """Upsert breaker state for hosts into `instances`; no commit."""
    rows = [
        {
            "domain": state.domain,
            "consecutive_failures": state.consecutive_failures,
            "unreachable_until": state.unreachable_until,
            "last_success_at": state.last_success_at,
        }
        for state in states
    ]
    if not rows:
        return
    connection = await session.connection()
    statement = dialect_insert(connection)(Instance.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["domain"],
        set_={
            "consecutive_failures": statement.excluded.consecutive_failures,
            "unreachable_until": statement.excluded.unreachable_until,
            "last_success_at": func.coalesce(
                statement.excluded.last_success_at, Instance.__table__.c.last_success_at
            ),
        },
    )
    for start in range(0, len(rows), _CHUNK):
        await connection.execute(statement, rows[start : start + _CHUNK])


async def postpone_host(
    session: AsyncSession, host: str, *, until: datetime, now: datetime, reason: str
) -> int:
    """Move the unclaimed pending rows of a host whose breaker opened to `until`; no commit."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.host == host,
            Delivery.state == PENDING,
            Delivery.next_attempt_at < until,
            or_(Delivery.locked_until.is_(None), Delivery.locked_until < now),
        )
        .values(next_attempt_at=until, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """How many delivery rows are in each state."""

    pending: int = 0
    done: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        """All rows."""
        return self.pending + self.done + self.failed


async def delivery_counts(
    session: AsyncSession, *, activity_id: int | None = None
) -> DeliveryCounts:
    """Rows per state, for one activity or the whole queue."""
    query = select(Delivery.state, func.count()).group_by(Delivery.state)
    if activity_id is not None:
        query = query.where(Delivery.activity_id == activity_id)
    counts = {state: int(n) for state, n in await session.execute(query)}
    return DeliveryCounts(counts.get(PENDING, 0), counts.get(DONE, 0), counts.get(FAILED, 0))
